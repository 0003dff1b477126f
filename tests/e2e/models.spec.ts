/**
 * Models (issue 3): resolution through a local Roboflow-shaped API and a local hub-shaped server, the IndexedDB
 * cache (chunks, progress, resume, repair, quota, locks), error messages, and a search for the API key in
 * everything stored and logged. Real IndexedDB in Chromium; every server is on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { COCO_91_CLASSES } from '../../src/inference/coco-classes.ts';
import type { FramePredictions, StatusUpdate } from '../../src/index.ts';
import { sha256 } from '../fixtures/fixture-http.ts';
import { FRAME_COUNT, groundTruth } from '../fixtures/ground-truth.ts';
import { startHubServer, type HubServer } from '../fixtures/hub-server.ts';
import { startRoboflowServer, type RoboflowServer } from '../fixtures/roboflow-server.ts';
import type { CachedModelInfoJson, GetModelOutcome, JsonGetModelOptions, JsonReference, RunModelRequest, RunModelResult } from './pages/models-harness.ts';

const PAGE = '/tests/e2e/pages/models-harness.html';
const GENERATED = 'tests/fixtures/generated';
const VIDEO = `/${GENERATED}/sample.mp4`;
/** A key no other string in the test run contains. */
const API_KEY = 'rf_k3y_Zq7Vt9Lm2Px4Wn8';
const CHUNK = 8 * 1024 * 1024;

const colourBox = new Uint8Array(readFileSync(`${GENERATED}/colour-box-320.onnx`));
const colourBoxHub = new Uint8Array(readFileSync(`${GENERATED}/colour-box-320-hub.onnx`));

/**
 * A ≥100 MiB model that still runs: the colour-box ONNX followed by an unknown protobuf field (number 1000,
 * length-delimited) holding 105 MiB of pseudo-random bytes, which ONNX parsers skip.
 */
function bigModel(): Uint8Array {
  const pad = 105 * 1024 * 1024;
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const head = [...varint((1000 << 3) | 2), ...varint(pad)];
  const out = new Uint8Array(colourBox.length + head.length + pad);
  out.set(colourBox, 0);
  out.set(head, colourBox.length);
  const words = new Uint32Array(out.buffer, 0, Math.floor(out.length / 4));
  let x = 0x9e3779b9;
  const from = Math.ceil((colourBox.length + head.length) / 4);
  for (let i = from; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}
const big = bigModel();
const bigSha = sha256(big);

const cocoId2Label = Object.fromEntries(COCO_91_CLASSES.map((name, i) => [String(i), name ?? 'N/A']));
const preprocessor320 = {
  image_processor_type: 'RTDetrImageProcessor',
  do_resize: true,
  size: { height: 320, width: 320 },
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  do_pad: false,
};

/** 91 names where ids 1, 3 and 18 (the colour-box classes) get custom names. */
function customNames(names: Record<number, string>, prefix: string): string[] {
  return Array.from({ length: 91 }, (_, i) => names[i] ?? `${prefix}${i}`);
}

let roboflow: RoboflowServer;
let hub: HubServer;

// The Vite dev server reloads open pages when sources change or it discovers a dependency; in a tree other people
// edit while these tests run, that can destroy a page mid-test. One retry absorbs it; Playwright reports it as flaky.
test.describe.configure({ retries: 1 });

test.beforeAll(async ({ browser }, testInfo) => {
  // Warm the dev server up (transform the harness, the worker and their dependencies) before the first real test.
  const warm = await browser.newContext({ baseURL: testInfo.project.use.baseURL });
  const page = await warm.newPage();
  await page.goto(PAGE);
  await page.waitForFunction(() => document.title === 'models harness ready');
  await page.evaluate(
    (video) => (window as unknown as { models: Harness }).models.run!({ modelId: { url: '/tests/fixtures/generated/colour-box-320.onnx' }, videoReference: video, backend: 'wasm', stopAfter: 1 }),
    VIDEO,
  );
  await warm.close();

  roboflow = await startRoboflowServer({
    apiKey: API_KEY,
    projects: [
      { dataset: 'coco', version: 38, onnx: colourBox, modelType: 'rfdetr-nano' },
      {
        dataset: 'shapes',
        version: 2,
        onnx: colourBox,
        classes: customNames({ 1: 'pedestrian', 3: 'vehicle', 18: 'canine' }, 'unused_'),
        classMap: { '1': 'not-this-one' },
        colors: { pedestrian: '#ff0000', vehicle: '#00ff00' },
        preprocessing: {
          'auto-orient': { enabled: true },
          resize: { enabled: true, width: 320, height: 320, format: 'Fit (black edges) in' },
          'static-crop': { enabled: true, x_min: 10, y_min: 0, x_max: 90, y_max: 60 },
        },
        preprocessingAsString: true,
      },
      {
        dataset: 'registry',
        version: 5,
        onnx: colourBox,
        registryOnly: true,
        classNames: customNames({ 0: 'background', 1: 'red', 3: 'green', 18: 'blue' }, 'c'),
        inferenceConfig: {
          network_input: {
            training_input_size: { height: 320, width: 320 },
            dynamic_spatial_size_supported: false,
            color_mode: 'rgb',
            resize_mode: 'letterbox',
            padding_value: 114,
            input_channels: 3,
            scaling_factor: 255,
            normalization: [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
          },
        },
      },
      { dataset: 'badmd5', version: 1, onnx: colourBox, registryOnly: true, wrongMd5: true, inferenceConfig: { network_input: { resize_mode: 'stretch' } } },
      { dataset: 'denied', version: 1, onnx: colourBox, status: 403 },
      { dataset: 'broke', version: 1, onnx: colourBox, status: 402 },
      { dataset: 'paused', version: 1, onnx: colourBox, status: 423 },
      { dataset: 'centercrop', version: 1, onnx: colourBox, preprocessing: { resize: { enabled: true, width: 320, height: 320, format: 'Fill (with center crop) in' } } },
    ],
  });
  hub = await startHubServer([
    {
      repo: 'onnx-community/rfdetr_nano-ONNX',
      files: {
        'onnx/model.onnx': colourBoxHub,
        'onnx/model_fp16.onnx': colourBoxHub,
        'onnx/model_quantized.onnx': colourBoxHub,
        'config.json': { model_type: 'rf_detr', architectures: ['RFDetrForObjectDetection'], id2label: cocoId2Label },
        'preprocessor_config.json': preprocessor320,
      },
    },
    { repo: 'onnx-community/rfdetr_large-ONNX', files: { 'onnx/model.onnx': big, 'config.json': { id2label: cocoId2Label }, 'preprocessor_config.json': preprocessor320 } },
    { repo: 'onnx-community/rfdetr_medium-ONNX', wrongSha256: true, files: { 'onnx/model.onnx': colourBoxHub, 'preprocessor_config.json': preprocessor320 } },
    { repo: 'onnx-community/rfdetr_base-ONNX', redirect: true, files: { 'onnx/model.onnx': colourBoxHub, 'preprocessor_config.json': preprocessor320 } },
  ]);
});

test.afterAll(async () => {
  await roboflow?.close();
  await hub?.close();
});

/** Console lines of the current test's pages (checked for the API key). */
let consoleLines: string[] = [];

test.beforeEach(async ({ page }) => {
  roboflow.server.clearLog();
  hub.server.clearLog();
  roboflow.malformed = 'none';
  consoleLines = [];
  await open(page);
});

async function open(page: Page): Promise<void> {
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => document.title === 'models harness ready');
}

async function reload(page: Page): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => document.title === 'models harness ready');
}

type Harness = Record<string, (...args: unknown[]) => unknown>;
function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(({ name, args }) => (window as unknown as { models: Harness }).models[name]!(...args), { name, args }) as Promise<T>;
}
const getModel = (page: Page, reference: JsonReference, options: JsonGetModelOptions = {}) => call<GetModelOutcome>(page, 'getModel', reference, options);
const runModel = (page: Page, request: Omit<RunModelRequest, 'videoReference'> & { videoReference?: string }) =>
  call<RunModelResult>(page, 'run', { videoReference: VIDEO, backend: 'wasm', ...request });
const list = (page: Page) => call<CachedModelInfoJson[]>(page, 'list');
const cachedBytes = (page: Page, id: string) => call<{ sha256: string; size: number; chunkLengths: number[]; storedChunks: number; complete: boolean }>(page, 'cachedBytes', id);

const rf = { apiKey: API_KEY, get apiUrl() { return roboflow.url; } };

interface Box {
  class: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Every frame's detections equal `expected(frame)` (same classes in class-id order, edges within `tolerance` px). */
function expectBoxes(predictions: FramePredictions[], expected: (frame: number) => Box[] | undefined, tolerance: number): number {
  let checked = 0;
  for (const p of predictions) {
    const want = expected(p.frame_id);
    if (!want) continue;
    const got = [...p.predictions]
      .sort((a, b) => a.class_id - b.class_id)
      .map((d) => ({ class: d.class, x0: d.x - d.width / 2, y0: d.y - d.height / 2, x1: d.x + d.width / 2, y1: d.y + d.height / 2 }));
    expect(got.map((g) => g.class), `classes on frame ${p.frame_id}`).toEqual(want.map((w) => w.class));
    got.forEach((g, i) => {
      for (const k of ['x0', 'y0', 'x1', 'y1'] as const) {
        expect(Math.abs(g[k] - want[i]![k]), `${g.class} ${k} on frame ${p.frame_id}: got ${g[k].toFixed(1)}, want ${want[i]![k]}`).toBeLessThanOrEqual(tolerance);
      }
    });
    checked++;
  }
  return checked;
}

const truth = (frame: number): Box[] => groundTruth(frame).boxes.map((b) => ({ class: b.class, x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1 }));

function allFrames(result: RunModelResult): void {
  expect(result.error).toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(Array.from({ length: FRAME_COUNT }, (_, i) => i + 1));
}

const stages = (statuses: StatusUpdate[]) => statuses.map((s) => s.payload?.stage).filter(Boolean);

test.describe('resolution', () => {
  test('rfdetr-nano with an apiKey resolves through the ORT endpoint (coco/38) and the pipeline detects person, car and dog', async ({ page }) => {
    const result = await runModel(page, { modelId: 'rfdetr-nano', ...rf });
    allFrames(result);
    expect(expectBoxes(result.predictions, truth, 2)).toBe(FRAME_COUNT);
    const gets = roboflow.server.gets();
    expect(gets.map((r) => r.path)).toEqual(['/ort/coco/38', '/files/coco/38/environment.json', '/files/coco/38/weights.onnx']);
    expect(gets[0]!.query).toEqual({ nocache: 'true', device: 'framewise-browser', dynamic: 'true', api_key: API_KEY });
    expect(result.statuses.find((s) => s.eventType === 'MODEL_LOADED')?.message).toContain('input input 320×320');
  });

  test('dataset/version reads environment.json: classes win over CLASS_MAP, letterbox and static crop map boxes back to the frame', async ({ page }) => {
    const info = await getModel(page, 'shapes/2', rf);
    expect(info.error).toBeUndefined();
    const spec = info.info!.spec;
    expect(spec).toMatchObject({ id: `roboflow:${roboflow.url}/shapes/2`, reference: 'shapes/2', source: 'roboflow', resize: 'letterbox', padGrey: 0 });
    expect(spec.staticCrop).toEqual({ xMin: 10, yMin: 0, xMax: 90, yMax: 60 });
    expect(spec.classNames?.[1]).toBe('pedestrian');
    expect(spec.colors).toEqual({ pedestrian: '#ff0000', vehicle: '#00ff00' });

    const result = await runModel(page, { modelId: 'shapes/2', ...rf });
    allFrames(result);
    // The crop keeps x 64..576, y 0..216 of the 640×360 frame: the dog's lane (y 250..340) is outside it.
    const crop = { x0: 64, y0: 0, x1: 576, y1: 216 };
    const names: Record<string, string> = { person: 'pedestrian', car: 'vehicle', dog: 'canine' };
    const expected = (frame: number): Box[] | undefined => {
      const boxes: Box[] = [];
      for (const b of truth(frame)) {
        const c = { class: names[b.class]!, x0: Math.max(b.x0, crop.x0), y0: Math.max(b.y0, crop.y0), x1: Math.min(b.x1, crop.x1), y1: Math.min(b.y1, crop.y1) };
        const w = c.x1 - c.x0;
        const h = c.y1 - c.y0;
        if (w <= 0 || h <= 0) continue;
        if (w < 8 || h < 8) return undefined; // a sliver at the crop edge: skip the frame
        boxes.push(c);
      }
      return boxes;
    };
    // Letterboxed 512×216 → 320×135 (1.6 frame px per input px): a box edge may move by one input pixel.
    expect(expectBoxes(result.predictions, expected, 3)).toBeGreaterThan(40);
    expect(result.predictions.some((p) => p.predictions.some((d) => d.class === 'canine'))).toBe(false);
  });

  test('a dataset/version only the weights registry knows resolves with a Bearer header, inference_config.json and class_names.txt', async ({ page }) => {
    const result = await runModel(page, { modelId: 'registry/5', ...rf });
    allFrames(result);
    const names: Record<string, string> = { person: 'red', car: 'green', dog: 'blue' };
    expect(expectBoxes(result.predictions, (f) => truth(f).map((b) => ({ ...b, class: names[b.class]! })), 3)).toBe(FRAME_COUNT);
    const gets = roboflow.server.gets();
    expect(gets.map((r) => r.path)).toEqual([
      '/ort/registry/5',
      '/models/v1/external/weights',
      '/packages/registry/5/class_names.txt',
      '/packages/registry/5/inference_config.json',
      '/packages/registry/5/weights.onnx',
    ]);
    const registry = gets[1]!;
    expect(registry.authorization).toBe(`Bearer ${API_KEY}`);
    expect(registry.query).toEqual({ modelId: 'registry/5' });
    const info = await getModel(page, 'registry/5', rf);
    expect(info.info?.spec).toMatchObject({ resize: 'letterbox', padGrey: 114, inputSize: 320, dtype: 'fp32' });
    expect(info.info?.fromCache).toBe(true);
  });

  test('an alias without apiKey resolves to the hub layout: config.json, preprocessor_config.json, onnx/model.onnx', async ({ page }) => {
    const result = await runModel(page, { modelId: 'rfdetr-nano', hubUrl: hub.url });
    allFrames(result);
    expect(expectBoxes(result.predictions, truth, 2)).toBe(FRAME_COUNT);
    expect(hub.server.gets().map((r) => r.path)).toEqual([
      '/onnx-community/rfdetr_nano-ONNX/resolve/main/config.json',
      '/onnx-community/rfdetr_nano-ONNX/resolve/main/preprocessor_config.json',
      '/onnx-community/rfdetr_nano-ONNX/resolve/main/onnx/model.onnx',
    ]);
    expect(result.statuses.find((s) => s.eventType === 'MODEL_LOADED')?.message).toContain('pixel_values');
    const [entry] = await list(page);
    expect(entry).toMatchObject({ id: `hub:${hub.url}/onnx-community/rfdetr_nano-ONNX@main/onnx/model.onnx`, reference: 'rfdetr-nano', source: 'hub', complete: true, size: colourBoxHub.length, sha256: sha256(colourBoxHub) });
  });

  test('dtype picks the hub variant: q8 → model_quantized.onnx; fp16 falls back to fp32 with a warning unless WebGPU has shader-f16', async ({ page }) => {
    const q8 = await getModel(page, 'rfdetr-nano', { hubUrl: hub.url, dtype: 'q8' });
    expect(q8.error).toBeUndefined();
    expect(q8.info?.spec.dtype).toBe('q8');
    expect(hub.server.gets(/\.onnx$/).map((r) => r.path)).toEqual(['/onnx-community/rfdetr_nano-ONNX/resolve/main/onnx/model_quantized.onnx']);
    hub.server.clearLog();
    const hasF16 = await call<boolean>(page, 'shaderF16');
    const fp16 = await getModel(page, 'rfdetr-nano', { hubUrl: hub.url, dtype: 'fp16' });
    expect(fp16.error).toBeUndefined();
    const fallback = fp16.statuses.find((s) => s.payload?.stage === 'dtype-fallback');
    if (hasF16) {
      expect(fallback).toBeUndefined();
      expect(hub.server.gets(/\.onnx$/).map((r) => r.path)).toEqual(['/onnx-community/rfdetr_nano-ONNX/resolve/main/onnx/model_fp16.onnx']);
    } else {
      expect(fallback?.severity).toBe('warning');
      expect(fallback?.message).toContain(`dtype "fp16" needs WebGPU with the 'shader-f16' feature`);
      expect(fp16.info?.spec.dtype).toBe('fp32');
      expect(hub.server.gets(/\.onnx$/).map((r) => r.path)).toEqual(['/onnx-community/rfdetr_nano-ONNX/resolve/main/onnx/model.onnx']);
    }
    // The wasm backend never runs fp16.
    const wasm = await runModel(page, { modelId: 'rfdetr-nano', hubUrl: hub.url, dtype: 'fp16', stopAfter: 2 });
    expect(wasm.error).toBeUndefined();
    expect(wasm.statuses.find((s) => s.payload?.stage === 'dtype-fallback')?.message).toContain('the "wasm" backend runs fp32 only');
  });

  test('a hub redirect to a CDN is followed; a SHA-256 published in X-Linked-ETag that does not match fails with code integrity', async ({ page }) => {
    const redirected = await getModel(page, 'rfdetr-base', { hubUrl: hub.url });
    expect(redirected.error).toBeUndefined();
    expect(redirected.info?.sha256).toBe(sha256(colourBoxHub));
    expect(hub.server.gets(/cdn/)).toHaveLength(1);
    const bad = await getModel(page, 'rfdetr-medium', { hubUrl: hub.url });
    expect(bad.error).toMatchObject({ name: 'ModelError', code: 'integrity' });
    expect(bad.error?.message).toContain('does not match its published SHA-256 ' + 'f'.repeat(64));
    expect((await list(page)).map((e) => e.reference)).toEqual(['rfdetr-base']);
  });

  test('{ data: Blob } and a blob: URL run a local model without any cache entry', async ({ page }) => {
    const result = await runModel(page, { modelId: { dataUrl: `/${GENERATED}/colour-box-320.onnx`, name: 'my-model.onnx' } });
    allFrames(result);
    expect(expectBoxes(result.predictions, truth, 2)).toBe(FRAME_COUNT);
    expect(result.statuses.find((s) => s.payload?.stage === 'local')?.message).toContain('my-model.onnx from memory');
    const blobUrl = await runModel(page, { modelId: { blobUrlFrom: `/${GENERATED}/colour-box-320.onnx` }, stopAfter: 3 });
    expect(blobUrl.error).toBeUndefined();
    expect(blobUrl.predictions.length).toBeGreaterThanOrEqual(3);
    expect(await list(page)).toEqual([]);
  });
});

test.describe('cache', () => {
  test('progress events add up to the file size; a ≥100 MiB model is stored in 8 MiB chunks with persistent storage requested', async ({ page }) => {
    const started = Date.now();
    const outcome = await getModel(page, 'rfdetr-large', { hubUrl: hub.url });
    const downloadMs = Date.now() - started;
    expect(outcome.error).toBeUndefined();
    const { progress } = outcome;
    expect(progress[0]).toEqual({ loaded: 0, total: big.length });
    let sum = 0;
    for (let i = 1; i < progress.length; i++) {
      const step = progress[i]!.loaded - progress[i - 1]!.loaded;
      expect(step).toBeGreaterThanOrEqual(0);
      sum += step;
    }
    expect(sum).toBe(big.length);
    expect(progress.at(-1)).toEqual({ loaded: big.length, total: big.length });
    expect(outcome.info).toMatchObject({ size: big.length, sha256: bigSha, fromCache: false, cached: true });
    expect(stages(outcome.statuses)).toContain('persist');
    const stored = await cachedBytes(page, 'rfdetr-large');
    const chunks = Math.ceil(big.length / CHUNK);
    expect(stored.storedChunks).toBe(chunks);
    expect(stored.chunkLengths).toEqual([...Array<number>(chunks - 1).fill(CHUNK), big.length - (chunks - 1) * CHUNK]);
    expect(stored.sha256).toBe(bigSha);
    expect(hub.server.gets(/\.onnx$/)).toHaveLength(1);
    const again = Date.now();
    const hit = await getModel(page, 'rfdetr-large', { hubUrl: hub.url });
    const cachedMs = Date.now() - again;
    expect(hit.info).toMatchObject({ fromCache: true, sha256: bigSha });
    expect(hub.server.gets(/\.onnx$/)).toHaveLength(1);
    test.info().annotations.push({
      type: 'measured',
      description: `${big.length} bytes in ${chunks} chunks of ${CHUNK}; ${progress.length} progress events; download + store ${downloadMs} ms; verified cache read ${cachedMs} ms`,
    });
    console.log(`[measured] ${test.info().annotations.at(-1)!.description}`);
  });

  test('the second load makes zero requests: no API call, no model bytes', async ({ page }) => {
    const first = await runModel(page, { modelId: 'rfdetr-nano', ...rf, stopAfter: 3 });
    expect(first.error).toBeUndefined();
    expect(roboflow.server.gets(/weights\.onnx$/)).toHaveLength(1);
    await reload(page);
    roboflow.server.clearLog();
    const second = await runModel(page, { modelId: 'rfdetr-nano', ...rf });
    allFrames(second);
    expect(expectBoxes(second.predictions, truth, 2)).toBe(FRAME_COUNT);
    expect(roboflow.server.log).toEqual([]);
    expect(second.statuses.map((s) => s.eventType)).toContain('MODEL_CACHE_HIT');
    expect(second.progress).toEqual([{ loaded: colourBox.length, total: colourBox.length }]);
  });

  test('a download cut off halfway resumes with an HTTP Range request and the bytes are identical', async ({ page }) => {
    const path = hub.filePath('onnx-community/rfdetr_large-ONNX', 'onnx/model.onnx');
    const half = Math.floor(big.length / 2);
    hub.server.interrupt(path, half, 'cut');
    const outcome = await getModel(page, 'rfdetr-large', { hubUrl: hub.url });
    expect(outcome.error).toBeUndefined();
    const resumeAt = Math.floor(half / CHUNK) * CHUNK;
    const requests = hub.server.gets(path);
    expect(requests.map((r) => [r.range, r.status, r.interrupted])).toEqual([
      [undefined, 200, true],
      [`bytes=${resumeAt}-`, 206, false],
    ]);
    expect(requests[1]!.bytesSent).toBe(big.length - resumeAt);
    expect(outcome.statuses.find((s) => s.payload?.stage === 'retry')?.message).toContain(`retrying from byte ${resumeAt} with an HTTP Range request`);
    expect(outcome.info?.sha256).toBe(bigSha);
    expect((await cachedBytes(page, 'rfdetr-large')).sha256).toBe(bigSha);
    test.info().annotations.push({ type: 'measured', description: `cut at byte ${half}; resumed at ${resumeAt} (chunk boundary); second request sent ${big.length - resumeAt} bytes` });
    console.log(`[measured] ${test.info().annotations.at(-1)!.description}`);
  });

  test('a download interrupted by a page reload resumes from the stored chunks with Range on the next load', async ({ page }) => {
    const path = hub.filePath('onnx-community/rfdetr_large-ONNX', 'onnx/model.onnx');
    const stallAt = Math.floor(big.length * 0.6);
    hub.server.interrupt(path, stallAt, 'stall');
    const storedBeforeStall = Math.floor(stallAt / CHUNK) * CHUNK;
    await call(page, 'startGetModel', 'rfdetr-large', { hubUrl: hub.url });
    await expect.poll(async () => (await list(page))[0]?.storedBytes ?? 0, { timeout: 60_000 }).toBe(storedBeforeStall);
    await reload(page);
    const partial = (await list(page))[0]!;
    expect(partial).toMatchObject({ complete: false, storedBytes: storedBeforeStall, size: big.length });
    hub.server.clearLog();
    const outcome = await getModel(page, 'rfdetr-large', { hubUrl: hub.url });
    expect(outcome.error).toBeUndefined();
    expect(hub.server.gets(path).map((r) => [r.range, r.status])).toEqual([[`bytes=${storedBeforeStall}-`, 206]]);
    expect(outcome.progress[0]).toEqual({ loaded: storedBeforeStall, total: big.length });
    expect(outcome.progress.at(-1)).toEqual({ loaded: big.length, total: big.length });
    expect(stages(outcome.statuses)).toContain('resume');
    expect(outcome.info?.sha256).toBe(bigSha);
    expect((await cachedBytes(page, 'rfdetr-large')).sha256).toBe(bigSha);
  });

  test('a ≥100 MiB model (the colour-box ONNX plus a 105 MiB unknown protobuf field) downloads, caches and runs', async ({ page }) => {
    const result = await runModel(page, { modelId: 'rfdetr-large', hubUrl: hub.url, stopAfter: 5 });
    expect(result.error).toBeUndefined();
    expect(expectBoxes(result.predictions, truth, 2)).toBeGreaterThanOrEqual(5);
  });

  for (const mode of ['truncate', 'drop', 'flip'] as const) {
    test(`a ${mode === 'flip' ? 'corrupt' : 'truncated'} cache entry (${mode}) is detected, deleted and downloaded again, with a status event`, async ({ page }) => {
      const first = await runModel(page, { modelId: 'rfdetr-nano', ...rf, stopAfter: 2 });
      expect(first.error).toBeUndefined();
      await call(page, 'tamper', 'rfdetr-nano', mode);
      await reload(page);
      roboflow.server.clearLog();
      const second = await runModel(page, { modelId: 'rfdetr-nano', ...rf });
      allFrames(second);
      expect(expectBoxes(second.predictions, truth, 2)).toBe(FRAME_COUNT);
      const repair = second.statuses.find((s) => s.payload?.stage === 'cache-repair');
      expect(repair?.severity).toBe('warning');
      expect(repair?.message).toMatch(mode === 'flip' ? /is corrupt: its SHA-256 is .* instead of/ : /is truncated: chunk 1 of 1 (holds \d+ bytes instead of \d+|is missing)/);
      expect(repair?.message).toContain('deleted it and downloading it again');
      expect(roboflow.server.gets(/weights\.onnx$/)).toHaveLength(1);
      expect((await cachedBytes(page, 'rfdetr-nano')).sha256).toBe(sha256(colourBox));
    });
  }

  test('a forced quota failure (tiny quota through the DevTools protocol) still runs the model, with a warning event', async ({ page }) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: 16 * 1024 });
    const result = await runModel(page, { modelId: 'rfdetr-nano', ...rf });
    allFrames(result);
    expect(expectBoxes(result.predictions, truth, 2)).toBe(FRAME_COUNT);
    const warning = result.statuses.find((s) => s.payload?.stage === 'cache-quota');
    expect(warning?.severity).toBe('warning');
    expect(warning?.message).toContain('QuotaExceededError');
    expect(warning?.message).toContain('runs from the network bytes');
    expect((await list(page)).filter((e) => e.complete)).toEqual([]);
    // A large model hits the same error on its first chunk, and still loads.
    const large = await getModel(page, 'rfdetr-large', { hubUrl: hub.url });
    expect(large.error).toBeUndefined();
    expect(large.info).toMatchObject({ cached: false, fromCache: false, sha256: bigSha });
    expect(large.statuses.find((s) => s.payload?.stage === 'cache-quota')?.message).toContain('QuotaExceededError');
    expect((await list(page)).filter((e) => e.complete)).toEqual([]);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin });
  });

  test('a large model is checked against navigator.storage.estimate() before downloading: too little room skips the cache up front', async ({ page }) => {
    // Chromium's estimate() does not reflect a DevTools quota override, so the estimate itself is forced here.
    await page.evaluate(() => {
      navigator.storage.estimate = async () => ({ quota: 50 * 1024 * 1024, usage: 10 * 1024 * 1024 });
    });
    const large = await getModel(page, 'rfdetr-large', { hubUrl: hub.url });
    expect(large.error).toBeUndefined();
    expect(large.info).toMatchObject({ cached: false, fromCache: false, sha256: bigSha });
    const warning = large.statuses.find((s) => s.payload?.stage === 'cache-quota');
    expect(warning?.severity).toBe('warning');
    expect(warning?.message).toBe('not enough storage quota to cache rfdetr-large (105.1 MiB needed, 40.0 MiB free): it runs from the network bytes and will be downloaded again next time');
    expect(stages(large.statuses)).not.toContain('persist');
    expect(await list(page)).toEqual([]);
  });

  test('two tabs loading the same model at once download it once (Web Locks)', async ({ page, context }) => {
    const other = await context.newPage();
    await open(other);
    const [a, b] = await Promise.all([getModel(page, 'rfdetr-large', { hubUrl: hub.url }), getModel(other, 'rfdetr-large', { hubUrl: hub.url })]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(hub.server.gets(/model\.onnx$/)).toHaveLength(1);
    expect([a.info?.fromCache, b.info?.fromCache].sort()).toEqual([false, true]);
    expect(a.info?.sha256).toBe(bigSha);
    expect(b.info?.sha256).toBe(bigSha);
    const waited = [...a.statuses, ...b.statuses].find((s) => s.payload?.stage === 'lock-wait');
    const hit = [...a.statuses, ...b.statuses].find((s) => s.eventType === 'MODEL_CACHE_HIT');
    expect(waited !== undefined || hit !== undefined).toBe(true);
  });

  test('listCachedModels, deleteCachedModel and clearModelCache', async ({ page }) => {
    await getModel(page, 'rfdetr-nano', rf);
    await getModel(page, 'rfdetr-nano', { hubUrl: hub.url });
    const entries = await list(page);
    expect(entries.map((e) => [e.reference, e.source, e.complete]).sort()).toEqual([
      ['rfdetr-nano', 'hub', true],
      ['rfdetr-nano', 'roboflow', true],
    ]);
    const roboflowEntry = entries.find((e) => e.source === 'roboflow')!;
    expect(roboflowEntry.id).toBe(`roboflow:${roboflow.url}/coco/38`);
    expect(await call<boolean>(page, 'remove', roboflowEntry.id)).toBe(true);
    expect((await list(page)).map((e) => e.source)).toEqual(['hub']);
    expect(await call<boolean>(page, 'remove', 'no-such-model')).toBe(false);
    const dump = await call<{ records: number }>(page, 'dumpStorage', API_KEY);
    expect(dump.records).toBe(3); // the hub model's record, its file's record, its one chunk
    await call(page, 'clear');
    expect(await list(page)).toEqual([]);
    expect((await call<{ records: number }>(page, 'dumpStorage', API_KEY)).records).toBe(0);
  });
});

test.describe('errors', () => {
  const cases: [string, () => JsonGetModelOptions, JsonReference, string, RegExp][] = [
    ['401 bad key', () => ({ apiKey: 'rf_wrong_key_0000', apiUrl: roboflow.url }), 'coco/38', 'unauthorized', /Roboflow API \(http:\/\/127\.0\.0\.1:\d+\/ort\/coco\/38\): HTTP 401 Unauthorized — the API key was rejected for "coco\/38": expected a valid Roboflow API key in apiKey \(the key itself is never shown\); the server says: This API key does not exist \(or has been revoked\): \*\*\*$/],
    ['403 forbidden', () => rf, 'denied/1', 'forbidden', /HTTP 403 Forbidden — access to "denied\/1" is forbidden: expected an API key of a workspace that can use this model/],
    ['404 unknown model', () => rf, 'nothere/7', 'not-found', /HTTP 404 Not Found — unknown model "nothere\/7": expected an existing dataset\/version with a trained model.*\(models\/v1\/external\/weights does not list it either\)$/],
    ['402 payment', () => rf, 'broke/1', 'payment-required', /HTTP 402 Payment Required — payment required for "broke\/1": the workspace's plan or credits do not cover this request/],
    ['423 usage paused', () => rf, 'paused/1', 'usage-paused', /HTTP 423 Locked — usage is paused for "paused\/1"/],
    ['network down', () => ({ apiKey: API_KEY, apiUrl: 'http://127.0.0.1:9' }), 'rfdetr-small', 'network', /^could not reach the Roboflow API at http:\/\/127\.0\.0\.1:9\/ort\/coco\/39 for "rfdetr-small \(coco\/39\)": Failed to fetch \(network down, wrong apiUrl, or blocked by CORS\)$/],
    ['md5 mismatch', () => rf, 'badmd5/1', 'integrity', /does not match its published MD5 0{32}: the file is corrupt or was changed; it was not cached/],
    ['unsupported resize', () => rf, 'centercrop/1', 'unsupported', /"centercrop\/1" resizes with "Fill \(with center crop\) in", which is not supported: expected "Stretch to" or "Fit \(black\|grey\|white edges\) in"/],
    ['unknown hub repository', () => ({ hubUrl: hub.url }), 'rfdetr-small', 'not-found', /model hub \(http:\/\/127\.0\.0\.1:\d+\/onnx-community\/rfdetr_small-ONNX\/resolve\/main\/onnx\/model\.onnx\): HTTP 404 Not Found — unknown model "rfdetr-small": expected onnx\/model\.onnx in onnx-community\/rfdetr_small-ONNX/],
  ];
  for (const [name, options, reference, code, message] of cases) {
    test(`${name}: ${code}`, async ({ page }) => {
      const outcome = await getModel(page, reference, options());
      expect(outcome.error?.name).toBe('ModelError');
      expect(outcome.error?.code).toBe(code);
      expect(outcome.error?.message).toMatch(message);
      expect(outcome.error?.message).not.toContain(API_KEY);
      expect(outcome.error?.message).not.toContain('rf_wrong_key_0000');
    });
  }

  for (const [mode, message] of [
    ['not-json', /Roboflow API answered http:\/\/127\.0\.0\.1:\d+\/ort\/coco\/38 with a malformed response for "rfdetr-nano \(coco\/38\)": expected \{"ort": \{\.\.\.\}\} as JSON, got \d+ bytes that are not JSON/],
    ['no-ort', /malformed response .*expected \{"ort": \{"model": "<ONNX URL>", "environment": "<URL>", "classes": \[\.\.\.\]\}\}, got an object with keys model/],
    ['no-model', /malformed response .*with an absolute "model" URL, got "model" is undefined/],
    ['bad-environment', /environment\.json with a malformed response .*expected PREPROCESSING as an object or a JSON string, got a string that is not JSON/],
  ] as const) {
    test(`a malformed API response (${mode}) says what was expected`, async ({ page }) => {
      roboflow.malformed = mode;
      const outcome = await getModel(page, 'rfdetr-nano', rf);
      expect(outcome.error?.code).toBe('malformed');
      expect(outcome.error?.message).toMatch(message);
    });
  }

  test('a failing model fails the pipeline with the same message; malformed references throw TypeError at init', async ({ page }) => {
    const result = await runModel(page, { modelId: 'denied/1', ...rf });
    expect(result.error?.name).toBe('ModelError');
    expect(result.error?.message).toContain('HTTP 403 Forbidden');
    expect(result.statuses.find((s) => s.eventType === 'PIPELINE_ERROR')?.message).toContain('HTTP 403 Forbidden');
    const messages = await page.evaluate(() => {
      const { InferencePipeline } = (window as unknown as { models: { framewise: typeof import('../../src/index.ts') } }).models.framewise;
      const attempt = (f: () => unknown) => {
        try {
          f();
          return 'no error';
        } catch (error) {
          return `${(error as Error).name}: ${(error as Error).message}`;
        }
      };
      return [
        attempt(() => InferencePipeline.init({ modelId: 'my-project/3', videoReference: 'x.mp4' })),
        attempt(() => InferencePipeline.init({ modelId: 'my-project/three', videoReference: 'x.mp4', apiKey: 'k' })),
        attempt(() => InferencePipeline.init({ modelId: 'rfdetr-nano', videoReference: 'x.mp4', apiKey: '' })),
        attempt(() => InferencePipeline.init({ modelId: 'rfdetr-nano', videoReference: 'x.mp4', dtype: 'int4' as 'q8' })),
        attempt(() => InferencePipeline.init({ modelId: 'rfdetr-nano', videoReference: 'x.mp4', apiUrl: 'api.roboflow.com' })),
      ];
    });
    expect(messages).toEqual([
      'TypeError: modelId "my-project/3" is a Roboflow dataset/version and needs apiKey: pass your Roboflow API key, or use an RF-DETR alias or { url }',
      'TypeError: modelId "my-project/three" is not a valid Roboflow model id: expected "dataset/version" with an integer version, such as "my-project/3"',
      'TypeError: apiKey must be a non-empty string, got an empty string',
      'TypeError: dtype must be one of fp32, fp16, q8, got "int4"',
      'TypeError: apiUrl must be an absolute http(s) URL, got "api.roboflow.com"',
    ]);
  });
});

test('the API key appears nowhere in what is stored or logged', async ({ page }) => {
  const runs = [
    await runModel(page, { modelId: 'rfdetr-nano', ...rf, stopAfter: 2 }),
    await runModel(page, { modelId: 'shapes/2', ...rf, stopAfter: 2 }),
    await runModel(page, { modelId: 'registry/5', ...rf, stopAfter: 2 }),
    await runModel(page, { modelId: 'denied/1', ...rf }),
  ];
  const errors = [
    await getModel(page, 'coco/38', { apiKey: API_KEY, apiUrl: 'http://127.0.0.1:9' }),
    await getModel(page, 'nothere/1', rf),
    await getModel(page, 'badmd5/1', rf),
  ];
  await reload(page);
  runs.push(await runModel(page, { modelId: 'rfdetr-nano', ...rf, stopAfter: 2 }));
  expect(runs.filter((r) => !r.error)).toHaveLength(4);
  expect(roboflow.server.gets().some((r) => r.query.api_key === API_KEY)).toBe(true); // the key did travel (to the API only)
  const dump = await call<{ found: string[]; databases: string[]; records: number; binaryBytes: number; text: string }>(page, 'dumpStorage', API_KEY);
  expect(dump.databases).toContain('framewise-model-cache');
  expect(dump.records).toBeGreaterThanOrEqual(9); // 3 models × (model record, file record, chunk)
  expect(dump.found).toEqual([]);
  expect(dump.text).not.toContain(API_KEY);
  const logged = JSON.stringify({ runs, errors, list: await list(page) });
  expect(logged).toContain('MODEL_CACHE_HIT');
  expect(logged).not.toContain(API_KEY);
  expect(consoleLines.join('\n')).not.toContain(API_KEY);
});
