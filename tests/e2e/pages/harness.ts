/**
 * The page that Playwright drives: it runs pipelines in the real browser and hands plain JSON back to the test.
 */
import * as framewise from '../../../src/index.ts';
import type { FrameMetadata, FramePredictions, InitModelOptions, PipelineBaseOptions, SinkMode, StatusUpdate } from '../../../src/index.ts';
import { WorkerPool } from '../../../src/inference/worker-pool.ts';

type Reference = string | number | { file: string; name?: string; type?: string } | { deviceId: string };

export interface RunRequest extends InitModelOptions, Omit<PipelineBaseOptions, 'videoReference' | 'statusUpdateHandlers'> {
  videoReference: Reference | Reference[];
  sinkMode?: SinkMode;
  /** Terminate after this many predictions (live sources never end by themselves). */
  stopAfter?: number;
  /** Terminate once these sources have each delivered every frame and ended. */
  stopWhenSourcesDone?: number[];
  /** Draw with renderBoxes on the page's canvas. */
  render?: boolean;
  /** Make the sink throw on these frame ids. */
  sinkThrowsOn?: number[];
}

export interface RunResult {
  predictions: FramePredictions[];
  /** Batch mode: per sink call, the frame id of each source's entry (null where the source had none). */
  batches: (number | null)[][];
  /** Status events above debug; payloads are kept only for `WORKER_LAYOUT` (others may not be cloneable). */
  statuses: (Omit<StatusUpdate, 'payload'> & { payload?: Record<string, unknown> })[];
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
  const batches: (number | null)[][] = [];
  const statuses: RunResult['statuses'] = [];
  const refs = Array.isArray(request.videoReference) ? await Promise.all(request.videoReference.map(toReference)) : await toReference(request.videoReference);
  const kept: VideoFrame[] = [];
  let pipeline: framewise.InferencePipeline | undefined;
  const throwOn = new Set(request.sinkThrowsOn ?? []);
  const draw = request.render ? framewise.renderBoxes({ canvas: document.getElementById('canvas') as HTMLCanvasElement, displayStatistics: true }) : undefined;
  const { stopAfter, stopWhenSourcesDone, render: _r, sinkThrowsOn: _s, sinkMode: _m, ...options } = request;
  const waitingFor = new Set(stopWhenSourcesDone ?? []);
  try {
    const onFrame = (p: FramePredictions, frame: FrameMetadata) => {
      predictions.push(p);
      kept.push(frame.image);
      draw?.(p, frame);
      if (throwOn.has(p.frame_id)) throw new Error(`sink failure on purpose at frame ${p.frame_id}`);
      if (stopAfter !== undefined && predictions.length >= stopAfter) void pipeline!.terminate();
    };
    const common = {
      ...options,
      videoReference: refs,
      statusUpdateHandlers: [
        ({ payload, ...s }: StatusUpdate) => {
          if (s.severity !== 'debug') statuses.push(s.eventType === 'WORKER_LAYOUT' ? { ...s, payload } : s);
          if (s.eventType === 'SOURCE_ENDED' && s.sourceId !== undefined && waitingFor.delete(s.sourceId) && waitingFor.size === 0) void pipeline?.terminate();
        },
      ],
    };
    pipeline =
      request.sinkMode === 'batch' || request.sinkMode === 'adaptive'
        ? framewise.InferencePipeline.init({
            ...common,
            sinkMode: request.sinkMode as 'adaptive',
            onPrediction: (results: FramePredictions | (FramePredictions | null)[], frames: FrameMetadata | (FrameMetadata | null)[]) => {
              if (!Array.isArray(results)) return onFrame(results, frames as FrameMetadata);
              batches.push(results.map((r) => r?.frame_id ?? null));
              results.forEach((r, i) => r && onFrame(r, (frames as (FrameMetadata | null)[])[i]!));
            },
          })
        : framewise.InferencePipeline.init({ ...common, sinkMode: 'sequential', onPrediction: onFrame });
    pipeline.start();
    await pipeline.join();
  } catch (error) {
    const e = error as Error;
    return { predictions, batches, statuses, error: { name: e.name, message: e.message }, leakedFrames: countOpen(kept), liveCameraTracks: liveCameraTracks() };
  }
  return { predictions, batches, statuses, leakedFrames: countOpen(kept), liveCameraTracks: liveCameraTracks() };
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

/**
 * A live source keeps delivering while a frame is held: onVideoFrame holds the first webcam frame until the source
 * has captured `frames` more (or `capMs` passed, so a stalled camera can't hang the test), and reports the count.
 */
async function liveKeepsCapturing(request: { frames: number; capMs: number }): Promise<{ capturedWhileHeld: number; leakedFrames: number; error?: string }> {
  let captured = 0;
  let capturedWhileHeld = -1;
  const kept: VideoFrame[] = [];
  const pipeline = framewise.InferencePipeline.initWithCustomLogic({
    videoReference: 0,
    videoSourceProperties: { frameWidth: 640, frameHeight: 360, fps: 30 },
    statusUpdateHandlers: [
      (s) => {
        if (s.eventType === 'FRAME_CAPTURED') captured += 1;
      },
    ],
    onVideoFrame: async (frames) => {
      if (capturedWhileHeld < 0) {
        const from = captured;
        const until = performance.now() + request.capMs;
        while (captured - from < request.frames && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
        capturedWhileHeld = captured - from;
      }
      return frames.map((f) => f.frameId);
    },
    onPrediction: (_r, frame) => {
      kept.push(frame.image);
      if (capturedWhileHeld >= 0) void pipeline.terminate();
    },
  });
  pipeline.start();
  try {
    await pipeline.join();
  } catch (error) {
    return { capturedWhileHeld, leakedFrames: countOpen(kept), error: (error as Error).message };
  }
  return { capturedWhileHeld, leakedFrames: countOpen(kept) };
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

export interface ControlledRequest {
  bufferSize: number;
  filling: framewise.BufferFillingStrategy;
  consumption: framewise.BufferConsumptionStrategy;
  /** Frames pushed while the consumer is blocked on the first one. */
  pushedWhileBlocked: number;
  maxFps?: number;
  /** How many frames will get through, so the page knows when to end the stream. */
  expectProcessed: number;
}

/**
 * A live source whose timing the test controls: frames are written one by one into a MediaStreamTrackGenerator,
 * each only after the pipeline reported capturing the previous one, while custom logic blocks on frame 1.
 */
async function runControlled(request: ControlledRequest): Promise<{ processed: number[]; dropped: [number, string][]; error?: string }> {
  type Generator = MediaStreamTrack & { writable: WritableStream<VideoFrame> };
  const Generator = (globalThis as unknown as { MediaStreamTrackGenerator: new (init: { kind: 'video' }) => Generator }).MediaStreamTrackGenerator;
  const track = new Generator({ kind: 'video' });
  const writer = track.writable.getWriter();
  const canvas = new OffscreenCanvas(64, 64);
  canvas.getContext('2d')!.fillRect(0, 0, 64, 64);
  let captured = 0;
  let onCaptured: (() => void) | undefined;
  let releaseGate!: () => void;
  const gate = new Promise<void>((resolve) => (releaseGate = resolve));
  let firstStarted!: () => void;
  const started = new Promise<void>((resolve) => (firstStarted = resolve));
  const processed: number[] = [];
  const dropped: [number, string][] = [];
  const pipeline = framewise.InferencePipeline.initWithCustomLogic({
    videoReference: new MediaStream([track]),
    bufferSize: request.bufferSize,
    bufferFillingStrategy: request.filling,
    bufferConsumptionStrategy: request.consumption,
    maxFps: request.maxFps,
    onVideoFrame: async (frames) => {
      processed.push(frames[0]!.frameId);
      if (frames[0]!.frameId === 1) {
        firstStarted();
        await gate;
      }
      return [frames[0]!.frameId];
    },
    statusUpdateHandlers: [
      (s) => {
        if (s.eventType === 'FRAME_CAPTURED') {
          captured += 1;
          onCaptured?.();
        }
        if (s.eventType === 'FRAME_DROPPED') dropped.push([s.payload!.frame_id as number, s.payload!.cause as string]);
      },
    ],
  });
  pipeline.start();
  const push = async (n: number) => {
    const wait = new Promise<void>((resolve) => (onCaptured = () => captured >= n && resolve()));
    await writer.write(new VideoFrame(canvas, { timestamp: n * 33_333 }));
    await wait;
  };
  await push(1);
  await started;
  for (let n = 2; n <= 1 + request.pushedWhileBlocked; n++) await push(n);
  releaseGate();
  // Let the buffered frames through, then end the stream.
  while (processed.length < request.expectProcessed) await new Promise((resolve) => setTimeout(resolve, 20));
  await writer.close();
  track.stop();
  try {
    await pipeline.join();
  } catch (error) {
    return { processed, dropped, error: (error as Error).message };
  }
  return { processed, dropped };
}

const harness = { run, runCustomLogic, runTensor, runControlled, liveKeepsCapturing, framewise };
(window as unknown as { harness: typeof harness }).harness = harness;
export type Harness = typeof harness;
document.title = 'harness ready';
