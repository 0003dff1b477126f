import { expect, test } from '@playwright/test';
import { FRAME_COUNT, groundTruth } from '../fixtures/ground-truth.ts';
import { COLOUR_BOX, openHarness, runInPage } from './helpers.ts';

/** The fake camera loops the Y4M at its own pace, so a grabbed frame's position in the file is unknown: find it. */
function bestGroundTruthError(boxes: { class: string; x: number; y: number; width: number; height: number }[]): number {
  let best = Infinity;
  for (let f = 1; f <= FRAME_COUNT; f++) {
    const truth = groundTruth(f).boxes;
    if (truth.length !== boxes.length || truth.some((t, i) => t.class !== boxes[i]!.class)) continue;
    const error = Math.max(
      ...truth.flatMap((t, i) => {
        const b = boxes[i]!;
        return [b.x - b.width / 2 - t.x0, b.y - b.height / 2 - t.y0, b.x + b.width / 2 - t.x1, b.y + b.height / 2 - t.y1].map(Math.abs);
      }),
    );
    best = Math.min(best, error);
  }
  return best;
}

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
