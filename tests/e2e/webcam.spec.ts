import { expect, test } from '@playwright/test';
import { COLOUR_BOX, bestGroundTruthError, openHarness, runInPage } from './helpers.ts';

test('the fake webcam gives boxes within 2 px of a ground-truth frame on every processed frame', async ({ page, context }) => {
  await context.grantPermissions(['camera']);
  await openHarness(page);
  const result = await runInPage(page, {
    modelId: COLOUR_BOX,
    videoReference: 0,
    videoSourceProperties: { frameWidth: 640, frameHeight: 360, fps: 30 },
    backend: 'wasm',
    stopAfter: 20,
  });
  expect(result.error).toBeUndefined();
  expect(result.predictions.length).toBeGreaterThanOrEqual(20);
  for (const p of result.predictions) {
    expect(p.image).toEqual({ width: 640, height: 360 });
    const boxes = [...p.predictions].sort((a, b) => a.class_id - b.class_id);
    expect(bestGroundTruthError(boxes), `frame ${p.frame_id}`).toBeLessThanOrEqual(2);
  }
  const ids = result.predictions.map((p) => p.frame_id);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(result.leakedFrames).toBe(0);
  expect(result.liveCameraTracks).toBe(0);
});

test('a denied webcam fails with a clear error through join() and a status event', async ({ page }) => {
  await openHarness(page); // no camera permission granted in this context
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: 0, backend: 'wasm' });
  expect(result.error?.name).toBe('SourceError');
  expect(result.error?.message).toMatch(/webcam 0: camera permission was denied/);
  expect(result.statuses.find((s) => s.eventType === 'SOURCE_ERROR')?.message).toMatch(/permission was denied/);
});

test('a live frame held through a long inference does not stall the camera (frames are copied out of its buffers)', async ({ page, context }) => {
  await context.grantPermissions(['camera']);
  await openHarness(page);
  // Holding the in-flight frame and the buffered one as the camera's own frames stalled Chromium's capture to
  // ~0.5 fps; with the in-flight frame copied, the camera keeps delivering while it is held.
  const result = await page.evaluate(
    () =>
      (window as unknown as { harness: { liveKeepsCapturing(r: { frames: number; capMs: number }): Promise<{ capturedWhileHeld: number; leakedFrames: number; error?: string }> } }).harness.liveKeepsCapturing({
        frames: 30,
        capMs: 20_000,
      }),
  );
  expect(result.error).toBeUndefined();
  expect(result.capturedWhileHeld).toBeGreaterThanOrEqual(30);
  expect(result.leakedFrames).toBe(0);
});
