/** Shared helpers for the browser tests: open the harness, run a pipeline, compare with ground truth. */
import { expect, type Page } from '@playwright/test';
import { FRAME_COUNT, groundTruth } from '../fixtures/ground-truth.ts';
import type { Harness, RunRequest, RunResult } from './pages/harness.ts';

export const HARNESS = '/tests/e2e/pages/harness.html';
export const GENERATED = '/tests/fixtures/generated';
export const COLOUR_BOX = { url: `${GENERATED}/colour-box-320.onnx` };

export async function openHarness(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  await page.goto(HARNESS);
  await page.waitForFunction(() => document.title === 'harness ready');
}

export async function runInPage(page: Page, request: RunRequest): Promise<RunResult> {
  return page.evaluate((r) => (window as unknown as { harness: Harness }).harness.run(r), request);
}

/** Largest distance, in pixels, between any predicted box edge and the ground truth of its frame. */
export function expectMatchesGroundTruth(result: RunResult, tolerancePx = 2): void {
  for (const p of result.predictions) {
    const truth = groundTruth(p.frame_id);
    const got = p.predictions.map((d) => ({ class: d.class, class_id: d.class_id, x0: d.x - d.width / 2, y0: d.y - d.height / 2, x1: d.x + d.width / 2, y1: d.y + d.height / 2 }));
    got.sort((a, b) => a.class_id - b.class_id);
    expect(got.map((g) => g.class), `classes on frame ${p.frame_id}`).toEqual(truth.boxes.map((b) => b.class));
    got.forEach((g, i) => {
      const t = truth.boxes[i]!;
      for (const k of ['x0', 'y0', 'x1', 'y1'] as const) {
        expect(Math.abs(g[k] - t[k]), `${g.class} ${k} on frame ${p.frame_id}: got ${g[k].toFixed(2)}, truth ${t[k]}`).toBeLessThanOrEqual(tolerancePx);
      }
    });
  }
}

/**
 * Live sources (the fake webcam, a relayed camera) loop the fixture at their own pace, so a grabbed frame's
 * position in the file is unknown: find the ground-truth frame its boxes match best, and return that worst edge
 * error in pixels. Boxes must be sorted by class id.
 */
export function bestGroundTruthError(boxes: readonly { class: string; x: number; y: number; width: number; height: number }[]): number {
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
