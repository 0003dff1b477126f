import { describe, expect, it } from 'vitest';
import { checkModelReference, parseModelReference } from '../../src/models/model-spec.ts';
import { endpointOf, redactSecret, sanitizeUrl, scrubError, scrubValue } from '../../src/models/redaction.ts';

const KEY = 'rf_secret_key_123';
const base = 'http://app.example/page/index.html';

describe('parseModelReference', () => {
  it('an alias with an API key goes to Roboflow (coco/38 …), without one to the hub layout', () => {
    expect(parseModelReference('rfdetr-nano', { apiKey: KEY })).toMatchObject({ kind: 'roboflow', id: 'roboflow:https://api.roboflow.com/coco/38', dataset: 'coco', version: 38, reference: 'rfdetr-nano' });
    const ids = (['rfdetr-small', 'rfdetr-medium', 'rfdetr-base', 'rfdetr-large'] as const).map((a) => {
      const p = parseModelReference(a, { apiKey: KEY, apiUrl: 'http://127.0.0.1:1/' });
      return p.kind === 'roboflow' ? `${p.dataset}/${p.version}` : '';
    });
    expect(ids).toEqual(['coco/39', 'coco/40', 'coco/36', 'coco/50']);
    expect(parseModelReference('rfdetr-base')).toMatchObject({
      kind: 'hub',
      id: 'hub:https://huggingface.co/onnx-community/rfdetr_base-ONNX@main/onnx/model.onnx',
      repo: 'onnx-community/rfdetr_base-ONNX',
      file: 'onnx/model.onnx',
    });
    expect(parseModelReference('rfdetr-nano', { dtype: 'fp16', hubUrl: 'http://h/' })).toMatchObject({ file: 'onnx/model_fp16.onnx', hubUrl: 'http://h' });
    expect(parseModelReference('rfdetr-nano', { dtype: 'q8' })).toMatchObject({ file: 'onnx/model_quantized.onnx' });
  });

  it('dataset/version needs an API key and an integer version', () => {
    expect(parseModelReference('my-project/3', { apiKey: KEY, apiUrl: 'http://127.0.0.1:9/api' })).toMatchObject({ kind: 'roboflow', id: 'roboflow:http://127.0.0.1:9/api/my-project/3', dataset: 'my-project', version: 3 });
    expect(() => parseModelReference('my-project/3')).toThrow('modelId "my-project/3" is a Roboflow dataset/version and needs apiKey');
    expect(() => parseModelReference('my-project/v3', { apiKey: KEY })).toThrow('expected "dataset/version" with an integer version');
    expect(() => parseModelReference('rfdetr-huge')).toThrow('modelId "rfdetr-huge" is not a known model: expected one of rfdetr-nano, rfdetr-small, rfdetr-medium, rfdetr-base, rfdetr-large');
  });

  it('URL references resolve against the page, lose credentials in their identity, and carry version and hashes', () => {
    const p = parseModelReference({ url: 'models/m.onnx?api_key=abc&v=2', version: '7', sha256: 'A'.repeat(64) }, { baseUrl: base });
    expect(p).toMatchObject({ kind: 'url', url: 'http://app.example/page/models/m.onnx?api_key=abc&v=2', reference: 'http://app.example/page/models/m.onnx?v=2', id: 'url:http://app.example/page/models/m.onnx?v=2#7', sha256: 'a'.repeat(64) });
    expect(() => parseModelReference({ url: 'm.onnx', md5: 'xyz' }, { baseUrl: base })).toThrow('modelId.md5 must be 32 hex digits, got "xyz"');
    expect(() => parseModelReference({ url: 'm.onnx', resize: 'fill' as 'stretch' }, { baseUrl: base })).toThrow('modelId.resize must be "stretch" or "letterbox", got "fill"');
    expect(() => parseModelReference({ url: 'm.onnx', staticCrop: { xMin: 50, yMin: 0, xMax: 40, yMax: 100 } }, { baseUrl: base })).toThrow('modelId.staticCrop must be { xMin, yMin, xMax, yMax } in percent');
  });

  it('a data: URL is named by its length, not repeated', () => {
    const url = 'data:application/octet-stream;base64,AAAA';
    expect(parseModelReference({ url })).toMatchObject({ kind: 'url', url, reference: `data: URL (${url.length} characters)`, id: `url:data: URL (${url.length} characters)` });
  });

  it('bytes are a local model, never cached', () => {
    const data = new Uint8Array([1, 2, 3]);
    expect(parseModelReference({ data, name: 'x.onnx' })).toMatchObject({ kind: 'local', id: 'local:x.onnx:3', reference: 'x.onnx' });
    expect(parseModelReference(data.buffer)).toMatchObject({ kind: 'local', id: 'local:local model:3' });
    expect(() => parseModelReference({ data: 'nope' as unknown as Blob })).toThrow('modelId.data must be a Blob, File, ArrayBuffer or typed array');
  });

  it('checks options without ever printing the key', () => {
    expect(() => checkModelReference('rfdetr-nano', { apiKey: '' })).toThrow('apiKey must be a non-empty string, got an empty string');
    expect(() => checkModelReference('rfdetr-nano', { apiKey: 42 as unknown as string })).toThrow('apiKey must be a non-empty string, got number');
    expect(() => checkModelReference('rfdetr-nano', { apiUrl: 'ftp://x' })).toThrow('apiUrl must be an absolute http(s) URL, got "ftp://x/"');
    expect(() => checkModelReference('rfdetr-nano', { hubUrl: 'hub' })).toThrow('hubUrl must be an absolute http(s) URL, got "hub"');
    expect(() => checkModelReference('rfdetr-nano', { dtype: 'int4' as 'q8' })).toThrow('dtype must be one of fp32, fp16, q8, got "int4"');
    try {
      checkModelReference('nope', { apiKey: KEY });
    } catch (error) {
      expect((error as Error).message).not.toContain(KEY);
    }
  });
});

describe('redaction', () => {
  it('strips credentials and signatures from URLs, keeps the rest', () => {
    expect(sanitizeUrl('https://u:p@storage.example/m/weights.onnx?X-Goog-Signature=abc&X-Goog-Expires=60&api_key=k&v=3#frag')).toBe('https://storage.example/m/weights.onnx?v=3');
    expect(sanitizeUrl('https://x/m.onnx?token=t&sig=s&key=k&keep=1')).toBe('https://x/m.onnx?keep=1');
    expect(sanitizeUrl('https://x/m.onnx?whatever=SECRET1234', 'SECRET1234')).toBe('https://x/m.onnx');
    expect(endpointOf('https://x/a/b?api_key=k')).toBe('https://x/a/b');
  });

  it('scrubs the key from text, errors and payloads', () => {
    expect(redactSecret(`bad key ${KEY}!`, KEY)).toBe('bad key ***!');
    const error = scrubError(new Error(`server said ${KEY}`), KEY);
    expect(error.message).toBe('server said ***');
    expect(error.stack).not.toContain(KEY);
    expect(scrubValue({ a: [KEY, { b: `x${KEY}` }], n: 1 }, KEY)).toEqual({ a: ['***', { b: 'x***' }], n: 1 });
  });
});
