import { expect, test } from '@playwright/test';
import { FRAME_COUNT, groundTruth } from '../fixtures/ground-truth.ts';
import type { Harness } from './pages/harness.ts';
import { GENERATED, openHarness } from './helpers.ts';

test('initWithCustomLogic hands every frame, in order, to onVideoFrame and its result to the sink', async ({ page }) => {
  await openHarness(page);
  // Probe the person's box centre on each frame: a right frame shows the person's red there.
  const probe = Object.fromEntries(
    Array.from({ length: FRAME_COUNT }, (_, i) => {
      const person = groundTruth(i + 1).boxes.find((b) => b.class === 'person')!;
      return [i + 1, [Math.round(person.x), Math.round(person.y)] as [number, number]];
    }),
  );
  const out = await page.evaluate((p) => (window as unknown as { harness: Harness }).harness.runCustomLogic({ videoReference: p.url, probe: p.probe }), {
    url: `${GENERATED}/sample.mp4`,
    probe,
  });
  expect(out.error).toBeUndefined();
  expect(out.results.map((r) => r.frameId)).toEqual(Array.from({ length: FRAME_COUNT }, (_, i) => i + 1));
  for (const r of out.results) {
    expect(r.width).toBe(640);
    const [red, green, blue] = r.rgb as [number, number, number];
    expect(red, `frame ${r.frameId}`).toBeGreaterThan(190);
    expect(green).toBeLessThan(70);
    expect(blue).toBeLessThan(70);
  }
});
