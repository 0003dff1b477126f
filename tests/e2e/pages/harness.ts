/**
 * The page that Playwright drives: it runs pipelines in the real browser and hands plain JSON back to the test.
 */
import * as framewise from '../../../src/index.ts';
import type { FramePredictions, InitOptions, StatusUpdate } from '../../../src/index.ts';
import { WorkerPool } from '../../../src/inference/worker-pool.ts';

type Reference = string | number | { file: string; name?: string; type?: string } | { deviceId: string };

export interface RunRequest extends Omit<InitOptions, 'videoReference' | 'onPrediction' | 'statusUpdateHandlers'> {
  videoReference: Reference | Reference[];
  /** Terminate after this many predictions (live sources never end by themselves). */
  stopAfter?: number;
  /** Draw with renderBoxes on the page's canvas. */
  render?: boolean;
  /** Make the sink throw on these frame ids. */
  sinkThrowsOn?: number[];
}

export interface RunResult {
  predictions: FramePredictions[];
  statuses: Omit<StatusUpdate, 'payload'>[];
  error?: { name: string; message: string };
  /** VideoFrames the test saw still open after join (should be 0). */
  leakedFrames: number;
  /** Camera tracks the page opened that are still live after join (should be 0). */
  liveCameraTracks: number;
}

/** Every stream getUserMedia handed out, so a test can check that the pipeline stopped its tracks. */
const cameraStreams: MediaStream[] = [];
if (navigator.mediaDevices?.getUserMedia) {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    cameraStreams.push(stream);
    return stream;
  };
}

function liveCameraTracks(): number {
  return cameraStreams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length;
}

async function toReference(r: Reference): Promise<framewise.SingleVideoReference> {
  if (typeof r === 'object' && 'file' in r) {
    const bytes = await (await fetch(r.file)).arrayBuffer();
    return new File([bytes], r.name ?? r.file.split('/').pop()!, { type: r.type ?? 'video/mp4' });
  }
  return r;
}

async function run(request: RunRequest): Promise<RunResult> {
  const predictions: FramePredictions[] = [];
  const statuses: RunResult['statuses'] = [];
  const refs = Array.isArray(request.videoReference) ? await Promise.all(request.videoReference.map(toReference)) : await toReference(request.videoReference);
  const kept: VideoFrame[] = [];
  let pipeline: framewise.InferencePipeline | undefined;
  const throwOn = new Set(request.sinkThrowsOn ?? []);
  const draw = request.render ? framewise.renderBoxes({ canvas: document.getElementById('canvas') as HTMLCanvasElement, displayStatistics: true }) : undefined;
  const { stopAfter, render: _r, sinkThrowsOn: _s, ...options } = request;
  try {
    pipeline = framewise.InferencePipeline.init({
      ...options,
      videoReference: refs,
      statusUpdateHandlers: [({ payload: _p, ...s }) => statuses.push(s)],
      onPrediction: (p, frame) => {
        predictions.push(p);
        kept.push(frame.image);
        draw?.(p, frame);
        if (throwOn.has(p.frame_id)) throw new Error(`sink failure on purpose at frame ${p.frame_id}`);
        if (stopAfter !== undefined && predictions.length >= stopAfter) void pipeline!.terminate();
      },
    });
    pipeline.start();
    await pipeline.join();
  } catch (error) {
    const e = error as Error;
    return { predictions, statuses, error: { name: e.name, message: e.message }, leakedFrames: countOpen(kept), liveCameraTracks: liveCameraTracks() };
  }
  return { predictions, statuses, leakedFrames: countOpen(kept), liveCameraTracks: liveCameraTracks() };
}

/** A closed VideoFrame reports format null; the pipeline must have closed every frame it handed out. */
function countOpen(frames: VideoFrame[]): number {
  return frames.filter((f) => f.format !== null).length;
}

export interface CustomLogicRequest {
  videoReference: Reference;
  /** For every frame, read the RGB pixel at this frame-dependent point (frame id → [x, y]). */
  probe: Record<number, [number, number]>;
}

/** Runs initWithCustomLogic: onVideoFrame reads one pixel of each frame; the sink records what it got. */
async function runCustomLogic(request: CustomLogicRequest): Promise<{ results: { frameId: number; rgb: number[]; width: number }[]; error?: string }> {
  const canvas = new OffscreenCanvas(640, 360);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const results: { frameId: number; rgb: number[]; width: number }[] = [];
  const pipeline = framewise.InferencePipeline.initWithCustomLogic({
    videoReference: await toReference(request.videoReference),
    onVideoFrame: (frames) =>
      frames.map((f) => {
        ctx.drawImage(f.image, 0, 0);
        const [x, y] = request.probe[f.frameId] ?? [0, 0];
        return { frameId: f.frameId, rgb: [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)], width: f.image.displayWidth };
      }),
    onPrediction: (r) => {
      results.push(r);
    },
  });
  pipeline.start();
  try {
    await pipeline.join();
  } catch (error) {
    return { results, error: (error as Error).message };
  }
  return { results };
}

export interface TensorRequest {
  modelUrl: string;
  /** URL of raw little-endian float32 [1,3,S,S] data. */
  tensorUrl: string;
  backend: 'wasm' | 'webgpu';
  frameWidth: number;
  frameHeight: number;
  confidence: number;
}

/** Runs the worker's own run + decode path on a prepared tensor (the parity test's "ours" side). */
async function runTensor(request: TensorRequest): Promise<{ predictions: framewise.Prediction[]; backend: string }> {
  const [model, tensor] = await Promise.all([fetch(request.modelUrl), fetch(request.tensorUrl)].map(async (r) => (await r).arrayBuffer()));
  const { pool, load } = await WorkerPool.create(
    1,
    {
      modelBytes: model!,
      modelLabel: request.modelUrl,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resize: 'stretch',
      padGrey: 0,
      backend: request.backend,
      numThreads: 1,
    },
    600_000,
  );
  try {
    const worker = await pool.acquire();
    const result = await worker.inferTensor(new Float32Array(tensor!), request.frameWidth, request.frameHeight, { confidence: request.confidence, maxDetections: 300 }, 600_000);
    return { predictions: result.predictions, backend: load.backend };
  } finally {
    await pool.close();
  }
}

const harness = { run, runCustomLogic, runTensor, framewise };
(window as unknown as { harness: typeof harness }).harness = harness;
export type Harness = typeof harness;
document.title = 'harness ready';
