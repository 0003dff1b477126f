/**
 * The bench page: bench/run.ts opens it in headless Chromium and calls `window.bench.*`. Every function returns
 * plain JSON. Timings are taken here, in the page (performance.now()), or in the workers.
 */
import { framesSeen, openFrameCount } from './frame-tracker.ts';
import * as Comlink from 'comlink';
import { InferencePipeline } from '../../src/index.ts';
import type { BufferFillingStrategy, FrameMetadata, FramePredictions, StatusUpdate } from '../../src/index.ts';
import { PoolWorker } from '../../src/inference/worker-pool.ts';
import type { WorkerResult } from '../../src/inference/worker-protocol.ts';
import type { RawLoopResult, RawWorkerApi } from './raw-worker.ts';

// ---------------------------------------------------------------------------------------------------------------
// Per-stage timings of framewise's own runs: every PoolWorker.infer result carries the worker's stage timings;
// the wrapper also measures the round trip seen from the page (transfer, comlink, structured clone of the result).

export interface StageSample {
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
  /** From the call on the page to the result on the page. */
  roundTripMs: number;
  /** performance.now() on the page when the result arrived. */
  at: number;
  worker: number;
}

let stageLog: StageSample[] | undefined;
{
  const infer = PoolWorker.prototype.infer;
  PoolWorker.prototype.infer = async function (this: PoolWorker, frame, options, timeoutMs): Promise<WorkerResult> {
    const t0 = performance.now();
    const result = await infer.call(this, frame, options, timeoutMs);
    const at = performance.now();
    stageLog?.push({ ...result.timings, roundTripMs: at - t0, at, worker: this.index });
    return result;
  };
}

// ---------------------------------------------------------------------------------------------------------------

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.arrayBuffer();
}

async function fetchFile(url: string): Promise<File> {
  return new File([await fetchBytes(url)], url.split('/').pop()!, { type: 'video/mp4' });
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Ceiling: raw session.run loops in module workers.

export interface CeilingRequest {
  modelUrl: string;
  tensorUrl: string;
  inputSize: number;
  threads: number;
  /** Workers running loops at the same time (each with `threads` threads). */
  workers: number;
  runs: number;
  warmup: number;
}

export interface CeilingResult {
  fps: number;
  /** Timed runs, all workers' concatenated. */
  runMs: number[];
  /** The untimed first runs of each session. */
  warmupMs: number[];
  loadMs: number;
  wallMs: number;
}

export async function ceiling(request: CeilingRequest): Promise<CeilingResult> {
  const [model, tensor] = await Promise.all([fetchBytes(request.modelUrl), fetchBytes(request.tensorUrl)]);
  const workers = Array.from({ length: request.workers }, (_, i) => new Worker(new URL('./raw-worker.ts', import.meta.url), { type: 'module', name: `raw-${i}` }));
  const apis = workers.map((w) => Comlink.wrap<RawWorkerApi>(w));
  try {
    const t0 = performance.now();
    await Promise.all(apis.map((api) => api.load({ modelBytes: model.slice(0), numThreads: request.threads, backend: 'wasm', tensor: tensor.slice(0), inputSize: request.inputSize })));
    const loadMs = performance.now() - t0;
    // Warm every worker up first, then start the timed loops together.
    const warm = await Promise.all(apis.map((api) => api.loop(0, request.warmup)));
    const loops: RawLoopResult[] = await Promise.all(apis.map((api) => api.loop(request.runs, 0)));
    const start = Math.min(...loops.map((l) => l.startEpochMs));
    const end = Math.max(...loops.map((l) => l.endEpochMs));
    const wallMs = end - start;
    return { fps: (request.runs * request.workers * 1000) / wallMs, runMs: loops.flatMap((l) => l.runMs), warmupMs: warm.flatMap((l) => l.warmupMs), loadMs, wallMs };
  } finally {
    await Promise.all(apis.map((api) => api.dispose().catch(() => undefined)));
    workers.forEach((w) => w.terminate());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. framewise on the file, every frame, end to end.

export interface FramewiseRequest {
  modelUrl: string;
  videoUrl: string;
  /** Omitted with workers 'auto' (the library chooses). */
  threads?: number;
  workers: number | 'auto';
  /** Stop after this many predictions (0: the whole file). */
  maxFrames: number;
}

export interface FramewiseResult {
  fps: number;
  frames: number;
  /** From the first to the last prediction. */
  spanMs: number;
  /** From start() to the first prediction (model load + first frame). */
  firstPredictionMs: number;
  /** Intervals between consecutive predictions. */
  intervalsMs: number[];
  stages: StageSample[];
  backend: string;
  threading: string;
  /** workers 'auto' only: the WORKER_LAYOUT event's payload. */
  layout?: Record<string, unknown>;
  sinkFramesLeftOpen: number;
  error?: string;
}

export async function framewise(request: FramewiseRequest): Promise<FramewiseResult> {
  const file = await fetchFile(request.videoUrl);
  const times: number[] = [];
  const stages: StageSample[] = [];
  stageLog = stages;
  let backend = '?';
  let threading = '?';
  let layout: Record<string, unknown> | undefined;
  let previousImage: VideoFrame | undefined;
  let sinkFramesLeftOpen = 0;
  let pipeline: InferencePipeline | undefined;
  const onPrediction = (_p: FramePredictions, frame: FrameMetadata) => {
    times.push(performance.now());
    if (previousImage && previousImage.format !== null) sinkFramesLeftOpen += 1;
    previousImage = frame.image;
    if (request.maxFrames > 0 && times.length >= request.maxFrames) void pipeline!.terminate();
  };
  pipeline = InferencePipeline.init({
    modelId: { url: request.modelUrl },
    videoReference: file,
    backend: 'wasm',
    workers: request.workers,
    threads: request.threads,
    onPrediction,
    statusUpdateHandlers: [
      (s: StatusUpdate) => {
        if (s.eventType === 'BACKEND_SELECTED') backend = String(s.payload?.backend ?? s.message);
        if (s.eventType === 'THREADING') threading = s.message;
        if (s.eventType === 'WORKER_LAYOUT') layout = s.payload;
        if (s.severity !== 'debug') console.log(`framewise ${s.severity} ${s.eventType}: ${s.message}`);
      },
    ],
  });
  const t0 = performance.now();
  pipeline.start();
  let error: string | undefined;
  try {
    await pipeline.join();
  } catch (e) {
    error = (e as Error).message;
  } finally {
    stageLog = undefined;
  }
  if (previousImage && previousImage.format !== null) sinkFramesLeftOpen += 1;
  const spanMs = times.length > 1 ? times[times.length - 1]! - times[0]! : NaN;
  return {
    fps: ((times.length - 1) * 1000) / spanMs,
    frames: times.length,
    spanMs,
    firstPredictionMs: (times[0] ?? NaN) - t0,
    intervalsMs: times.slice(1).map((t, i) => t - times[i]!),
    stages,
    backend,
    threading,
    layout,
    sinkFramesLeftOpen,
    error,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. The peer: transformers.js's object-detection pipeline on the same frames, drawn to a canvas.

interface TransformersEnv {
  allowRemoteModels: boolean;
  allowLocalModels: boolean;
  localModelPath: string;
  useBrowserCache: boolean;
  version?: string;
  backends: { onnx: { wasm?: { wasmPaths?: unknown; numThreads?: number; proxy?: boolean } } };
}
type Detector = ((image: HTMLCanvasElement, options?: { threshold?: number }) => Promise<unknown>) & { dispose?: () => Promise<void> };
interface TransformersModule {
  env: TransformersEnv;
  pipeline(task: 'object-detection', model: string, options: { device: string; dtype: string }): Promise<Detector>;
}

export interface PeerRequest {
  /** URL of transformers.min.js. */
  libraryUrl: string;
  /** URL prefix of the onnxruntime-web build it pins (its .mjs/.wasm). */
  wasmPaths: string;
  /** URL of the folder holding the hub-layout model folders. */
  localModelPath: string;
  modelName: string;
  videoUrl: string;
  threads: number;
  warmup: number;
  /** Frames to time (the video's first N; 0: all). */
  maxFrames: number;
  threshold: number;
}

export interface PeerResult {
  fps: number;
  frames: number;
  callMs: number[];
  loadMs: number;
  version: string;
  detectionsOnFirstFrame: number;
}

let decodedFrames: { url: string; bitmaps: ImageBitmap[] } | undefined;

/** Decodes every frame of the video into ImageBitmaps (framewise's file source in custom-logic mode: no model). */
async function decodeAll(videoUrl: string): Promise<ImageBitmap[]> {
  if (decodedFrames?.url === videoUrl) return decodedFrames.bitmaps;
  const bitmaps: ImageBitmap[] = [];
  const pipeline = InferencePipeline.initWithCustomLogic({
    videoReference: await fetchFile(videoUrl),
    onVideoFrame: async (frames) => Promise.all(frames.map(async (f) => bitmaps.push(await createImageBitmap(f.image)))),
  });
  pipeline.start();
  await pipeline.join();
  decodedFrames = { url: videoUrl, bitmaps };
  return bitmaps;
}

let transformers: TransformersModule | undefined;

export async function peer(request: PeerRequest): Promise<PeerResult> {
  const bitmaps = await decodeAll(request.videoUrl);
  const frames = request.maxFrames > 0 ? bitmaps.slice(0, request.maxFrames) : bitmaps;
  transformers ??= (await import(/* @vite-ignore */ request.libraryUrl)) as TransformersModule;
  const { env } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = request.localModelPath;
  env.useBrowserCache = false;
  const wasm = (env.backends.onnx.wasm ??= {});
  wasm.wasmPaths = request.wasmPaths;
  wasm.numThreads = request.threads;
  wasm.proxy = false;
  const t0 = performance.now();
  const detector = await transformers.pipeline('object-detection', request.modelName, { device: 'wasm', dtype: 'fp32' });
  const loadMs = performance.now() - t0;
  const canvas = document.createElement('canvas');
  canvas.width = frames[0]!.width;
  canvas.height = frames[0]!.height;
  const ctx = canvas.getContext('2d')!;
  try {
    let detectionsOnFirstFrame = 0;
    for (let i = 0; i < request.warmup; i++) {
      ctx.drawImage(frames[i % frames.length]!, 0, 0);
      const out = await detector(canvas, { threshold: request.threshold });
      if (i === 0) detectionsOnFirstFrame = Array.isArray(out) ? out.length : 0;
    }
    const callMs: number[] = [];
    const start = performance.now();
    for (const frame of frames) {
      const t = performance.now();
      ctx.drawImage(frame, 0, 0);
      await detector(canvas, { threshold: request.threshold });
      callMs.push(performance.now() - t);
    }
    const wall = performance.now() - start;
    return { fps: (frames.length * 1000) / wall, frames: frames.length, callMs, loadMs, version: env.version ?? '?', detectionsOnFirstFrame };
  } finally {
    await detector.dispose?.();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 4 + 5. Live: the fake webcam (Chromium plays the Y4M at 30 fps), latency, drops, queue, frames and heap.

export interface LiveRequest {
  modelUrl: string;
  threads: number;
  workers: number;
  /** The pipeline's bufferFillingStrategy (default: the library's default for live sources). */
  bufferFillingStrategy?: BufferFillingStrategy;
}

type TrackProcessorCtor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrame> };

export interface LiveSample {
  /** performance.now() at the sink call. */
  at: number;
  frameId: number;
  latencyMs: number;
  droppedFrames: number;
  /** Frames waiting in the source's buffer when the sink was called (read through the pipeline's internals). */
  buffered: number | null;
}

export interface LiveMark {
  at: number;
  predictions: number;
  captured: number;
  openFrames: number;
  framesSeen: number;
  usedJSHeapSize: number | null;
  buffered: number | null;
  camera: TrackStats | null;
}

interface LiveState {
  pipeline: InferencePipeline;
  samples: LiveSample[];
  captured: number;
  sinkFramesLeftOpen: number;
  previousImage?: VideoFrame;
  stages: StageSample[];
  backend: string;
  threading: string;
  source: string;
  joined: Promise<string | undefined>;
}

let live: LiveState | undefined;

/** Every camera stream the page opened, so the live run can read the track's own frame counters. */
const cameraStreams: MediaStream[] = [];
if (navigator.mediaDevices?.getUserMedia) {
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    cameraStreams.push(stream);
    return stream;
  };
}

export interface TrackStats {
  /** Frames the camera produced / delivered to sinks / discarded (MediaStreamTrack.stats, where Chromium has it). */
  totalFrames: number;
  deliveredFrames: number;
  discardedFrames: number;
}

function cameraStats(): TrackStats | null {
  const track = cameraStreams[cameraStreams.length - 1]?.getVideoTracks()[0] as (MediaStreamTrack & { stats?: TrackStats }) | undefined;
  const stats = track?.stats;
  return stats ? { totalFrames: stats.totalFrames, deliveredFrames: stats.deliveredFrames, discardedFrames: stats.discardedFrames } : null;
}

/**
 * The fake camera's own pace with nothing else running: read frames for `seconds`. `hold` keeps that many of the
 * most recent frames open (0: close each at once); with `copy`, the held frames are CPU copies and the camera's own
 * frames are closed at once. Shows whether the capture pipeline stalls while page code holds its frames.
 */
export async function cameraProbe(request: { seconds: number; hold?: number; copy?: boolean }): Promise<{ fps: number; frames: number; settings: MediaTrackSettings }> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } } });
  const track = stream.getVideoTracks()[0]!;
  const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: TrackProcessorCtor }).MediaStreamTrackProcessor;
  const reader = new Processor({ track, maxBufferSize: 1 }).readable.getReader();
  const held: VideoFrame[] = [];
  let frames = 0;
  const t0 = performance.now();
  const end = t0 + request.seconds * 1000;
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), request.seconds * 1000));
  let pending: Promise<ReadableStreamReadResult<VideoFrame>> | undefined;
  while (performance.now() < end) {
    pending = reader.read();
    const next = await Promise.race([pending, timeout]);
    if (next === 'timeout') break;
    pending = undefined;
    if (next.done) break;
    let frame = next.value;
    if (request.copy) {
      const buffer = new Uint8Array(frame.allocationSize());
      const layout = await frame.copyTo(buffer);
      const copy = new VideoFrame(buffer, { format: frame.format!, codedWidth: frame.codedWidth, codedHeight: frame.codedHeight, timestamp: frame.timestamp, layout });
      frame.close();
      frame = copy;
    }
    held.push(frame);
    while (held.length > (request.hold ?? 0)) held.shift()!.close();
    frames += 1;
  }
  const settings = track.getSettings();
  held.forEach((f) => f.close());
  await reader.cancel().catch(() => undefined);
  // A read still pending when time ran out may yet deliver a frame: close it too.
  await pending?.then((r) => r.value?.close()).catch(() => undefined);
  track.stop();
  return { fps: (frames * 1000) / (performance.now() - t0), frames, settings };
}

/** The pipeline's buffered frame count for source 0, read through private fields (null if the internals moved). */
function bufferedOf(pipeline: InferencePipeline): number | null {
  const slots = (pipeline as unknown as { slots?: { feed?: { buffered?: number } }[] }).slots;
  const value = slots?.[0]?.feed?.buffered;
  return typeof value === 'number' ? value : null;
}

function heapBytes(): number | null {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : null;
}

/** Starts the live pipeline and resolves once the first prediction arrived (the model is loaded). */
export async function liveStart(request: LiveRequest): Promise<{ firstPredictionMs: number; backend: string; threading: string; source: string }> {
  if (live) throw new Error('a live run is in progress');
  let firstResolve!: () => void;
  const first = new Promise<void>((resolve) => (firstResolve = resolve));
  const stages: StageSample[] = [];
  stageLog = stages;
  const state: Partial<LiveState> & { samples: LiveSample[]; captured: number; sinkFramesLeftOpen: number; stages: StageSample[]; backend: string; threading: string; source: string } = {
    samples: [],
    captured: 0,
    sinkFramesLeftOpen: 0,
    stages,
    backend: '?',
    threading: '?',
    source: '?',
  };
  const pipeline = InferencePipeline.init({
    modelId: { url: request.modelUrl },
    videoReference: 0,
    ...(request.bufferFillingStrategy ? { bufferFillingStrategy: request.bufferFillingStrategy } : {}),
    videoSourceProperties: { frameWidth: 640, frameHeight: 360, fps: 30 },
    backend: 'wasm',
    workers: request.workers,
    threads: request.threads,
    onPrediction: (_p, frame) => {
      if (state.previousImage && state.previousImage.format !== null) state.sinkFramesLeftOpen += 1;
      state.previousImage = frame.image;
      state.samples.push({ at: performance.now(), frameId: frame.frameId, latencyMs: frame.latencyMs, droppedFrames: frame.droppedFrames, buffered: bufferedOf(pipeline) });
      if (state.samples.length === 1) firstResolve();
    },
    statusUpdateHandlers: [
      (s: StatusUpdate) => {
        if (s.eventType === 'FRAME_CAPTURED') state.captured += 1;
        else if (s.eventType === 'BACKEND_SELECTED') state.backend = String(s.payload?.backend ?? s.message);
        else if (s.eventType === 'THREADING') state.threading = s.message;
        else if (s.eventType === 'SOURCE_STARTED') state.source = s.message;
      },
    ],
  });
  state.pipeline = pipeline;
  const t0 = performance.now();
  pipeline.start();
  state.joined = pipeline.join().then(
    () => undefined,
    (e: Error) => e.message,
  );
  live = state as LiveState;
  const failed = await Promise.race([first.then(() => undefined), state.joined]);
  if (failed !== undefined || state.samples.length === 0) {
    live = undefined;
    stageLog = undefined;
    throw new Error(`the live pipeline ended before its first prediction: ${failed ?? 'no error'}`);
  }
  return { firstPredictionMs: performance.now() - t0, backend: state.backend, threading: state.threading, source: state.source };
}

export function liveMark(): LiveMark {
  if (!live) throw new Error('no live run');
  return {
    at: performance.now(),
    predictions: live.samples.length,
    captured: live.captured,
    openFrames: openFrameCount(),
    framesSeen: framesSeen(),
    usedJSHeapSize: heapBytes(),
    buffered: bufferedOf(live.pipeline),
    camera: cameraStats(),
  };
}

export async function liveStop(): Promise<{ samples: LiveSample[]; captured: number; sinkFramesLeftOpen: number; stages: StageSample[]; error?: string; openFramesAfterStop: number }> {
  const state = live;
  if (!state) throw new Error('no live run');
  await state.pipeline.terminate();
  const error = await state.joined;
  live = undefined;
  stageLog = undefined;
  if (state.previousImage && state.previousImage.format !== null) state.sinkFramesLeftOpen += 1;
  return {
    samples: state.samples,
    captured: state.captured,
    sinkFramesLeftOpen: state.sinkFramesLeftOpen,
    stages: state.stages,
    error,
    openFramesAfterStop: openFrameCount(),
  };
}

export async function measureMemory(timeoutMs: number): Promise<number | null> {
  const measure = (performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
  if (!measure || !crossOriginIsolated) return null;
  const result = await Promise.race([measure.call(performance), new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs))]);
  return result ? result.bytes : null;
}

export function environment(): { userAgent: string; hardwareConcurrency: number; crossOriginIsolated: boolean; deviceMemory: number | null } {
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated,
    deviceMemory: (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? null,
  };
}

const bench = { ceiling, framewise, peer, liveStart, liveMark, liveStop, measureMemory, environment, openFrameCount, cameraProbe };
export type Bench = typeof bench;
(window as unknown as { bench: Bench }).bench = bench;
document.title = 'bench ready';
