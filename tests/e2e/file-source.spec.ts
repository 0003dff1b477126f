import { expect, test } from '@playwright/test';
import { FRAME_COUNT } from '../fixtures/ground-truth.ts';
import { COLOUR_BOX, GENERATED, expectMatchesGroundTruth, openHarness, runInPage } from './helpers.ts';

const ALL_FRAME_IDS = Array.from({ length: FRAME_COUNT }, (_, i) => i + 1);

test.beforeEach(async ({ page }) => openHarness(page));

test('an MP4 by URL gives every frame in order with boxes within 2 px (WASM)', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm' });
  expect(result.error).toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expect(result.predictions.every((p) => p.source_id === 0 && p.image.width === 640 && p.image.height === 360)).toBe(true);
  expectMatchesGroundTruth(result);
  expect(result.leakedFrames).toBe(0);
  expect(result.statuses.find((s) => s.eventType === 'BACKEND_SELECTED')?.message).toContain('wasm');
  expect(result.statuses.map((s) => s.eventType)).toContain('PIPELINE_ENDED');
});

test('a VP9 WebM as a File gives every frame with boxes within 2 px, through the hub-named model', async ({ page }) => {
  const result = await runInPage(page, {
    modelId: { url: `${GENERATED}/colour-box-320-hub.onnx` },
    videoReference: { file: `${GENERATED}/sample.webm`, type: 'video/webm' },
    backend: 'wasm',
  });
  expect(result.error).toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expectMatchesGroundTruth(result);
  expect(result.statuses.find((s) => s.eventType === 'MODEL_LOADED')?.message).toContain('pixel_values');
});

test('an MP4 as a File gives every frame; the prediction format has the reference keys', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: { file: `${GENERATED}/sample.mp4` }, backend: 'wasm' });
  expect(result.error).toBeUndefined();
  expect(result.predictions).toHaveLength(FRAME_COUNT);
  const first = result.predictions[0]!;
  expect(Object.keys(first).sort()).toEqual(['frame_id', 'frame_timestamp', 'image', 'predictions', 'source_id']);
  expect(Object.keys(first.predictions[0]!).sort()).toEqual(['class', 'class_id', 'confidence', 'detection_id', 'height', 'width', 'x', 'y']);
  expect(first.predictions[0]!.detection_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(first.predictions.map((p) => p.confidence)).toEqual(first.predictions.map(() => 1 / (1 + Math.exp(-8))));
});

test('two workers keep frame order and every frame', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', workers: 2 });
  expect(result.error).toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expectMatchesGroundTruth(result);
  expect(result.statuses.find((s) => s.eventType === 'THREADING')?.message).toContain('2 worker(s)');
});

test("workers 'auto' measures 1×N threads against N×1 workers, keeps the faster, and remembers it", async ({ page }) => {
  const cores = await page.evaluate(() => Math.min(navigator.hardwareConcurrency || 1, 4));
  const first = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', workers: 'auto' });
  expect(first.error).toBeUndefined();
  expect(first.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expectMatchesGroundTruth(first);
  const layout = first.statuses.find((s) => s.eventType === 'WORKER_LAYOUT');
  expect(layout, 'a WORKER_LAYOUT event').toBeDefined();
  const payload = layout!.payload as { chosen: { workers: number; threads: number }; measured: { workers: number; threads: number; fps: number }[]; fromCache: boolean };
  expect(payload.fromCache).toBe(false);
  if (cores > 1) {
    expect(payload.measured.map((m) => [m.workers, m.threads])).toEqual([
      [1, cores],
      [cores, 1],
    ]);
    for (const m of payload.measured) expect(m.fps).toBeGreaterThan(0);
    const faster = payload.measured[1]!.fps > payload.measured[0]!.fps ? payload.measured[1]! : payload.measured[0]!;
    expect(payload.chosen).toEqual({ workers: faster.workers, threads: faster.threads });
  } else {
    expect(payload.chosen).toEqual({ workers: 1, threads: 1 });
  }
  expect(first.statuses.find((s) => s.eventType === 'THREADING')?.message).toContain(`${payload.chosen.workers} worker(s) × ${payload.chosen.threads} WASM thread(s)`);

  await page.reload();
  await page.waitForFunction(() => document.title === 'harness ready');
  const second = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', workers: 'auto', stopAfter: 3 });
  expect(second.error).toBeUndefined();
  const again = second.statuses.find((s) => s.eventType === 'WORKER_LAYOUT')!.payload as typeof payload;
  expect(again.chosen).toEqual(payload.chosen);
  expect(again.fromCache).toBe(cores > 1);

  // clearWorkerLayouts() forgets the choice: the next run measures again.
  await page.evaluate(() => (window as unknown as { harness: { framewise: { clearWorkerLayouts(): Promise<void> } } }).harness.framewise.clearWorkerLayouts());
  const third = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', workers: 'auto', stopAfter: 3 });
  expect(third.error).toBeUndefined();
  const measuredAgain = third.statuses.find((s) => s.eventType === 'WORKER_LAYOUT')!.payload as typeof payload;
  expect(measuredAgain.fromCache).toBe(false);
  expect(measuredAgain.measured).toHaveLength(cores > 1 ? 2 : 0);
});

test('two sources each get their own source_id and all their frames', async ({ page }) => {
  const result = await runInPage(page, {
    modelId: COLOUR_BOX,
    videoReference: [`${GENERATED}/sample.mp4`, `${GENERATED}/sample.webm`],
    backend: 'wasm',
  });
  expect(result.error).toBeUndefined();
  for (const sourceId of [0, 1]) {
    expect(result.predictions.filter((p) => p.source_id === sourceId).map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  }
  expectMatchesGroundTruth(result);
});

test('the second load of the same model fetches no model bytes', async ({ page }) => {
  const modelRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.onnx')) modelRequests.push(request.url());
  });
  const first = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', stopAfter: 3 });
  expect(first.error).toBeUndefined();
  expect(modelRequests).toHaveLength(1);
  await page.reload();
  await page.waitForFunction(() => document.title === 'harness ready');
  const second = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', stopAfter: 3 });
  expect(second.error).toBeUndefined();
  expect(modelRequests).toHaveLength(1);
  expect(second.statuses.map((s) => s.eventType)).toContain('MODEL_CACHE_HIT');
  expect(second.predictions.length).toBeGreaterThanOrEqual(3);
});

test('terminate() mid-run resolves join() and closes every frame', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', stopAfter: 5 });
  expect(result.error).toBeUndefined();
  expect(result.predictions.length).toBeGreaterThanOrEqual(5);
  expect(result.predictions.length).toBeLessThan(FRAME_COUNT);
  expect(result.statuses.map((s) => s.eventType)).toContain('PIPELINE_TERMINATED');
  expect(result.leakedFrames).toBe(0);
});
