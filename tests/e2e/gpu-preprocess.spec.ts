/**
 * The WebGPU frame path (src/inference/preprocess-gpu.ts) against the canvas path, in Chromium's WebGPU (SwiftShader).
 *
 * What "the same tensor" is checked against: a reference resize written in the harness (bilinear between texel
 * centres, half-pixel centres, edge texels of the source rectangle repeated, rounded to 8-bit levels, then the
 * workers' float32 normalisation). The GPU shader must equal it to 1e-5 in every case. The canvas path
 * (OffscreenCanvas drawImage) must equal both to 1e-5 wherever the canvas does not resample: 1:1 copies, letterbox
 * placement and padding, static crops, and the decoder's YUV frames (each path converting YUV → RGB itself).
 * Where the canvas resamples, its filter is Chromium's, not bilinear: VideoFrames are drawn with a mipmapped filter
 * when downscaling and images with coarse, truncated bilinear weights (seen here: 10× down, up to 55 levels from
 * bilinear; 1.6× up, up to 3 levels), and it differs between Skia back-ends, so those cases compare the canvas with
 * the reference only loosely (mean difference) and the GPU path with the reference exactly.
 *
 * Inputs are RGBA VideoFrames made from a decoded frame of sample.mp4 (both paths start from identical RGB values),
 * plus the decoder's own frame.
 *
 * Predictions: one frame through a WASM worker (canvas path, CPU outputs) and a WebGPU worker (GPU frame path: GPU
 * input, GPU outputs, GPU threshold filter and read-back) on the 128 px Nano-shaped network, at 1:1 scale so that
 * both tensors are equal, give the same detections; and two frames in flight at once on one GPU-path worker give what
 * they give one at a time.
 */
import { expect, test, type Page } from '@playwright/test';
import { GENERATED } from './helpers.ts';
import type { GpuHarness, PreprocessCase, PreprocessComparison } from './pages/gpu-harness.ts';

const PAGE = '/tests/e2e/pages/gpu-harness.html';

async function openGpuHarness(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => document.title === 'gpu harness ready');
}

function harness(page: Page) {
  return {
    comparePreprocess: (r: Parameters<GpuHarness['comparePreprocess']>[0]) =>
      page.evaluate((x) => (window as unknown as { gpuHarness: GpuHarness }).gpuHarness.comparePreprocess(x), r),
    compareFramePredictions: (r: Parameters<GpuHarness['compareFramePredictions']>[0]) =>
      page.evaluate((x) => (window as unknown as { gpuHarness: GpuHarness }).gpuHarness.compareFramePredictions(x), r),
    pipelinedFrames: (r: Parameters<GpuHarness['pipelinedFrames']>[0]) =>
      page.evaluate((x) => (window as unknown as { gpuHarness: GpuHarness }).gpuHarness.pipelinedFrames(x), r),
  };
}

test.beforeEach(async ({ page }) => openGpuHarness(page));

const MODEL_64 = `${GENERATED}/colour-box-64.onnx`;
const VIDEO = `${GENERATED}/sample.mp4`;
/** 64 × 64 pixels at the top left of a 640 × 360 frame. */
const CROP_64 = { xMin: 0, yMin: 0, xMax: 10, yMax: (64 / 360) * 100 };

/** The canvas does not resample in these: GPU = canvas = reference. */
const EXACT: PreprocessCase[] = [
  { name: '1:1 copy (64×64 frame → 64)', inputSize: 64, resize: 'stretch', padGrey: 0, source: 'rgba', frameSize: { width: 64, height: 64 } },
  { name: 'letterbox placement + padding (64×36 → 64, grey 114)', inputSize: 64, resize: 'letterbox', padGrey: 114, source: 'rgba', frameSize: { width: 64, height: 36 } },
  { name: 'letterbox, tall (40×64 → 64, grey 7)', inputSize: 64, resize: 'letterbox', padGrey: 7, source: 'rgba', frameSize: { width: 40, height: 64 } },
  { name: 'static crop 64×64 of 640×360 → 64', inputSize: 64, resize: 'stretch', padGrey: 0, source: 'rgba', staticCrop: CROP_64 },
  { name: 'decoded YUV frame, static crop 64×64 → 64', inputSize: 64, resize: 'stretch', padGrey: 0, source: 'decoded', staticCrop: CROP_64 },
];

/** The canvas resamples with its own filter: GPU = reference exactly; canvas ≈ reference. */
const RESAMPLED: PreprocessCase[] = [
  { name: 'stretch 640×360 → 64', inputSize: 64, resize: 'stretch', padGrey: 0, source: 'rgba' },
  { name: 'letterbox 640×360 → 64, grey 114', inputSize: 64, resize: 'letterbox', padGrey: 114, source: 'rgba' },
  { name: 'static crop + letterbox → 64', inputSize: 64, resize: 'letterbox', padGrey: 0, source: 'rgba', staticCrop: { xMin: 10, yMin: 20, xMax: 70, yMax: 90 } },
  { name: 'upscale 40×30 → 64', inputSize: 64, resize: 'stretch', padGrey: 0, source: 'rgba', frameSize: { width: 40, height: 30 } },
  { name: 'decoded YUV frame, stretch 640×360 → 64', inputSize: 64, resize: 'stretch', padGrey: 0, source: 'decoded' },
];

function log(results: PreprocessComparison[]): void {
  for (const r of results) {
    const f = (d: PreprocessComparison['gpuVsCpu']) => `max ${d.maxAbs.toExponential(2)} (${d.maxLevels} lv), mean ${d.meanLevels.toFixed(3)} lv`;
    console.log(`${r.name}: GPU−canvas ${f(r.gpuVsCpu)}; GPU−reference ${f(r.gpuVsReference)}; canvas−reference ${f(r.cpuVsReference)}`);
  }
}

test('GPU preprocessing equals the canvas path to 1e-5 where the canvas does not resample', async ({ page }) => {
  const results = await harness(page).comparePreprocess({ modelUrl: MODEL_64, videoUrl: VIDEO, frameIndex: 12, cases: EXACT });
  log(results);
  expect(results).toHaveLength(EXACT.length);
  for (const r of results) {
    expect(r.load.backend, r.name).toBe('webgpu');
    expect(r.load.preprocess, r.name).toBe('gpu');
    expect(r.gpuVsCpu.maxAbs, `${r.name}: GPU vs canvas`).toBeLessThanOrEqual(1e-5);
    if (!r.name.startsWith('decoded')) expect(r.gpuVsReference.maxAbs, `${r.name}: GPU vs reference`).toBeLessThanOrEqual(1e-5);
  }
});

test('GPU preprocessing equals the reference resize to 1e-5 when resampling (canvas: close, its own filter)', async ({ page }) => {
  const results = await harness(page).comparePreprocess({ modelUrl: MODEL_64, videoUrl: VIDEO, frameIndex: 12, cases: RESAMPLED });
  log(results);
  expect(results).toHaveLength(RESAMPLED.length);
  for (const r of results) {
    expect(r.load.preprocess, r.name).toBe('gpu');
    // The reference is computed from the canvas's YUV → RGB conversion; the GPU path converts the decoded frame itself.
    if (!r.name.startsWith('decoded')) expect(r.gpuVsReference.maxAbs, `${r.name}: GPU vs reference`).toBeLessThanOrEqual(1e-5);
    // Same geometry and normalisation, a different filter: a few levels on average, never a shifted or swapped image.
    expect(r.cpuVsReference.meanLevels, `${r.name}: canvas vs reference (mean levels)`).toBeLessThan(8);
    expect(r.gpuVsCpu.meanLevels, `${r.name}: GPU vs canvas (mean levels)`).toBeLessThan(8);
  }
});

test('a frame through the GPU path (WebGPU) gives the predictions of the canvas path (WASM) on the Nano-shaped network', async ({ page }) => {
  test.setTimeout(400_000);
  // 128×72 → letterbox 128: a 1:1 placement with padding, so both tensors are equal and only inference differs.
  const { wasm, webgpu, loads } = await harness(page).compareFramePredictions({
    modelUrl: `${GENERATED}/rfdetr-nano-shaped-128.onnx`,
    videoUrl: VIDEO,
    frameIndex: 20,
    confidence: 0.4,
    source: 'rgba',
    frameSize: { width: 128, height: 72 },
    resize: 'letterbox',
    padGrey: 114,
  });
  expect(loads.map((l) => `${l.backend}/${l.preprocess}`)).toEqual(['wasm/cpu', 'webgpu/gpu']);
  console.log(`detections: wasm ${wasm.length}, webgpu ${webgpu.length}`);
  expect(wasm.length).toBeGreaterThan(3);
  expect(webgpu.map((p) => p.class_id)).toEqual(wasm.map((p) => p.class_id));
  webgpu.forEach((p, i) => {
    const e = wasm[i]!;
    for (const k of ['x', 'y', 'width', 'height'] as const) {
      expect(Math.abs(p[k] - e[k]) / Math.max(Math.abs(e[k]), 1), `detection ${i} ${k}: ${p[k]} vs ${e[k]}`).toBeLessThanOrEqual(1e-3);
    }
    expect(Math.abs(p.confidence - e.confidence)).toBeLessThanOrEqual(1e-3);
  });
});

test('two frames in flight on one GPU-path worker give the same predictions as one at a time', async ({ page }) => {
  const { together, alone, load } = await harness(page).pipelinedFrames({ modelUrl: `${GENERATED}/colour-box-320.onnx`, videoUrl: VIDEO, frameIndices: [5, 30], confidence: 0.5 });
  expect(load.preprocess).toBe('gpu');
  expect(load.maxInFlight).toBe(2);
  const strip = (ps: typeof together) => ps.map((p) => p.map(({ detection_id: _d, ...rest }) => rest));
  expect(together.flat().length).toBeGreaterThan(0);
  expect(strip(together)).toEqual(strip(alone));
});
