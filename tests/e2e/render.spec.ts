import { expect, test } from '@playwright/test';
import { groundTruth } from '../fixtures/ground-truth.ts';
import { GENERATED, openHarness } from './helpers.ts';
import type { Harness } from './pages/harness.ts';

test.beforeEach(async ({ page }) => openHarness(page));

/** The box outline colour renderBoxes uses for a class id (default palette). */
const outline = async (page: import('@playwright/test').Page, classId: number) =>
  page.evaluate((id) => (window as unknown as { harness: Harness }).harness.framewise.defaultColorFor(id), classId);

test('renderBoxes tiles two sources side by side, each box in its own tile', async ({ page }) => {
  const personColour = await outline(page, 1);
  const pixels = await page.evaluate(async (g) => {
    const { framewise } = (window as unknown as { harness: Harness }).harness;
    const canvas = document.createElement('canvas');
    const draw = framewise.renderBoxes({ canvas, tiles: { sources: 2, columns: 2 }, lineWidth: 2 });
    let lastFrame = 0;
    const pipeline = framewise.InferencePipeline.init({
      modelId: { url: `${g}/colour-box-320.onnx` },
      videoReference: [`${g}/sample.mp4`, `${g}/sample.webm`],
      backend: 'wasm',
      onPrediction: (p, f) => {
        draw(p, f);
        if (p.source_id === 1 && p.frame_id === 10) {
          lastFrame = p.frame_id;
          void pipeline.terminate();
        }
      },
    });
    pipeline.start();
    await pipeline.join();
    const ctx = canvas.getContext('2d')!;
    return { width: canvas.width, height: canvas.height, lastFrame, data: Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data) };
  }, GENERATED);
  expect([pixels.width, pixels.height]).toEqual([1280, 360]);
  const at = (x: number, y: number) => pixels.data.slice((y * pixels.width + x) * 4, (y * pixels.width + x) * 4 + 3);
  const hex = (rgb: number[]) => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  // Source 1's frame 10 was drawn last into the right tile: the person's left edge, 640 px to the right.
  const person = groundTruth(pixels.lastFrame).boxes.find((b) => b.class === 'person')!;
  const midY = Math.round((person.y0 + person.y1) / 2);
  expect(hex(at(640 + person.x0, midY))).toBe(personColour);
  expect(hex(at(640 + person.x0 - 6, midY))).not.toBe(personColour);
});

test('renderBoxesInWorker draws in a worker on the transferred canvas', async ({ page }) => {
  const personColour = await outline(page, 1);
  await page.evaluate(async (g) => {
    const { framewise } = (window as unknown as { harness: Harness }).harness;
    const canvas = document.createElement('canvas');
    canvas.id = 'worker-canvas';
    document.body.append(canvas);
    const sink = framewise.renderBoxesInWorker({ canvas, lineWidth: 2, displayStatistics: true });
    const pipeline = framewise.InferencePipeline.init({
      modelId: { url: `${g}/colour-box-320.onnx` },
      videoReference: `${g}/sample.mp4`,
      backend: 'wasm',
      onPrediction: sink.onPrediction,
    });
    pipeline.start();
    await pipeline.join();
    sink.dispose();
  }, GENERATED);
  const person = groundTruth(60).boxes.find((b) => b.class === 'person')!;
  const point = { x: person.x0, y: Math.round((person.y0 + person.y1) / 2) };
  // The worker's last picture reaches the page's canvas on a later compositor frame: read until it is there.
  const readPixel = () =>
    page.evaluate(async ({ x, y }) => {
      const canvas = document.getElementById('worker-canvas') as HTMLCanvasElement;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const bitmap = await createImageBitmap(canvas);
      const copy = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = copy.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const [r, g, b] = ctx.getImageData(x, y, 1, 1).data;
      return { size: `${bitmap.width}x${bitmap.height}`, hex: `#${[r!, g!, b!].map((v) => v.toString(16).padStart(2, '0')).join('')}` };
    }, point);
  await expect.poll(readPixel, { timeout: 30_000 }).toEqual({ size: '640x360', hex: personColour });
});
