/**
 * The page behind tests/e2e/gpu-preprocess.spec.ts: drives inference workers directly (comlink) to compare the GPU
 * frame path with the canvas path and with a reference resize written here, and hands plain JSON back.
 */
import * as Comlink from 'comlink';
import { ALL_FORMATS, BlobSource, Input, VideoSampleSink } from 'mediabunny';
import { computeResizeTransform, type ResizeMode, type ResizeTransform, type StaticCrop } from '../../../src/inference/resize-transform.ts';
import type { InferenceWorkerApi, PreprocessPath, WorkerLoadRequest, WorkerLoadResult } from '../../../src/inference/worker-protocol.ts';
import type { Prediction } from '../../../src/pipeline/types.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];

interface WorkerHandle {
  api: Comlink.Remote<InferenceWorkerApi>;
  load: WorkerLoadResult;
  close(): Promise<void>;
}

async function startWorker(request: Omit<WorkerLoadRequest, 'modelBytes' | 'mean' | 'std' | 'numThreads'> & { modelUrl: string }): Promise<WorkerHandle> {
  const worker = new Worker(new URL('../../../src/inference/inference-worker.ts', import.meta.url), { type: 'module', name: 'gpu-harness' });
  const api = Comlink.wrap<InferenceWorkerApi>(worker);
  const modelBytes = await (await fetch(request.modelUrl)).arrayBuffer();
  const { modelUrl: _u, ...rest } = request;
  const load = await api.load({ ...rest, modelBytes, mean: MEAN, std: STD, numThreads: 1 });
  return {
    api,
    load,
    close: async () => {
      await api.dispose().catch(() => undefined);
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

/** Decoded frames (WebCodecs, as the file source decodes them) at the given indices of a 30 fps file. */
async function decodeFrames(url: string, indices: number[]): Promise<VideoFrame[]> {
  const bytes = await (await fetch(url)).blob();
  const input = new Input({ source: new BlobSource(bytes), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error(`${url} has no video track`);
  const sink = new VideoSampleSink(track);
  const frames: VideoFrame[] = [];
  for (const i of indices) {
    const sample = await sink.getSample((i + 0.5) / 30);
    if (!sample) throw new Error(`${url} has no frame ${i}`);
    frames.push(sample.toVideoFrame());
    sample.close();
  }
  return frames;
}

/** The RGBA pixels of a frame at its display size (the browser's own YUV → RGB conversion). */
function rgbaOf(frame: VideoFrame): { rgba: Uint8ClampedArray; width: number; height: number } {
  const width = frame.displayWidth;
  const height = frame.displayHeight;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(frame, 0, 0);
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}

/** The top-left width × height pixels of an RGBA image. */
function cropRgba(rgba: Uint8ClampedArray, fullWidth: number, width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) out.set(rgba.subarray(y * fullWidth * 4, (y * fullWidth + width) * 4), y * width * 4);
  return out;
}

/** An RGBA VideoFrame of exactly these pixels (both paths then start from identical RGB values). */
function rgbaFrame(rgba: Uint8ClampedArray, width: number, height: number): VideoFrame {
  return new VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: 0 });
}

/**
 * The reference both paths must match: for each input pixel centre, the source point under the transform, sampled
 * bilinearly between texel centres with the source rectangle's edge texels repeated, rounded to an 8-bit level
 * (floor(v + 0.5)), then normalised with the same float32 constants as the workers. Computed in float64.
 */
function referencePreprocess(rgba: Uint8ClampedArray, width: number, t: ResizeTransform, size: number, padGrey: number): Float32Array {
  const scale = Float32Array.from(STD.map((s) => 1 / (255 * s)));
  const offset = Float32Array.from(MEAN.map((m, i) => -m / STD[i]!));
  const out = new Float32Array(3 * size * size);
  const plane = size * size;
  const px = (x: number, y: number, c: number) => {
    const cx = Math.min(Math.max(x, 0), t.sw - 1) + t.sx;
    const cy = Math.min(Math.max(y, 0), t.sh - 1) + t.sy;
    return rgba[(cy * width + cx) * 4 + c]!;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x + 0.5 >= t.dx && x + 0.5 < t.dx + t.dw && y + 0.5 >= t.dy && y + 0.5 < t.dy + t.dh;
      const u = (x + 0.5 - t.dx) * (t.sw / t.dw) - 0.5;
      const v = (y + 0.5 - t.dy) * (t.sh / t.dh) - 0.5;
      const x0 = Math.floor(u);
      const y0 = Math.floor(v);
      const fx = u - x0;
      const fy = v - y0;
      for (let c = 0; c < 3; c++) {
        let level = padGrey;
        if (inside) {
          const top = px(x0, y0, c) * (1 - fx) + px(x0 + 1, y0, c) * fx;
          const bottom = px(x0, y0 + 1, c) * (1 - fx) + px(x0 + 1, y0 + 1, c) * fx;
          level = Math.floor(top * (1 - fy) + bottom * fy + 0.5);
        }
        out[c * plane + y * size + x] = level * scale[c]! + offset[c]!;
      }
    }
  }
  return out;
}

interface Diff {
  /** Largest |a − b| over the tensor. */
  maxAbs: number;
  /** Values with |a − b| > 1e-5. */
  over: number;
  /** Largest and mean difference in 8-bit levels (|a − b| · 255 · std). */
  maxLevels: number;
  meanLevels: number;
}

function diff(a: Float32Array, b: Float32Array): Diff {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  const plane = a.length / 3;
  let maxAbs = 0;
  let over = 0;
  let maxLevels = 0;
  let sumLevels = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > maxAbs) maxAbs = d;
    if (d > 1e-5) over++;
    const levels = d * 255 * STD[Math.floor(i / plane)]!;
    maxLevels = Math.max(maxLevels, Math.round(levels));
    sumLevels += levels;
  }
  return { maxAbs, over, maxLevels, meanLevels: sumLevels / a.length };
}

export interface PreprocessCase {
  name: string;
  inputSize: number;
  resize: ResizeMode;
  staticCrop?: StaticCrop;
  padGrey: number;
  /** 'rgba': an RGBA VideoFrame of the decoded frame's pixels; 'decoded': the decoder's own (YUV) VideoFrame. */
  source: 'rgba' | 'decoded';
  /** Crop the decoded frame to this size first (e.g. the model size for a 1:1 copy). */
  frameSize?: { width: number; height: number };
}

export interface PreprocessComparison {
  name: string;
  transform: ResizeTransform;
  load: WorkerLoadResult;
  gpuVsCpu: Diff;
  gpuVsReference: Diff;
  cpuVsReference: Diff;
}

/** For each case: the CPU and GPU tensors of one worker (WebGPU session) and the reference tensor, compared. */
async function comparePreprocess(request: { modelUrl: string; videoUrl: string; frameIndex: number; cases: PreprocessCase[] }): Promise<PreprocessComparison[]> {
  const [decoded] = await decodeFrames(request.videoUrl, [request.frameIndex]);
  const results: PreprocessComparison[] = [];
  try {
    const full = rgbaOf(decoded!);
    for (const c of request.cases) {
      let { rgba, width, height } = full;
      if (c.frameSize) {
        rgba = cropRgba(rgba, width, c.frameSize.width, c.frameSize.height);
        ({ width, height } = c.frameSize);
      }
      const worker = await startWorker({ modelUrl: request.modelUrl, modelLabel: c.name, inputSize: c.inputSize, resize: c.resize, staticCrop: c.staticCrop, padGrey: c.padGrey, backend: 'webgpu' });
      try {
        const frame = (): VideoFrame => (c.source === 'decoded' ? decoded!.clone() : rgbaFrame(rgba, width, height));
        const run = (path: PreprocessPath) => {
          const f = frame();
          return worker.api.preprocessOnly(Comlink.transfer(f, [f as unknown as Transferable]), path);
        };
        const cpu = await run('cpu');
        const gpu = await run('gpu');
        const transform = computeResizeTransform(width, height, c.inputSize, c.resize, c.staticCrop);
        const reference = referencePreprocess(rgba, width, transform, c.inputSize, c.padGrey);
        results.push({ name: c.name, transform, load: worker.load, gpuVsCpu: diff(gpu, cpu), gpuVsReference: diff(gpu, reference), cpuVsReference: diff(cpu, reference) });
      } finally {
        await worker.close();
      }
    }
  } finally {
    decoded!.close();
  }
  return results;
}

export interface FramePredictionRequest {
  modelUrl: string;
  videoUrl: string;
  frameIndex: number;
  confidence: number;
  /** 'rgba': identical RGB input on both sides; 'decoded': the decoder's VideoFrame (each path converts YUV itself). */
  source: 'rgba' | 'decoded';
  /** Crop the decoded frame's pixels to this size first ('rgba' only). */
  frameSize?: { width: number; height: number };
  resize: ResizeMode;
  padGrey: number;
}

/** One frame through a WASM worker (canvas path) and a WebGPU worker (GPU frame path): both predictions. */
async function compareFramePredictions(request: FramePredictionRequest): Promise<{ wasm: Prediction[]; webgpu: Prediction[]; loads: WorkerLoadResult[] }> {
  const [decoded] = await decodeFrames(request.videoUrl, [request.frameIndex]);
  try {
    let { rgba, width, height } = rgbaOf(decoded!);
    if (request.frameSize) {
      rgba = cropRgba(rgba, width, request.frameSize.width, request.frameSize.height);
      ({ width, height } = request.frameSize);
    }
    const frame = (): VideoFrame => (request.source === 'decoded' ? decoded!.clone() : rgbaFrame(rgba, width, height));
    const out: Prediction[][] = [];
    const loads: WorkerLoadResult[] = [];
    for (const backend of ['wasm', 'webgpu'] as const) {
      const worker = await startWorker({ modelUrl: request.modelUrl, modelLabel: backend, resize: request.resize, padGrey: request.padGrey, backend });
      try {
        loads.push(worker.load);
        const f = frame();
        const result = await worker.api.infer(Comlink.transfer(f, [f as unknown as Transferable]), { confidence: request.confidence, maxDetections: 300 });
        out.push(result.predictions);
      } finally {
        await worker.close();
      }
    }
    return { wasm: out[0]!, webgpu: out[1]!, loads };
  } finally {
    decoded!.close();
  }
}

/** Two frames in flight on one GPU-path worker: both results must equal the frames run one at a time. */
async function pipelinedFrames(request: { modelUrl: string; videoUrl: string; frameIndices: number[]; confidence: number }): Promise<{ together: Prediction[][]; alone: Prediction[][]; load: WorkerLoadResult }> {
  const frames = await decodeFrames(request.videoUrl, request.frameIndices);
  const worker = await startWorker({ modelUrl: request.modelUrl, modelLabel: 'pipelined', resize: 'letterbox', padGrey: 114, backend: 'webgpu' });
  try {
    const options = { confidence: request.confidence, maxDetections: 300 };
    const send = (f: VideoFrame) => {
      const c = f.clone();
      return worker.api.infer(Comlink.transfer(c, [c as unknown as Transferable]), options);
    };
    const together = (await Promise.all(frames.map(send))).map((r) => r.predictions);
    const alone: Prediction[][] = [];
    for (const f of frames) alone.push((await send(f)).predictions);
    return { together, alone, load: worker.load };
  } finally {
    for (const f of frames) f.close();
    await worker.close();
  }
}

const gpuHarness = { comparePreprocess, compareFramePredictions, pipelinedFrames };
(window as unknown as { gpuHarness: typeof gpuHarness }).gpuHarness = gpuHarness;
export type GpuHarness = typeof gpuHarness;
document.title = 'gpu harness ready';
