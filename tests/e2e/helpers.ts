/** Shared helpers for the browser tests: open the harness, run a pipeline, compare with ground truth. */
import { expect, type Page } from '@playwright/test';
import { groundTruth } from '../fixtures/ground-truth.ts';
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
