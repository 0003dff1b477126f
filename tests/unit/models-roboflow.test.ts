import { describe, expect, it } from 'vitest';
import { parseHubConfig, parsePreprocessorConfig, resolveHub } from '../../src/models/hub-registry.ts';
import { ModelLoadError, statusError, type RequestContext } from '../../src/models/model-errors.ts';
import { parseModelReference } from '../../src/models/model-spec.ts';
import { md5Hex } from '../../src/models/md5.ts';
import {
  classMapToNames,
  parseClassNames,
  parseEnvironment,
  parseInferenceConfig,
  parseOrtAnswer,
  pickOnnxPackage,
  resolveRoboflow,
} from '../../src/models/roboflow-api.ts';

const ctx: RequestContext = { service: 'Roboflow API', model: 'p/1', endpoint: 'https://api.roboflow.com/ort/p/1' };
const KEY = 'rf_unit_key_42';

describe('environment.json', () => {
  it('reads PREPROCESSING as an object or a JSON string', () => {
    const pre = { resize: { enabled: true, width: 640, height: 640, format: 'Fit (grey edges) in' }, 'static-crop': { enabled: true, x_min: 5, y_min: 10, x_max: 95, y_max: 80 } };
    for (const PREPROCESSING of [pre, JSON.stringify(pre)]) {
      expect(parseEnvironment({ PREPROCESSING, CLASS_MAP: { '0': 'a', '2': 'c' }, COLORS: { a: '#fff' } }, ctx)).toEqual({
        resize: 'letterbox',
        padGrey: 114,
        staticCrop: { xMin: 5, yMin: 10, xMax: 95, yMax: 80 },
        ignored: [],
        classNames: ['a', 'class_1', 'c'],
        colors: { a: '#fff' },
      });
    }
  });

  it('maps every resize format, and refuses the ones it cannot run', () => {
    const fmt = (format: string) => parseEnvironment({ PREPROCESSING: { resize: { enabled: true, format } } }, ctx);
    expect(fmt('Stretch to')).toMatchObject({ resize: 'stretch', padGrey: 0 });
    expect(fmt('Fit (black edges) in')).toMatchObject({ resize: 'letterbox', padGrey: 0 });
    expect(fmt('Fit (white edges) in')).toMatchObject({ resize: 'letterbox', padGrey: 255 });
    expect(() => fmt('Fill (with center crop) in')).toThrow('"p/1" resizes with "Fill (with center crop) in", which is not supported: expected "Stretch to" or "Fit (black|grey|white edges) in"');
    expect(parseEnvironment({ PREPROCESSING: { resize: { enabled: false, format: 'Fill (with center crop) in' } } }, ctx).resize).toBe('stretch');
    expect(parseEnvironment({}, ctx)).toMatchObject({ resize: 'stretch', staticCrop: undefined });
  });

  it('lists preprocessing it does not apply, and rejects malformed blocks', () => {
    expect(parseEnvironment({ PREPROCESSING: { grayscale: { enabled: true }, contrast: { enabled: false, type: 'x' } } }, ctx).ignored).toEqual(['grayscale']);
    expect(() => parseEnvironment({ PREPROCESSING: '{"resize": ' }, ctx)).toThrow('expected PREPROCESSING as an object or a JSON string, got a string that is not JSON');
    expect(() => parseEnvironment({ PREPROCESSING: { 'static-crop': { enabled: true, x_min: 50, x_max: 10, y_min: 0, y_max: 100 } } }, ctx)).toThrow('"static-crop" with x_min < x_max');
    expect(() => parseEnvironment([], ctx)).toThrow(ModelLoadError);
  });

  it('classMapToNames fills gaps', () => {
    expect(classMapToNames({ '1': 'b' })).toEqual(['class_0', 'b']);
    expect(classMapToNames('x')).toBeUndefined();
  });
});

describe('ORT answer', () => {
  it('needs {"ort": {"model": <absolute URL>}}', () => {
    expect(parseOrtAnswer({ ort: { model: 'https://s/w.onnx', environment: 'https://s/e.json', classes: ['a'], colors: { a: '#000' }, modelType: 'rfdetr-base' } }, ctx)).toMatchObject({
      modelUrl: 'https://s/w.onnx',
      classes: ['a'],
      modelType: 'rfdetr-base',
    });
    expect(() => parseOrtAnswer({ ort: { model: '/relative.onnx' } }, ctx)).toThrow('with an absolute "model" URL, got "model" is a string of 14 characters');
    expect(() => parseOrtAnswer({ error: 'x' }, ctx)).toThrow('got an object with keys error');
    expect(() => parseOrtAnswer({ ort: { model: 'https://s/w.onnx', classes: [1] } }, ctx)).toThrow('"classes" as strings');
  });
});

describe('weights registry', () => {
  const registry = (packages: unknown[]) => ({ modelMetadata: { type: 'external-model-metadata-v1', modelId: 'p/1', modelArchitecture: 'rfdetr-base', taskType: 'object-detection', modelPackages: packages } });
  const onnx = (quantization: string, id = quantization) => ({
    type: 'external-model-package-v1',
    packageId: id,
    packageManifest: { type: 'onnx-model-package-v1', backendType: 'onnx', quantization, staticBatchSize: 1 },
    packageFiles: [{ fileHandle: 'weights.onnx', downloadUrl: `https://s/${id}.onnx`, md5Hash: 'A'.repeat(32) }],
  });

  it('picks the ONNX package of the requested quantization, else fp32', () => {
    const json = registry([{ type: 'external-model-package-v1', packageId: 'trt', packageManifest: { type: 'trt-model-package-v1' }, packageFiles: [] }, onnx('fp32'), onnx('fp16'), onnx('int8')]);
    expect(pickOnnxPackage(json, 'fp16', ctx).packageId).toBe('fp16');
    expect(pickOnnxPackage(json, 'q8', ctx).packageId).toBe('int8');
    expect(pickOnnxPackage(registry([onnx('fp32')]), 'fp16', ctx)).toMatchObject({ packageId: 'fp32', fallbackFrom: 'fp16', files: [{ md5Hash: 'a'.repeat(32) }] });
    expect(() => pickOnnxPackage(registry([]), 'fp32', ctx)).toThrow('has no ONNX package for "p/1"');
  });

  it('reads inference_config.json, converting any scaling to mean/std for 0..1 pixels', () => {
    const config = parseInferenceConfig(
      {
        network_input: { training_input_size: { height: 560, width: 560 }, color_mode: 'rgb', resize_mode: 'letterbox', padding_value: 127, scaling_factor: 255, normalization: [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]] },
        image_pre_processing: { 'static-crop': { enabled: true, x_min: 0, y_min: 0, x_max: 50, y_max: 50 } },
      },
      ctx,
    );
    expect(config).toMatchObject({ inputSize: 560, resize: 'letterbox', padGrey: 127, staticCrop: { xMin: 0, yMin: 0, xMax: 50, yMax: 50 } });
    expect(config.mean.map((v) => +v.toFixed(6))).toEqual([0.485, 0.456, 0.406]);
    // No scaling: the network wants raw 0..255 pixels, so (p/255 − 0)/(1/255).
    const raw = parseInferenceConfig({ network_input: { resize_mode: 'stretch' } }, ctx);
    expect(raw.mean).toEqual([0, 0, 0]);
    expect(raw.std.map((v) => +v.toFixed(8))).toEqual([1 / 255, 1 / 255, 1 / 255].map((v) => +v.toFixed(8)));
    expect(() => parseInferenceConfig({ network_input: { color_mode: 'bgr' } }, ctx)).toThrow('expects bgr input: expected color_mode "rgb"');
    expect(() => parseInferenceConfig({ network_input: { resize_mode: 'center-crop' } }, ctx)).toThrow('resize_mode "center-crop", which is not supported');
  });

  it('class_names.txt is one name per line', () => {
    expect(parseClassNames('a\r\nb\n\n c \n')).toEqual(['a', 'b', 'c']);
  });
});

/** A fetch that answers from a table of URL prefixes and records requests. */
function tableFetch(table: Record<string, () => Response>) {
  const requests: { url: string; headers: Headers }[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    requests.push({ url, headers: new Headers(init?.headers) });
    const key = Object.keys(table).find((k) => url.startsWith(k));
    return key ? table[key]!() : new Response('{"error": "no"}', { status: 404 });
  }) as typeof fetch;
  return { fetch: f, requests };
}

const json = (value: unknown, status = 200) => () => new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json' } });

describe('resolveRoboflow', () => {
  const p = parseModelReference('rfdetr-nano', { apiKey: KEY, apiUrl: 'http://api' });
  if (p.kind !== 'roboflow') throw new Error('expected roboflow');

  it('calls the ORT endpoint with the documented query, then environment.json', async () => {
    const fake = tableFetch({
      'http://api/ort/coco/38': json({ ort: { type: 'object-detection', model: 'https://cdn/w.onnx?X-Goog-Signature=zz', environment: 'https://cdn/env.json', classes: ['x'], modelType: 'rfdetr-nano' } }),
      'https://cdn/env.json': json({ PREPROCESSING: { resize: { enabled: true, format: 'Fit (white edges) in' } } }),
    });
    const resolved = await resolveRoboflow(p, { apiKey: KEY, fetch: fake.fetch });
    const ort = new URL(fake.requests[0]!.url);
    expect(Object.fromEntries(ort.searchParams)).toEqual({ nocache: 'true', device: 'framewise-browser', dynamic: 'true', api_key: KEY });
    expect(resolved.spec).toMatchObject({ id: 'roboflow:http://api/coco/38', url: 'https://cdn/w.onnx', classNames: ['x'], resize: 'letterbox', padGrey: 255 });
    expect(resolved.download).toEqual({ url: 'https://cdn/w.onnx?X-Goog-Signature=zz', cacheKey: 'https://cdn/w.onnx#coco/38', version: 'coco/38' });
    expect(JSON.stringify(resolved.spec)).not.toContain(KEY);
  });

  it('falls back to the weights registry with a Bearer header when the ORT endpoint answers 404, checking md5Hashes', async () => {
    const names = 'cat\ndog';
    const config = JSON.stringify({ network_input: { training_input_size: { height: 384, width: 384 }, resize_mode: 'stretch', scaling_factor: 255, normalization: [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]] } });
    const fake = tableFetch({
      'http://api/models/v1/external/weights': json({
        modelMetadata: {
          modelArchitecture: 'rfdetr-nano',
          taskType: 'object-detection',
          modelPackages: [
            {
              type: 'external-model-package-v1',
              packageId: 'pk',
              packageManifest: { type: 'onnx-model-package-v1', quantization: 'fp32' },
              packageFiles: [
                { fileHandle: 'weights.onnx', downloadUrl: 'https://cdn/pk/weights.onnx', md5Hash: 'b'.repeat(32) },
                { fileHandle: 'class_names.txt', downloadUrl: 'https://cdn/pk/class_names.txt', md5Hash: md5Hex(new TextEncoder().encode(names)) },
                { fileHandle: 'inference_config.json', downloadUrl: 'https://cdn/pk/inference_config.json' },
              ],
            },
          ],
        },
      }),
      'https://cdn/pk/class_names.txt': () => new Response(names),
      'https://cdn/pk/inference_config.json': () => new Response(config),
    });
    const resolved = await resolveRoboflow(p, { apiKey: KEY, fetch: fake.fetch });
    expect(fake.requests.map((r) => r.url.split('?')[0])).toEqual(['http://api/ort/coco/38', 'http://api/models/v1/external/weights', 'https://cdn/pk/class_names.txt', 'https://cdn/pk/inference_config.json']);
    expect(fake.requests[1]!.headers.get('Authorization')).toBe(`Bearer ${KEY}`);
    expect(fake.requests[1]!.url).toBe('http://api/models/v1/external/weights?modelId=coco%2F38');
    expect(resolved.spec).toMatchObject({ classNames: ['cat', 'dog'], inputSize: 384, mean: [0.5, 0.5, 0.5], dtype: 'fp32' });
    expect(resolved.download.md5).toBe('b'.repeat(32));
  });

  it('a class_names.txt whose md5 differs is an integrity error', async () => {
    const fake = tableFetch({
      'http://api/models/v1/external/weights': json({
        modelMetadata: {
          modelPackages: [
            {
              packageManifest: { type: 'onnx-model-package-v1' },
              packageFiles: [
                { fileHandle: 'weights.onnx', downloadUrl: 'https://cdn/w.onnx' },
                { fileHandle: 'class_names.txt', downloadUrl: 'https://cdn/n.txt', md5Hash: 'c'.repeat(32) },
              ],
            },
          ],
        },
      }),
      'https://cdn/n.txt': () => new Response('a'),
    });
    await expect(resolveRoboflow(p, { apiKey: KEY, fetch: fake.fetch })).rejects.toMatchObject({ code: 'integrity' });
  });

  it('maps 401, 403, 402, 423 without echoing the key, even when the server does', async () => {
    for (const [status, code] of [[401, 'unauthorized'], [403, 'forbidden'], [402, 'payment-required'], [423, 'usage-paused']] as const) {
      const fake = tableFetch({ 'http://api/ort/': json({ error: { message: `key ${KEY} is not allowed` } }, status) });
      const error = (await resolveRoboflow(p, { apiKey: KEY, fetch: fake.fetch }).catch((e: unknown) => e)) as ModelLoadError;
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(error.message).toContain(`HTTP ${status}`);
      expect(error.message).toContain('the server says: key *** is not allowed');
      expect(error.message).not.toContain(KEY);
    }
  });

  it('rejects models that are not RF-DETR object detectors', async () => {
    const fake = tableFetch({ 'http://api/ort/': json({ ort: { type: 'object-detection', model: 'https://cdn/w.onnx', modelType: 'yolov8n' } }) });
    await expect(resolveRoboflow(p, { apiKey: KEY, fetch: fake.fetch })).rejects.toThrow('"rfdetr-nano (coco/38)" is a yolov8n model: expected RF-DETR');
  });
});

describe('hub', () => {
  it('reads id2label and the preprocessor (size, mean, std, rescale)', () => {
    expect(parseHubConfig({ id2label: { '0': 'N/A', '2': 'bike' } })).toEqual({ classNames: ['N/A', 'class_1', 'bike'] });
    expect(parseHubConfig({})).toEqual({});
    expect(parsePreprocessorConfig({ size: { height: 560, width: 560 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.25, 0.25, 0.25], rescale_factor: 1 / 255 })).toEqual({
      inputSize: 560,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    });
    expect(parsePreprocessorConfig({ size: { height: 480, width: 640 }, do_normalize: false }).inputSize).toBeUndefined();
    expect(parsePreprocessorConfig({ size: { shortest_edge: 384 }, do_rescale: false, do_normalize: false })).toEqual({ inputSize: 384, mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] });
  });

  it('resolves the onnx-community layout; missing configs are optional', async () => {
    const p = parseModelReference('rfdetr-small', { hubUrl: 'http://hub', dtype: 'q8' });
    if (p.kind !== 'hub') throw new Error('expected hub');
    const fake = tableFetch({ 'http://hub/onnx-community/rfdetr_small-ONNX/resolve/main/config.json': json({ id2label: { '0': 'a' } }) });
    const resolved = await resolveHub(p, { fetch: fake.fetch });
    expect(fake.requests.map((r) => r.url)).toEqual([
      'http://hub/onnx-community/rfdetr_small-ONNX/resolve/main/config.json',
      'http://hub/onnx-community/rfdetr_small-ONNX/resolve/main/preprocessor_config.json',
    ]);
    expect(resolved.spec).toMatchObject({ source: 'hub', inputSize: 512, classNames: ['a'], dtype: 'q8', url: 'http://hub/onnx-community/rfdetr_small-ONNX/resolve/main/onnx/model_quantized.onnx' });
    expect(resolved.download.cacheKey).toBe('http://hub/onnx-community/rfdetr_small-ONNX/resolve/main/onnx/model_quantized.onnx#main');
  });
});

describe('statusError', () => {
  it('names the status, the model and what was expected', () => {
    const hubCtx: RequestContext = { service: 'model hub', model: 'rfdetr-nano', endpoint: 'https://hub/x', expected: 'onnx/model.onnx in x' };
    expect(statusError(404, '', hubCtx).message).toBe('model hub (https://hub/x): HTTP 404 Not Found — unknown model "rfdetr-nano": expected onnx/model.onnx in x');
    expect(statusError(401, '', hubCtx).message).toContain('needs authentication: expected a public file');
    expect(statusError(500, 'Oops', { service: 'model server', model: 'm', endpoint: 'https://s/m.onnx' }).message).toBe('could not fetch the model at https://s/m.onnx: HTTP 500 Oops while loading "m"');
  });
});
