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

interface WorkflowProbe extends Probe {
  mode: string;
  workflowOutputs: Record<string, unknown> | null;
}

test('workflow mode runs the bundled line-counter example, draws the line and downloads the profile', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[console error] ${message.text()}`);
  });
  await page.goto('/demo/');
  await page.getByLabel('Backend').selectOption('wasm');
  await page.getByLabel('Mode', { exact: true }).selectOption('workflow');
  await expect(page.locator('#workflow-panel')).toBeVisible();
  await expect(page.getByLabel('Model', { exact: true })).toBeHidden();
  await expect(page.getByLabel('Specification', { exact: true })).toHaveValue('line-counter');
  const spec = JSON.parse(await page.locator('#workflow-spec').inputValue()) as { steps: { type: string }[] };
  expect(spec.steps.map((s) => s.type)).toContain('roboflow_core/line_counter_visualization@v1');
  await page.getByLabel('Profile each step').check();

  const wanted = async (frames: number) =>
    page.waitForFunction(
      (n) => {
        const d = (window as unknown as { __framewiseDemo?: WorkflowProbe }).__framewiseDemo;
        if (d?.error) throw new Error(`the demo shows an error: ${d.error}`);
        return d !== undefined && d.mode === 'workflow' && d.framesProcessed >= n && d.workflowOutputs !== null;
      },
      frames,
      { timeout: 120_000, polling: 100 },
    );
  await wanted(10);
  const outputs = await page.evaluate(() => (window as unknown as { __framewiseDemo: WorkflowProbe }).__framewiseDemo.workflowOutputs!);
  expect(Object.keys(outputs).sort()).toEqual(['count_in', 'count_out', 'image', 'tracked']);
  expect(typeof outputs.count_in).toBe('number');
  expect(outputs.image).toBe('image');
  await expect(page.locator('#workflow-outputs dt', { hasText: 'count_in' })).toBeVisible();

  // The line (x = 320, y 20…340, line_counter_visualization's default #5bb573, 3 px) is on the canvas.
  const [onLine, offLine] = await page.evaluate(() => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d')!;
    const green = (x: number) => {
      const data = ctx.getImageData(x, 20, 1, 320).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - 0x5b) <= 3 && Math.abs(data[i + 1]! - 0xb5) <= 3 && Math.abs(data[i + 2]! - 0x73) <= 3) n += 1;
      return n;
    };
    return [green(320), green(250)];
  });
  expect(onLine, 'line pixels in column 320').toBeGreaterThan(250);
  expect(offLine, 'line-coloured pixels in column 250').toBeLessThan(20);

  // The profile downloads as trace-event JSON with one event per step per frame.
  await expect(page.getByRole('button', { name: 'Download profile (JSON)' })).toBeEnabled();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download profile (JSON)' }).click()]);
  const trace = JSON.parse(await (await import('node:fs/promises')).readFile((await download.path())!, 'utf8')) as { traceEvents: { ph: string; name: string }[] };
  const complete = trace.traceEvents.filter((e) => e.ph === 'X');
  expect(new Set(complete.map((e) => e.name))).toEqual(new Set(['detect', 'tracker', 'counter', 'boxes', 'labels', 'line']));
  expect(complete.length % 6).toBe(0);
  expect(complete.length).toBeGreaterThanOrEqual(60);

  await page.screenshot({ path: 'test-results/demo-workflow.png', fullPage: true });
  await expect(page.locator('#error')).toBeHidden();
  expect(pageErrors).toEqual([]);
});

test('the demo lists cached models and deletes one', async ({ page }) => {
  await page.goto('/demo/');
  const list = page.locator('#cache-list li');
  await expect(list.filter({ hasText: 'colour-box-320.onnx' })).toHaveCount(1, { timeout: 60_000 });
  await list.filter({ hasText: 'colour-box-320.onnx' }).getByRole('button', { name: /Delete/ }).click();
  await expect(list.filter({ hasText: 'colour-box-320.onnx' })).toHaveCount(0);
  await expect(list.filter({ hasText: 'No cached models' })).toHaveCount(1);
});
