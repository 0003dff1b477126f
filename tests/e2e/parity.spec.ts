/**
 * Parity: our worker's run + decode on the RF-DETR-Nano-shaped network equals onnxruntime-node on CPU followed by
 * an independent decode written in the test fixtures, on the same input tensor.
 */
import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeParityInput, referenceDecode, runReference } from '../fixtures/nano-reference.ts';
import { GENERATED, openHarness } from './helpers.ts';
import type { Harness } from './pages/harness.ts';

const FRAME = { width: 640, height: 360 };
const CONFIDENCE = 0.4;

for (const { backend, size, model } of [
  { backend: 'wasm', size: 384, model: 'rfdetr-nano-shaped.onnx' },
  // SwiftShader is far too slow for 16 GMAC: the reduced-input variant keeps every layer.
  { backend: 'webgpu', size: 128, model: 'rfdetr-nano-shaped-128.onnx' },
] as const) {
  test(`decoded predictions equal onnxruntime-node + an independent decode (${backend}, ${size}×${size})`, async ({ page }) => {
    test.setTimeout(300_000);
    const input = makeParityInput(size);
    const tensorFile = `parity-input-${size}.bin`;
    writeFileSync(join('tests/fixtures/generated', tensorFile), new Uint8Array(input.buffer));
    const ref = await runReference(join('tests/fixtures/generated', model), input, size);
    const expected = referenceDecode(ref.dets, ref.labels, 91, { confidence: CONFIDENCE, maxDetections: 300, imageWidth: FRAME.width, imageHeight: FRAME.height });
    expect(expected.length).toBeGreaterThan(5);

    await openHarness(page);
    const ours = await page.evaluate((r) => (window as unknown as { harness: Harness }).harness.runTensor(r), {
      modelUrl: `${GENERATED}/${model}`,
      tensorUrl: `${GENERATED}/${tensorFile}`,
      backend,
      frameWidth: FRAME.width,
      frameHeight: FRAME.height,
      confidence: CONFIDENCE,
    });
    expect(ours.backend).toBe(backend);
    expect(ours.predictions.map((p) => p.class_id)).toEqual(expected.map((e) => e.class_id));
    ours.predictions.forEach((p, i) => {
      const e = expected[i]!;
      for (const k of ['x', 'y', 'width', 'height'] as const) {
        expect(Math.abs(p[k] - e[k]) / Math.max(Math.abs(e[k]), 1e-6), `detection ${i} ${k}: ${p[k]} vs ${e[k]}`).toBeLessThanOrEqual(1e-3);
      }
      expect(Math.abs(p.confidence - e.confidence)).toBeLessThanOrEqual(1e-3);
    });
  });
}
