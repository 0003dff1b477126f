import { expect, test } from '@playwright/test';
import { FRAME_COUNT } from '../fixtures/ground-truth.ts';
import { COLOUR_BOX, GENERATED, openHarness, runInPage } from './helpers.ts';

test.beforeEach(async ({ page }) => openHarness(page));

test('an unreachable URL fails through join() and a status event, without hanging', async ({ page }) => {
  // Port 9 on loopback: nothing listens, the connection is refused at once.
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: 'http://127.0.0.1:9/missing.mp4', backend: 'wasm' });
  expect(result.error?.name).toBe('SourceError');
  expect(result.error?.message).toContain('http://127.0.0.1:9/missing.mp4');
  expect(result.statuses.find((s) => s.eventType === 'SOURCE_ERROR')?.message).toContain('missing.mp4');
  expect(result.predictions).toHaveLength(0);
});

test('a File that is not a video fails with a clear error', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: { file: `${GENERATED}/not-a-video.mp4` }, backend: 'wasm' });
  expect(result.error?.name).toBe('SourceError');
  expect(result.error?.message).toContain('not-a-video.mp4" is not a video in a format that can be demuxed');
});

test('a URL that is not a video falls back to a <video> element, says so, then fails clearly', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/not-a-video.mp4`, backend: 'wasm' });
  expect(result.statuses.find((s) => s.eventType === 'SOURCE_FALLBACK')?.message).toContain('<video> element');
  expect(result.error?.name).toBe('SourceError');
  expect(result.error?.message).toMatch(/cannot play it/);
});

test('a corrupt ONNX fails with a ModelError naming the model', async ({ page }) => {
  const result = await runInPage(page, { modelId: { url: `${GENERATED}/corrupt.onnx` }, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm' });
  expect(result.error?.name).toBe('ModelError');
  expect(result.error?.message).toMatch(/could not create a wasm session for .*corrupt\.onnx/);
  expect(result.statuses.find((s) => s.eventType === 'PIPELINE_ERROR')?.message).toContain('corrupt.onnx');
  expect(result.predictions).toHaveLength(0);
});

test('an ONNX that breaks RF-DETR\'s contract names what was expected', async ({ page }) => {
  const result = await runInPage(page, { modelId: { url: `${GENERATED}/wrong-contract.onnx` }, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm' });
  expect(result.error?.name).toBe('ModelError');
  expect(result.error?.message).toContain('model outputs [scores] do not match RF-DETR\'s contract');
  expect(result.error?.message).toContain('`dets` [1,Q,4] + `labels` [1,Q,C]');
});

test('a model URL that 404s fails with the status', async ({ page }) => {
  const result = await runInPage(page, { modelId: { url: `${GENERATED}/no-such-model.onnx` }, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm' });
  expect(result.error?.name).toBe('ModelError');
  expect(result.error?.message).toContain('HTTP 404');
});

test('with two sources where one fails, the other still finishes', async ({ page }) => {
  const result = await runInPage(page, {
    modelId: COLOUR_BOX,
    videoReference: [{ file: `${GENERATED}/not-a-video.mp4` }, `${GENERATED}/sample.mp4`],
    backend: 'wasm',
  });
  expect(result.predictions.filter((p) => p.source_id === 1)).toHaveLength(FRAME_COUNT);
  expect(result.predictions.filter((p) => p.source_id === 0)).toHaveLength(0);
  expect(result.error?.message).toContain('source 0:');
  expect(result.statuses.filter((s) => s.eventType === 'SOURCE_ERROR').map((s) => s.sourceId)).toEqual([0]);
});

test('a throwing sink gets a status event and the pipeline goes on', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', sinkThrowsOn: [3, 7] });
  expect(result.error).toBeUndefined();
  expect(result.predictions).toHaveLength(FRAME_COUNT);
  const sinkErrors = result.statuses.filter((s) => s.eventType === 'INFERENCE_RESULTS_DISPATCHING_ERROR');
  expect(sinkErrors.map((s) => s.message)).toEqual([
    'the sink threw on frame 3: sink failure on purpose at frame 3',
    'the sink threw on frame 7: sink failure on purpose at frame 7',
  ]);
});

test('malformed options throw a TypeError naming the option and the value', async ({ page }) => {
  const messages = await page.evaluate(() => {
    const { InferencePipeline } = (window as unknown as { harness: { framewise: typeof import('../../src/index.ts') } }).harness.framewise;
    const attempt = (f: () => unknown) => {
      try {
        f();
        return 'no error';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    const model = { url: '/m.onnx' };
    return [
      attempt(() => InferencePipeline.init({ modelId: model, videoReference: 'x.mp4', confidence: 2 })),
      attempt(() => InferencePipeline.init({ modelId: model, videoReference: 'x.mp4', backend: 'webgl' as 'wasm' })),
      attempt(() => InferencePipeline.init({ modelId: 'rfdetr-huge' as 'rfdetr-nano', videoReference: 'x.mp4' })),
      attempt(() => InferencePipeline.init({ modelId: model, videoReference: { nope: 1 } as unknown as string })),
      attempt(() => InferencePipeline.init({ modelId: model, videoReference: [], workers: 2 })),
    ];
  });
  expect(messages[0]).toBe('TypeError: confidence must be a number in [0, 1], got 2');
  expect(messages[1]).toBe('TypeError: backend must be one of auto, webgpu, wasm, got "webgl"');
  expect(messages[2]).toContain('TypeError: modelId "rfdetr-huge" is not a known model');
  expect(messages[3]).toContain('TypeError: videoReference must be a webcam index, a URL or device id string');
  expect(messages[4]).toBe('TypeError: videoReference is an empty list: expected at least one source');
});
