import { expect, test } from '@playwright/test';
import { COLOUR_BOX, GENERATED, expectMatchesGroundTruth, openHarness, runInPage } from './helpers.ts';

test.beforeEach(async ({ page }) => openHarness(page));

// SwiftShader runs WebGPU in software (about 50× slower than WASM): a few frames are enough.
test('WebGPU (SwiftShader) gives the same boxes within 2 px', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'webgpu', stopAfter: 6 });
  expect(result.error).toBeUndefined();
  expect(result.statuses.find((s) => s.eventType === 'BACKEND_SELECTED')?.message).toContain('webgpu');
  expect(result.predictions.slice(0, 6).map((p) => p.frame_id)).toEqual([1, 2, 3, 4, 5, 6]);
  expectMatchesGroundTruth(result);
});

test('backend "auto" picks WebGPU when an adapter exists', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'auto', stopAfter: 2 });
  expect(result.error).toBeUndefined();
  const selected = result.statuses.find((s) => s.eventType === 'BACKEND_SELECTED');
  expect(selected?.message).toContain('running on webgpu');
});
