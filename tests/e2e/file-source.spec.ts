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
});
