/** The demo app: starts by itself on the bundled sample and model, draws boxes, restarts on a setting change, loops. */
import { expect, test, type Page } from '@playwright/test';
import { defaultColorFor } from '../../src/sinks/render-boxes-sink.ts';
import { CAR, FRAME_COUNT, PERSON } from '../fixtures/ground-truth.ts';

interface Probe {
  framesProcessed: number;
  lastPredictions: { predictions: { class: string; class_id: number }[] } | null;
  backend: string | null;
  starts: number;
  state: string;
  error: string | null;
}

async function probe(page: Page): Promise<Probe> {
  return page.evaluate(() => {
    const p = (window as unknown as { __framewiseDemo: Probe }).__framewiseDemo;
    return { framesProcessed: p.framesProcessed, lastPredictions: p.lastPredictions, backend: p.backend, starts: p.starts, state: p.state, error: p.error };
  });
}

interface Wanted {
  /** At least this many frames processed. */
  frames: number;
  /** More pipelines started than this. */
  startsAbove?: number;
  backend?: string;
}

/** Waits until the probe shows what is wanted; fails at once if the page shows an error. */
async function waitForProbe(page: Page, wanted: Wanted, timeout = 120_000): Promise<void> {
  await page.waitForFunction(
    (w) => {
      const d = (window as unknown as { __framewiseDemo?: Probe }).__framewiseDemo;
      if (!d) return false;
      if (d.error) throw new Error(`the demo shows an error: ${d.error}`);
      return d.framesProcessed >= w.frames && d.starts > (w.startsAbove ?? 0) && (w.backend === undefined || d.backend === w.backend);
    },
    wanted,
    { timeout, polling: 100 },
  );
}

function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** How many canvas pixels are within 3 levels of each colour. */
async function countCanvasColours(page: Page, colours: [number, number, number][]): Promise<number[]> {
  return page.evaluate((wanted) => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = wanted.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
      wanted.forEach(([r, g, b], k) => {
        if (Math.abs(data[i]! - r) <= 3 && Math.abs(data[i + 1]! - g) <= 3 && Math.abs(data[i + 2]! - b) <= 3) counts[k]! += 1;
      });
    }
    return counts;
  }, colours);
}

test('the demo detects the sample, draws the boxes, restarts on a backend change and loops', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[console error] ${message.text()}`);
  });

  await page.goto('/demo/');
  await expect(page.getByLabel('Source')).toHaveValue('sample');
  await expect(page.getByLabel('Loop video files')).toBeChecked();
  await expect(page.locator('#confidence-value')).toHaveText('0.40');

  // Starts by itself on the bundled sample and model.
  await waitForProbe(page, { frames: 10 });
  const first = await probe(page);
  const classes = first.lastPredictions!.predictions.map((p) => p.class);
  expect(classes).toContain('person');
  expect(classes).toContain('car');
  expect(first.backend === 'webgpu' || first.backend === 'wasm').toBe(true);
  await expect(page.locator('#stat-backend')).toHaveText(first.backend!);
  await expect(page.locator('#state')).toHaveText('running');

  // The canvas shows the frame with the boxes drawn in each class's colour (renderBoxes' default palette).
  const boxColours = [defaultColorFor(PERSON.class_id), defaultColorFor(CAR.class_id)].map(rgbOf);
  const [personPixels, carPixels] = await countCanvasColours(page, boxColours);
  expect(personPixels, 'pixels in the person box colour').toBeGreaterThan(100);
  expect(carPixels, 'pixels in the car box colour').toBeGreaterThan(100);
  // ...over the video itself: the rectangles' own colours are there too.
  const [personFill, carFill] = await countCanvasColours(page, [[...PERSON.color], [...CAR.color]]);
  expect(personFill + carFill, 'pixels of the video rectangles').toBeGreaterThan(1000);

  // The status log got the pipeline's events.
  await expect(page.locator('#log li', { hasText: 'BACKEND_SELECTED' }).first()).toBeVisible();

  // A backend change terminates the pipeline and starts a new one on WASM.
  await page.getByLabel('Backend').selectOption('wasm');
  await waitForProbe(page, { frames: 10, startsAbove: first.starts, backend: 'wasm' });
  await expect(page.locator('#stat-backend')).toHaveText('wasm');
  const afterSwitch = await probe(page);
  expect(afterSwitch.lastPredictions!.predictions.map((p) => p.class)).toEqual(expect.arrayContaining(['person', 'car']));

  // Looping: more frames than the sample has means the pipeline was restarted on the file when it ended.
  await waitForProbe(page, { frames: FRAME_COUNT + 5 });
  const looped = await probe(page);
  expect(looped.starts).toBeGreaterThan(afterSwitch.starts);
  expect(looped.backend).toBe('wasm');

  await expect(page.locator('#error')).toBeHidden();
  expect(pageErrors).toEqual([]);
  await page.screenshot({ path: 'test-results/demo.png', fullPage: true });
});
