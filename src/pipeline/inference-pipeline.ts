/**
 * InferencePipeline: video sources → (worker pool | custom logic) → sinks, with status events and controls.
 *
 * Scheduling: each source runs a loop that waits for room in the backlog (frames grabbed but not yet sunk),
 * then for a free processing slot, and only then grabs a frame, so a live source always hands over its
 * freshest frame. Results are put back in frame order per source and passed to the sink one at a time.
 */
import { resolveModelSpec } from '../models/model-spec.ts';
import type { ModelReference } from '../models/model-spec.ts';
import type { FrameSource, GrabbedFrame, SourceInfo } from '../sources/frame-source.ts';
import { checkReference, openSource } from '../sources/resolve-source.ts';
import { CustomLogicProcessor, type OnVideoFrame } from './custom-logic-processor.ts';
import { PipelineSourcesError, SourceError, describeError } from './errors.ts';
import { FpsMeter } from './fps-meter.ts';
import type { FrameProcessor, Notify } from './frame-processor.ts';
import { ModelProcessor } from './model-processor.ts';
import { ReorderBuffer } from './reorder-buffer.ts';
import { Semaphore } from './semaphore.ts';
import type {
  Backend,
  FrameMetadata,
  FramePredictions,
  SingleVideoReference,
  StatusHandler,
  StatusUpdate,
  VideoReference,
  VideoSourceProperties,
} from './types.ts';

/** Options shared by every way of building a pipeline. */
export interface PipelineOptions<R> {
  /** What to read: see {@link VideoReference}. */
  videoReference: VideoReference;
  /** Called with each frame's result, in frame order per source. Errors it throws become SINK_ERROR events. */
  onPrediction?: (result: R, frame: FrameMetadata) => void | Promise<void>;
  /** Webcam constraints. */
  videoSourceProperties?: VideoSourceProperties;
  /** Called with every status event. */
  statusUpdateHandlers?: StatusHandler[];
  /** Upper bound on frames processed per second per source; live sources drop the frames in between. */
  maxFps?: number;
}

/** Options of {@link InferencePipeline.init}. */
export interface InitOptions extends PipelineOptions<FramePredictions> {
  /** An RF-DETR alias or `{ url, ... }`. */
  modelId: ModelReference;
  /** Keep detections scoring above this, 0..1. Default 0.4. */
  confidence?: number;
  /** When set, class-wise NMS with this IoU threshold (RF-DETR needs none). Default: off. */
  iouThreshold?: number;
  /** Top-k over all query × class scores. Default 300. */
  maxDetections?: number;
  /** 'auto' (default) tries WebGPU and falls back to WASM; 'webgpu' and 'wasm' force one. */
  backend?: Backend;
  /** Inference workers. Default 1. */
  workers?: number;
  /** WASM threads per worker. Default: cores ÷ workers, at most 4, when cross-origin isolated; else 1. */
  threads?: number;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served. Default: next to onnxruntime-web's module. */
  wasmPaths?: string;
  /** Model hub base URL for RF-DETR aliases. Default `https://huggingface.co`. */
  hubUrl?: string;
  /** Milliseconds one frame may take in a worker before the worker is considered dead. Default 60000. */
  inferenceTimeoutMs?: number;
  /** Milliseconds a worker may take to create its session. Default 120000. */
  modelLoadTimeoutMs?: number;
}

/** Options of {@link InferencePipeline.initWithCustomLogic}. */
export interface CustomLogicOptions<R> extends PipelineOptions<R> {
  /** Gets the frames (one per call) and returns one result per frame. The frame is closed after it returns. */
  onVideoFrame: OnVideoFrame<R>;
}

export type PipelineState = 'created' | 'running' | 'terminating' | 'ended';

interface SourceRun {
  sourceId: number;
  reference: SingleVideoReference;
  source?: FrameSource;
  info?: SourceInfo;
  paused: boolean;
  muted: boolean;
  resumed?: () => void;
  fps: FpsMeter;
  lastGrab: number;
}

interface Pending<R> {
  result?: R;
  failed: boolean;
  image: VideoFrame;
  grabbed: GrabbedFrame;
}

function numberOption(path: string, value: number | undefined, fallback: number, min: number, max = Infinity, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${path} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

export class InferencePipeline<R = FramePredictions> {
  private stateValue: PipelineState = 'created';
  private readonly runs: SourceRun[];
  private readonly handlers: StatusHandler[];
  private readonly backlog: Semaphore;
  private sinkChain: Promise<void> = Promise.resolve();
  private readonly sourceErrors: SourceError[] = [];
  private fatal?: Error;
  private readonly joined: Promise<void>;
  private settleJoin!: { resolve: () => void; reject: (e: Error) => void };
  private readonly stopped = new AbortController();

  private constructor(
    private readonly processor: FrameProcessor,
    private readonly options: PipelineOptions<R>,
  ) {
    const refs = Array.isArray(options.videoReference) ? (options.videoReference as readonly SingleVideoReference[]) : [options.videoReference as SingleVideoReference];
    if (refs.length === 0) throw new TypeError('videoReference is an empty list: expected at least one source');
    refs.forEach((r, i) => checkReference(r, Array.isArray(options.videoReference) ? `videoReference[${i}]` : 'videoReference'));
    if (options.onPrediction !== undefined && typeof options.onPrediction !== 'function') {
      throw new TypeError(`onPrediction must be a function (predictions, frame) => void, got ${typeof options.onPrediction}`);
    }
    numberOption('maxFps', options.maxFps, 0, 0);
    this.runs = refs.map((reference, sourceId) => ({ sourceId, reference, paused: false, muted: false, fps: new FpsMeter(), lastGrab: -Infinity }));
    this.handlers = [...(options.statusUpdateHandlers ?? [])];
    // Frames grabbed but not yet through the sink: one per slot plus one waiting for the sink, so a slow sink
    // slows the sources down instead of growing a queue.
    this.backlog = new Semaphore(processor.concurrency + 1);
    this.joined = new Promise((resolve, reject) => (this.settleJoin = { resolve, reject }));
    this.joined.catch(() => undefined); // join() hands the rejection to the caller; no unhandled-rejection noise.
  }

  /**
   * Builds a pipeline that runs an RF-DETR model on every frame. Nothing starts until {@link start}.
   * Throws TypeError for malformed options (the message names the option and the value).
   */
  static init(options: InitOptions): InferencePipeline<FramePredictions> {
    resolveModelSpec(options.modelId, { hubUrl: options.hubUrl }); // fail fast on a malformed model reference
    const processor = new ModelProcessor({
      modelId: options.modelId,
      backend: InferencePipeline.checkBackend(options.backend),
      workers: numberOption('workers', options.workers, 1, 1, 16, true),
      threads: options.threads === undefined ? undefined : numberOption('threads', options.threads, 1, 1, 64, true),
      wasmPaths: options.wasmPaths,
      hubUrl: options.hubUrl,
      decode: {
        confidence: numberOption('confidence', options.confidence, 0.4, 0, 1),
        maxDetections: numberOption('maxDetections', options.maxDetections, 300, 1, Infinity, true),
        iouThreshold: options.iouThreshold === undefined ? undefined : numberOption('iouThreshold', options.iouThreshold, 0.5, 0, 1),
      },
      inferenceTimeoutMs: numberOption('inferenceTimeoutMs', options.inferenceTimeoutMs, 60_000, 1),
      modelLoadTimeoutMs: numberOption('modelLoadTimeoutMs', options.modelLoadTimeoutMs, 120_000, 1),
    });
    return new InferencePipeline<FramePredictions>(processor, options);
  }

  /** Builds a pipeline that calls `onVideoFrame` on every frame instead of a model. */
  static initWithCustomLogic<R>(options: CustomLogicOptions<R>): InferencePipeline<R> {
    if (typeof options.onVideoFrame !== 'function') throw new TypeError(`onVideoFrame must be a function (frames) => results, got ${typeof options.onVideoFrame}`);
    return new InferencePipeline<R>(new CustomLogicProcessor(options.onVideoFrame), options);
  }

  private static checkBackend(backend: Backend | undefined): Backend {
    const valid: readonly Backend[] = ['auto', 'webgpu', 'wasm'];
    if (backend === undefined) return 'auto';
    if (!valid.includes(backend)) throw new TypeError(`backend must be one of ${valid.join(', ')}, got ${JSON.stringify(backend)}`);
    return backend;
  }

  /** The lifecycle state. */
  get state(): PipelineState {
    return this.stateValue;
  }

  /** Adds a status handler after construction. */
  onStatus(handler: StatusHandler): void {
    this.handlers.push(handler);
  }

  private readonly notify: Notify = (update) => {
    const full: StatusUpdate = { timestamp: Date.now(), ...update };
    for (const handler of this.handlers) {
      try {
        handler(full);
      } catch (error) {
        console.error('framewise: a status handler threw', error);
      }
    }
  };

  /** Starts reading and processing. Calling it again while running does nothing; after the end it throws. */
  start(): void {
    if (this.stateValue === 'running') return;
    if (this.stateValue !== 'created') throw new Error(`start() is not allowed in state "${this.stateValue}"`);
    this.stateValue = 'running';
    void this.run();
  }

  /** Resolves when every source has ended or terminate() was called; rejects on a fatal error or a failed source. */
  join(): Promise<void> {
    return this.joined;
  }

  private async run(): Promise<void> {
    this.notify({ severity: 'info', eventType: 'PIPELINE_STARTING', message: `starting ${this.runs.length} source(s)` });
    try {
      await this.processor.start(this.notify);
      if (this.stopped.signal.aborted) return await this.finish();
      this.notify({ severity: 'info', eventType: 'PIPELINE_STARTED', message: 'pipeline started' });
      await Promise.all(this.runs.map((run) => this.runSource(run)));
      await this.sinkChain;
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(describeError(error)));
    }
    await this.finish();
  }

  private fail(error: Error): void {
    if (this.fatal || this.stopped.signal.aborted) return;
    this.fatal = error;
    this.notify({ severity: 'error', eventType: 'PIPELINE_ERROR', message: error.message, payload: { name: error.name } });
    this.stopAll();
  }

  private stopAll(): void {
    this.stopped.abort();
    this.backlog.close(new Error('stopped'));
    for (const run of this.runs) {
      run.source?.close();
      run.resumed?.();
    }
  }

  private finishing?: Promise<void>;
  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.stopAll();
      await this.sinkChain.catch(() => undefined);
      await this.processor.close();
      const wasTerminated = this.stateValue === 'terminating';
      this.stateValue = 'ended';
      if (this.fatal) return this.settleJoin.reject(this.fatal);
      if (this.sourceErrors.length > 0 && !wasTerminated) {
        const error = this.sourceErrors.length === 1 ? this.sourceErrors[0]! : new PipelineSourcesError(this.sourceErrors);
        this.notify({ severity: 'error', eventType: 'PIPELINE_ENDED', message: `pipeline ended with errors: ${error.message}` });
        return this.settleJoin.reject(error);
      }
      this.notify({ severity: 'info', eventType: wasTerminated ? 'PIPELINE_TERMINATED' : 'PIPELINE_ENDED', message: wasTerminated ? 'pipeline terminated' : 'every source ended' });
      this.settleJoin.resolve();
    })();
    return this.finishing;
  }

  private async runSource(run: SourceRun): Promise<void> {
    const { sourceId } = run;
    try {
      const opened = await openSource(sourceId, run.reference, this.options.videoSourceProperties, this.notify);
      run.source = opened.source;
      run.info = opened.info;
      if (this.stopped.signal.aborted) return opened.source.close();
      this.notify({
        severity: 'info',
        eventType: 'SOURCE_STARTED',
        sourceId,
        message: `${opened.info.description}: ${opened.info.width}×${opened.info.height} at ${opened.info.fps.toFixed(1)} fps`,
        payload: { ...opened.info },
      });
      await this.loop(run, opened.source, opened.info);
      if (!this.stopped.signal.aborted) {
        this.notify({ severity: 'info', eventType: 'SOURCE_ENDED', sourceId, message: `${opened.info.description} ended`, payload: { droppedFrames: opened.source.droppedFrames } });
      }
    } catch (error) {
      // Inference failures stop the pipeline through fail(); what reaches here is this source's own problem.
      if (this.stopped.signal.aborted) return;
      const failure = error instanceof SourceError ? error : new SourceError(sourceId, describeError(error), { cause: error });
      this.sourceErrors.push(failure);
      this.notify({ severity: 'error', eventType: 'SOURCE_ERROR', sourceId, message: failure.message });
    } finally {
      run.source?.close();
    }
  }

  private async loop(run: SourceRun, source: FrameSource, info: SourceInfo): Promise<void> {
    const reorder = new ReorderBuffer<Pending<R>>();
    const inFlight = new Set<Promise<void>>();
    const minInterval = this.options.maxFps ? 1000 / this.options.maxFps : 0;
    let seq = 0;
    try {
      for (;;) {
        if (run.paused) await new Promise<void>((resolve) => (run.resumed = resolve));
        if (this.stopped.signal.aborted) break;
        await this.backlog.acquire();
        let slot;
        try {
          slot = await this.processor.acquire();
        } catch (error) {
          this.backlog.release();
          throw error;
        }
        let grabbed: GrabbedFrame | null;
        try {
          grabbed = await this.grab(run, source, info, minInterval);
        } catch (error) {
          slot.release();
          this.backlog.release();
          throw error;
        }
        if (!grabbed) {
          slot.release();
          this.backlog.release();
          break;
        }
        const mySeq = seq++;
        const image = grabbed.frame.clone();
        const g = grabbed;
        const work = slot
          .run(g.frame, {
            frameId: g.frameId,
            frameTimestamp: g.grabbedAt / 1000,
            mediaTimestamp: g.mediaTimestamp,
            sourceId: run.sourceId,
            fps: info.fps,
            comesFromVideoFile: info.comesFromVideoFile,
            width: image.displayWidth,
            height: image.displayHeight,
          })
          .then(
            (result) => ({ result: result as R, failed: false, image, grabbed: g }),
            (error: unknown) => {
              this.fail(error instanceof Error ? error : new Error(describeError(error)));
              return { failed: true, image, grabbed: g } as Pending<R>;
            },
          )
          .then((pending) => {
            slot.release();
            for (const ready of reorder.push(mySeq, pending)) this.deliver(run, source, info, ready);
          });
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      }
    } finally {
      await Promise.all(inFlight);
      for (const left of reorder.drain()) left.image.close();
    }
  }

  /** Takes the next frame, honouring mute and maxFps. */
  private async grab(run: SourceRun, source: FrameSource, info: SourceInfo, minInterval: number): Promise<GrabbedFrame | null> {
    for (;;) {
      const grabbed = await source.next();
      if (!grabbed || this.stopped.signal.aborted) {
        grabbed?.frame.close();
        return null;
      }
      const now = performance.now();
      if (run.muted || (minInterval > 0 && now - run.lastGrab < minInterval)) {
        if (info.comesFromVideoFile && !run.muted) {
          // Files keep every frame: wait for the interval instead of dropping.
          await new Promise((resolve) => setTimeout(resolve, minInterval - (now - run.lastGrab)));
        } else {
          grabbed.frame.close();
          continue;
        }
      }
      run.lastGrab = performance.now();
      return grabbed;
    }
  }

  /** Queues the sink call for one finished frame; closes the frame and frees its backlog place afterwards. */
  private deliver(run: SourceRun, source: FrameSource, info: SourceInfo, pending: Pending<R>): void {
    this.sinkChain = this.sinkChain.then(async () => {
      try {
        if (pending.failed || this.stopped.signal.aborted) return;
        const measuredFps = run.fps.tick();
        const sink = this.options.onPrediction;
        if (!sink) return;
        const meta: FrameMetadata = {
          image: pending.image,
          frameId: pending.grabbed.frameId,
          frameTimestamp: pending.grabbed.grabbedAt / 1000,
          mediaTimestamp: pending.grabbed.mediaTimestamp,
          sourceId: run.sourceId,
          fps: info.fps,
          measuredFps,
          comesFromVideoFile: info.comesFromVideoFile,
          latencyMs: Date.now() - pending.grabbed.grabbedAt,
          droppedFrames: source.droppedFrames,
        };
        try {
          await sink(pending.result as R, meta);
        } catch (error) {
          this.notify({
            severity: 'warning',
            eventType: 'SINK_ERROR',
            sourceId: run.sourceId,
            message: `the sink threw on frame ${pending.grabbed.frameId}: ${describeError(error)}`,
            payload: { frameId: pending.grabbed.frameId },
          });
        }
      } finally {
        pending.image.close();
        this.backlog.release();
      }
    });
  }

  /** Stops taking frames from `sourceId` (all sources when omitted) until {@link resume}. */
  pause(sourceId?: number): void {
    for (const run of this.select(sourceId)) run.paused = true;
  }

  /** Keeps reading `sourceId` (all when omitted) but drops its frames unprocessed until {@link resume}. */
  mute(sourceId?: number): void {
    for (const run of this.select(sourceId)) run.muted = true;
  }

  /** Undoes {@link pause} and {@link mute}. */
  resume(sourceId?: number): void {
    for (const run of this.select(sourceId)) {
      run.paused = false;
      run.muted = false;
      run.resumed?.();
      run.resumed = undefined;
    }
  }

  private select(sourceId?: number): SourceRun[] {
    if (sourceId === undefined) return this.runs;
    const run = this.runs[sourceId];
    if (!run) throw new RangeError(`sourceId ${sourceId} does not exist: expected 0..${this.runs.length - 1}`);
    return [run];
  }

  /**
   * Stops everything: closes every source (stopping tracks the pipeline started), closes every pending frame,
   * releases the model sessions and stops the workers. `join()` then resolves. Idempotent.
   */
  async terminate(): Promise<void> {
    if (this.stateValue === 'ended') return;
    if (this.stateValue === 'created') {
      this.stateValue = 'terminating';
      return this.finish();
    }
    this.stateValue = 'terminating';
    this.stopAll();
    await this.joined.catch(() => undefined);
  }
}
