/**
 * InferencePipeline: video sources → (worker pool | custom logic) → sinks, with status events and controls.
 *
 * Scheduling works in rounds, as the reference's multiplexer does: wait for room (rounds in flight are bounded,
 * so a slow sink slows the sources instead of growing a queue) and a free processing slot, then take at most one
 * frame from every source's buffer, dispatch them, and deliver the round's results to the sink in round order.
 * Taking frames only once a slot is free means a live source hands over its freshest frame.
 */
import { checkModelReference } from '../models/model-spec.ts';
import type { ModelDtype, ModelReference } from '../models/model-spec.ts';
import type { ModelProgress } from '../models/get-model.ts';
import type { GrabbedFrame } from '../sources/frame-source.ts';
import { checkReference, openSource } from '../sources/resolve-source.ts';
import { checkRtspRelay, type RtspRelay } from '../sources/rtsp-relay.ts';
import { CustomLogicProcessor, type OnVideoFrame } from './custom-logic-processor.ts';
import { PipelineSourcesError, SourceError, describeError } from './errors.ts';
import { FpsMeter } from './fps-meter.ts';
import { BUFFER_CONSUMPTION_STRATEGIES, BUFFER_FILLING_STRATEGIES, type BufferConsumptionStrategy, type BufferFillingStrategy } from './frame-buffer.ts';
import { SourceFeed } from './source-feed.ts';
import { PipelineWatchdog } from './watchdog.ts';
import { detachFrame } from './detach-frame.ts';
import type { FrameProcessor, Notify, ProcessingSlot } from './frame-processor.ts';
import { ModelProcessor } from './model-processor.ts';
import { Semaphore } from './semaphore.ts';
import { WorkflowProcessor, checkWorkflow } from './workflow-processor.ts';
import type { ChromeTrace } from '../workflows/profiler.ts';
import type { WorkflowResult } from '../workflows/serialize.ts';
import type { WorkflowSpecification } from '../workflows/workflow-schema.ts';
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

/** A sink in sequential mode: one call per frame. */
export type FrameSink<R> = (result: R, frame: FrameMetadata) => void | Promise<void>;
/** A sink in batch mode: one call per round, arrays indexed by source id, `null` where a source had no frame. */
export type BatchSink<R> = (results: (R | null)[], frames: (FrameMetadata | null)[]) => void | Promise<void>;
/** A sink in adaptive mode gets a single result with one source and arrays with several: narrow with `Array.isArray`. */
export type AdaptiveSink<R> = (results: R | (R | null)[], frames: FrameMetadata | (FrameMetadata | null)[]) => void | Promise<void>;

/**
 * How results reach the sink, which is called in frame order per source, one call at a time. Errors it throws
 * become INFERENCE_RESULTS_DISPATCHING_ERROR events and the pipeline goes on.
 * - `sequential` (default): once per frame, with `source_id` telling sources apart.
 * - `batch`: once per round, arrays indexed by source id with `null` where a source had no frame.
 * - `adaptive` (the reference's default): batch when there are several sources, sequential otherwise.
 */
export type SinkOptions<R> =
  | { sinkMode?: 'sequential'; onPrediction?: FrameSink<R> }
  | { sinkMode: 'batch'; onPrediction?: BatchSink<R> }
  | { sinkMode: 'adaptive'; onPrediction?: AdaptiveSink<R> };

/** The sink modes of {@link SinkOptions}. */
export type SinkMode = 'sequential' | 'batch' | 'adaptive';

/** Options shared by every way of building a pipeline, apart from the sink. */
export interface PipelineBaseOptions {
  /** What to read: see {@link VideoReference}. */
  videoReference: VideoReference;
  /** In batch mode, seconds to wait for every source to have a frame before a round goes without them. Default: no limit. */
  batchCollectionTimeout?: number;
  /**
   * Frames buffered per source. Default 4 for files, 1 for live sources: each holds decoder or camera memory, and
   * a camera stalls when too many of its frames are held.
   */
  bufferSize?: number;
  /** Default: 'WAIT' for files, 'DROP_OLDEST' for live sources (the freshest frame waits). */
  bufferFillingStrategy?: BufferFillingStrategy;
  /** Default: 'LAZY' for files, 'EAGER' for live sources. */
  bufferConsumptionStrategy?: BufferConsumptionStrategy;
  /** Webcam constraints. */
  videoSourceProperties?: VideoSourceProperties;
  /** The relay that serves `rtsp://…` references over WHEP: `{ url: 'http://127.0.0.1:8889', kind: 'mediamtx' | 'go2rtc' }`. */
  rtspRelay?: RtspRelay;
  /** Called with every status event. */
  statusUpdateHandlers?: StatusHandler[];
  /**
   * Upper bound on frames processed per second per source. Live sources drop frames to hold the rate; files
   * process every Nth frame, N = round(file fps ÷ maxFps), so the kept frames keep the file's own timing.
   */
  maxFps?: number;
}

/** Everything a pipeline takes apart from how it computes results. */
export type PipelineOptions<R> = PipelineBaseOptions & SinkOptions<R>;

/** The model options of {@link InferencePipeline.init}. */
export interface InitModelOptions {
  /** An RF-DETR alias, a Roboflow `dataset/version` (with `apiKey`), `{ url, ... }` or `{ data }`. */
  modelId: ModelReference;
  /** Keep detections scoring above this, 0..1. Default 0.4. */
  confidence?: number;
  /** When set, class-wise NMS with this IoU threshold (RF-DETR needs none). Default: off. */
  iouThreshold?: number;
  /** Top-k over all query × class scores. Default 300. */
  maxDetections?: number;
  /** 'auto' (default) tries WebGPU and falls back to WASM; 'webgpu' and 'wasm' force one. */
  backend?: Backend;
  /**
   * Inference workers. Default 1. `'auto'` measures one worker with all cores' WASM threads against one
   * single-threaded worker per core (up to 4) on the model, keeps the faster, and remembers the choice per model
   * and machine in IndexedDB (`WORKER_LAYOUT` event). WebGPU always runs one worker.
   */
  workers?: number | 'auto';
  /** WASM threads per worker. Default: cores ÷ workers, at most 4, when cross-origin isolated; else 1. */
  threads?: number;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served. Default: next to onnxruntime-web's module. */
  wasmPaths?: string;
  /** Model hub base URL for RF-DETR aliases. Default `https://huggingface.co`. */
  hubUrl?: string;
  /**
   * Roboflow API key. With it, aliases resolve through Roboflow's API (rfdetr-nano → coco/38, …); `dataset/version`
   * model ids need it. Sent only to `apiUrl`; never logged, stored, or part of an error or cache key.
   */
  apiKey?: string;
  /** Roboflow API base URL. Default `https://api.roboflow.com`. */
  apiUrl?: string;
  /**
   * Which ONNX variant of a hub model to load: 'fp32' (default), 'fp16' (needs WebGPU's `shader-f16`; falls back to
   * fp32 with a MODEL_LOADING warning), 'q8' (8-bit quantized). Picks the package quantization for Roboflow's registry.
   */
  dtype?: ModelDtype;
  /** Called as the model downloads, with `{ loaded, total }` in bytes (once, complete, for a cache hit). */
  onModelProgress?: (progress: ModelProgress) => void;
  /** Milliseconds one frame may take in a worker before the worker is considered dead. Default 60000. */
  inferenceTimeoutMs?: number;
  /** Milliseconds a worker may take to create its session. Default 120000. */
  modelLoadTimeoutMs?: number;
}

/** Options of {@link InferencePipeline.init}. */
export type InitOptions = InitModelOptions & PipelineOptions<FramePredictions>;

/** Options of {@link InferencePipeline.initWithCustomLogic}. */
export type CustomLogicOptions<R> = PipelineOptions<R> & {
  /** Gets the frames (one per call) and returns one result per frame. The frame is closed after it returns. */
  onVideoFrame: OnVideoFrame<R>;
};

/**
 * Options of {@link InferencePipeline.initWithWorkflow}: a workflow specification (or a registered workflow) instead
 * of a model, with the model options that apply to the workflow's model steps.
 */
export type WorkflowOptions = PipelineOptions<WorkflowResult> &
  Omit<InitModelOptions, 'modelId' | 'confidence' | 'iouThreshold' | 'maxDetections' | 'workers'> & {
    /**
     * Where @mediapipe/tasks-vision's WASM fileset (`vision_wasm_*`) is served, for MediaPipe blocks. Default: next
     * to the package in `node_modules` (right for Vite's dev server); bundled apps copy that folder and set this.
     * A block's own `wasm_path` property wins.
     */
    mediapipeWasmPath?: string;
    /** Roboflow's workflow specification v1 (an object or its JSON text). Omit it to fetch a registered workflow. */
    workflowSpecification?: WorkflowSpecification | Record<string, unknown> | string;
    /** Workspace of a registered workflow (with `workflowId` and `apiKey`). */
    workspaceName?: string;
    /** Id of a registered workflow, fetched from `{apiUrl}/{workspaceName}/workflows/{workflowId}`. */
    workflowId?: string;
    /** The `WorkflowImage` input the frames feed. Default 'image'. */
    imageInputName?: string;
    /** The `WorkflowVideoMetadata` input. Default 'video_metadata'. */
    videoMetadataInputName?: string;
    /** Values of the `WorkflowParameter` inputs, by name. */
    workflowsParameters?: Record<string, unknown>;
    /** Roboflow's JSON for detections and base64 JPEG for images. Default false: typed detections, `ImageBitmap` images. */
    serializeResults?: boolean;
    /** Record each step's time on each frame; read it with `workflowProfile()`. Default false. */
    profiling?: boolean;
    /** Frames of step timings kept when profiling. Default 64. */
    profilerBufferSize?: number;
  };

/** A pipeline built by {@link InferencePipeline.initWithWorkflow}. */
export type WorkflowPipeline = InferencePipeline<WorkflowResult> & {
  /** Chrome trace-event JSON of the last `profilerBufferSize` frames: one complete event per step per frame (empty without `profiling`). */
  workflowProfile(): ChromeTrace;
  /**
   * Changes workflow parameter values (`WorkflowParameter` inputs) from the next frame on, e.g. the model a step
   * runs (`model_id: $inputs.model`, loaded on demand). Rejects with the typed workflow error when a value does not
   * fit its input, or when the workflow isn't running.
   */
  updateWorkflowParameters(values: Record<string, unknown>): Promise<void>;
};

/** The pipeline's lifecycle: `created` → `running` → (`terminating` →) `ended`. */
export type PipelineState = 'created' | 'running' | 'terminating' | 'ended';

interface SourceSlot {
  sourceId: number;
  reference: SingleVideoReference;
  feed?: SourceFeed;
  /** Opening, running, or done (ended, failed or removed). */
  phase: 'opening' | 'running' | 'done';
  /** Aborted by removeSource(), so a source that is still connecting stops at once. */
  removed: AbortController;
  fps: FpsMeter;
}

interface FrameResult<R> {
  slot: SourceSlot;
  grabbed: GrabbedFrame;
  image: VideoFrame;
  result?: R;
  failed: boolean;
  dispatchedAt: number;
  completedAt: number;
}

function numberOption(path: string, value: number | undefined, fallback: number, min: number, max = Infinity, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${path} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function workersOption(value: number | 'auto' | undefined): number | 'auto' {
  if (value === 'auto') return value;
  if (typeof value === 'string') throw new TypeError(`workers must be an integer in [1, 16] or 'auto', got ${JSON.stringify(value)}`);
  return numberOption('workers', value, 1, 1, 16, true);
}

function oneOf<T extends string>(path: string, value: T | undefined, valid: readonly T[]): T | undefined {
  if (value !== undefined && !valid.includes(value)) throw new TypeError(`${path} must be one of ${valid.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a model (or custom logic, or a workflow) on every frame of one or more video sources and hands the results
 * to a sink. Build it with {@link InferencePipeline.init}, {@link InferencePipeline.initWithCustomLogic} or
 * `initWithWorkflow`, then `start()` and `await join()`. It owns the sources it opens (closing them and stopping
 * tracks it started), every frame it hands out (closed after the sink returns), the model sessions and the
 * workers; `terminate()` releases all of them.
 */
export class InferencePipeline<R = FramePredictions> {
  private stateValue: PipelineState = 'created';
  private readonly slots: SourceSlot[] = [];
  private readonly handlers: StatusHandler[];
  private readonly roundsInFlight: Semaphore;
  private sinkChain: Promise<void> = Promise.resolve();
  private readonly sourceErrors: SourceError[] = [];
  private fatal?: Error;
  private readonly joined: Promise<void>;
  private settleJoin!: { resolve: () => void; reject: (e: Error) => void };
  private readonly stopped = new AbortController();
  private wakeScheduler?: () => void;
  private readonly sinkMode: SinkMode;
  /** Runtime numbers: latencies, throughput, drops, states and recent events. */
  readonly watchdog: PipelineWatchdog;

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
    if (options.rtspRelay !== undefined) checkRtspRelay(options.rtspRelay, 'rtspRelay');
    numberOption('bufferSize', options.bufferSize, 4, 1, 1024, true);
    numberOption('batchCollectionTimeout', options.batchCollectionTimeout, 0, 0);
    this.sinkMode = oneOf('sinkMode', options.sinkMode, ['sequential', 'batch', 'adaptive'] as const) ?? 'sequential';
    oneOf('bufferFillingStrategy', options.bufferFillingStrategy, BUFFER_FILLING_STRATEGIES);
    oneOf('bufferConsumptionStrategy', options.bufferConsumptionStrategy, BUFFER_CONSUMPTION_STRATEGIES);
    refs.forEach((reference) => this.slots.push({ sourceId: this.slots.length, reference, phase: 'opening', removed: new AbortController(), fps: new FpsMeter() }));
    this.handlers = [...(options.statusUpdateHandlers ?? [])];
    // Rounds dispatched but not yet through the sink: one per processing slot plus one waiting for the sink. The
    // permits are added once the processor has started and knows its concurrency (`workers: 'auto'`).
    this.roundsInFlight = new Semaphore(0);
    this.watchdog = new PipelineWatchdog(() =>
      this.slots.map((s) => ({ sourceId: s.sourceId, state: s.feed?.state ?? (s.phase === 'opening' ? 'INITIALISING' : 'ENDED'), droppedFrames: s.feed?.droppedFrames ?? 0 })),
    );
    this.joined = new Promise((resolve, reject) => (this.settleJoin = { resolve, reject }));
    this.joined.catch(() => undefined); // join() hands the rejection to the caller; no unhandled-rejection noise.
  }

  /**
   * Builds a pipeline that runs an RF-DETR model on every frame. Nothing starts until {@link start}.
   * Throws TypeError for malformed options (the message names the option and the value).
   */
  static init(options: InitOptions): InferencePipeline<FramePredictions> {
    checkModelReference(options.modelId, { apiKey: options.apiKey, apiUrl: options.apiUrl, hubUrl: options.hubUrl, dtype: options.dtype }); // fail fast on a malformed model reference; no request
    const processor = new ModelProcessor({
      modelId: options.modelId,
      backend: InferencePipeline.checkBackend(options.backend),
      workers: workersOption(options.workers),
      threads: options.threads === undefined ? undefined : numberOption('threads', options.threads, 1, 1, 64, true),
      wasmPaths: options.wasmPaths,
      hubUrl: options.hubUrl,
      apiKey: options.apiKey,
      apiUrl: options.apiUrl,
      dtype: options.dtype,
      onModelProgress: options.onModelProgress,
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

  /**
   * Builds a pipeline that runs a Roboflow workflow specification (v1) on every frame, in a worker next to the
   * model sessions. An inline specification is checked and compiled here: its errors throw at once, typed
   * (`WorkflowSyntaxError`, `DuplicatedNameError`, `InvalidReferenceTargetError`, `ReferenceTypeError`,
   * `ExecutionGraphStructureError`, `RuntimeInputError`). A registered workflow is fetched when the pipeline starts.
   */
  static initWithWorkflow(options: WorkflowOptions): WorkflowPipeline {
    const parameters = options.workflowsParameters ?? {};
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
      throw new TypeError(`workflowsParameters must be an object of parameter values by name, got ${JSON.stringify(parameters)}`);
    }
    const imageInputName = options.imageInputName ?? 'image';
    const videoMetadataInputName = options.videoMetadataInputName ?? 'video_metadata';
    let registered: { workspaceName: string; workflowId: string } | undefined;
    if (options.workflowSpecification === undefined) {
      if (!options.workspaceName || !options.workflowId || !options.apiKey) {
        throw new TypeError('initWithWorkflow needs workflowSpecification, or workspaceName + workflowId + apiKey for a registered workflow');
      }
      registered = { workspaceName: options.workspaceName, workflowId: options.workflowId };
    } else {
      checkWorkflow(options.workflowSpecification, parameters, imageInputName, videoMetadataInputName);
    }
    const processor = new WorkflowProcessor({
      specification: options.workflowSpecification,
      registered,
      parameters,
      imageInputName,
      videoMetadataInputName,
      serializeResults: options.serializeResults ?? false,
      profiling: options.profiling ?? false,
      profilerBufferSize: numberOption('profilerBufferSize', options.profilerBufferSize, 64, 1, 1_000_000, true),
      backend: InferencePipeline.checkBackend(options.backend),
      threads: options.threads === undefined ? undefined : numberOption('threads', options.threads, 1, 1, 64, true),
      wasmPaths: options.wasmPaths,
      mediapipeWasmPath: options.mediapipeWasmPath,
      apiKey: options.apiKey,
      apiUrl: options.apiUrl,
      hubUrl: options.hubUrl,
      dtype: options.dtype,
      onModelProgress: options.onModelProgress,
      inferenceTimeoutMs: numberOption('inferenceTimeoutMs', options.inferenceTimeoutMs, 60_000, 1),
      modelLoadTimeoutMs: numberOption('modelLoadTimeoutMs', options.modelLoadTimeoutMs, 120_000, 1),
    });
    const pipeline = new InferencePipeline<WorkflowResult>(processor, options);
    return Object.assign(pipeline, {
      workflowProfile: (): ChromeTrace => processor.profiler.toChromeTrace(),
      updateWorkflowParameters: (values: Record<string, unknown>): Promise<void> => {
        if (typeof values !== 'object' || values === null || Array.isArray(values)) {
          return Promise.reject(new TypeError(`updateWorkflowParameters needs an object of parameter values by name, got ${JSON.stringify(values)}`));
        }
        return processor.updateParameters(values);
      },
    });
  }

  private static checkBackend(backend: Backend | undefined): Backend {
    return oneOf('backend', backend, ['auto', 'webgpu', 'wasm'] as const) ?? 'auto';
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
    const full: StatusUpdate = { timestamp: Date.now(), context: 'inference_pipeline', ...update };
    this.watchdog.recordStatus(full);
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

  /** Set by wake(); the scheduler clears it before reading state, so a change that lands mid-round isn't lost. */
  private wakePending = false;

  private wake(): void {
    this.wakePending = true;
    const wake = this.wakeScheduler;
    this.wakeScheduler = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    this.notify({ severity: 'info', eventType: 'PIPELINE_STARTING', message: `starting ${this.slots.length} source(s)` });
    try {
      // Sources open while the model loads.
      const opening = this.slots.map((slot) => this.openSlot(slot));
      await this.processor.start(this.notify);
      for (let i = 0; i <= this.processor.concurrency; i++) this.roundsInFlight.release();
      if (!this.stopped.signal.aborted) {
        this.notify({ severity: 'info', eventType: 'PIPELINE_STARTED', message: 'pipeline started' });
        await this.schedule();
      }
      await Promise.allSettled(opening);
      await this.sinkChain;
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(describeError(error)));
    }
    await this.finish();
  }

  private async openSlot(slot: SourceSlot): Promise<void> {
    const { sourceId } = slot;
    try {
      const opened = await openSource(sourceId, slot.reference, this.options.videoSourceProperties, this.notify, {
        rtspRelay: this.options.rtspRelay,
        signal: AbortSignal.any([this.stopped.signal, slot.removed.signal]),
      });
      if (this.stopped.signal.aborted || slot.phase === 'done') {
        opened.source.close();
        return;
      }
      this.notify({
        severity: 'info',
        eventType: 'SOURCE_STARTED',
        sourceId,
        context: 'video_source',
        message: `${opened.info.description}: ${opened.info.width}×${opened.info.height} at ${opened.info.fps.toFixed(1)} fps`,
        payload: { ...opened.info },
      });
      slot.feed = new SourceFeed(
        sourceId,
        opened.source,
        opened.info,
        {
          bufferSize: this.options.bufferSize,
          filling: this.options.bufferFillingStrategy,
          consumption: this.options.bufferConsumptionStrategy,
          maxFps: this.options.maxFps,
        },
        this.notify,
      );
      slot.feed.start();
      slot.phase = 'running';
    } catch (error) {
      slot.phase = 'done';
      this.recordSourceError(slot, error);
    }
    this.wake();
  }

  private recordSourceError(slot: SourceSlot, error: unknown): void {
    if (this.stopped.signal.aborted) return;
    const failure = error instanceof SourceError ? error : new SourceError(slot.sourceId, describeError(error), { cause: error });
    this.sourceErrors.push(failure);
    this.notify({ severity: 'error', eventType: 'SOURCE_ERROR', sourceId: slot.sourceId, context: 'video_source', message: failure.message });
  }

  /** Marks sources whose feed is exhausted as done, reporting how they ended. */
  private retireExhausted(): void {
    for (const slot of this.slots) {
      const feed = slot.feed;
      if (slot.phase !== 'running' || !feed?.exhausted) continue;
      slot.phase = 'done';
      if (feed.error) this.recordSourceError(slot, feed.error);
      else {
        // After the source's last dispatched round has reached the sink, so a handler may terminate on it.
        this.sinkChain = this.sinkChain.then(() =>
          this.notify({ severity: 'info', eventType: 'SOURCE_ENDED', sourceId: slot.sourceId, context: 'video_source', message: `${feed.info.description} ended`, payload: { droppedFrames: feed.droppedFrames } }),
        );
      }
      feed.close(feed.error ? 'ERROR' : 'ENDED');
    }
  }

  private get batchMode(): boolean {
    return this.sinkMode === 'batch' || (this.sinkMode === 'adaptive' && this.slots.length > 1);
  }

  /** Waits until a running source has a frame, a source changes phase, or the pipeline stops. */
  private async waitForWork(running: SourceSlot[]): Promise<void> {
    if (this.wakePending || this.stopped.signal.aborted) return;
    const changed = new Promise<void>((resolve) => (this.wakeScheduler = resolve));
    await Promise.race([changed, ...running.map((s) => s.feed!.waitForFrame())]);
  }

  private async schedule(): Promise<void> {
    for (;;) {
      this.wakePending = false;
      this.retireExhausted();
      if (this.stopped.signal.aborted) return;
      const running = this.slots.filter((s) => s.phase === 'running');
      if (running.length === 0) {
        if (this.slots.every((s) => s.phase === 'done')) return;
        await this.waitForWork(running); // sources still opening
        continue;
      }
      let firstSlot: ProcessingSlot;
      try {
        await this.roundsInFlight.acquire();
      } catch {
        return; // stopped
      }
      try {
        // Hold a processing slot before taking frames, so no frame waits outside its buffer: a live source's
        // buffer strategy keeps deciding what is freshest until the moment a frame can actually run.
        firstSlot = await this.processor.acquire();
      } catch (error) {
        this.roundsInFlight.release();
        if (!this.stopped.signal.aborted) this.fail(error instanceof Error ? error : new Error(describeError(error)));
        return;
      }
      let round: { slot: SourceSlot; grabbed: GrabbedFrame }[] = [];
      try {
        round = await this.collectRound();
      } finally {
        if (round.length === 0) {
          firstSlot.release();
          this.roundsInFlight.release();
        }
      }
      if (round.length > 0) this.dispatchRound(round, firstSlot);
    }
  }

  /** Takes at most one frame from each running source (in batch mode, waiting for all up to the timeout). */
  private async collectRound(): Promise<{ slot: SourceSlot; grabbed: GrabbedFrame }[]> {
    let running = this.slots.filter((s) => s.phase === 'running');
    if (!running.some((s) => s.feed!.buffered > 0)) {
      await this.waitForWork(running);
      this.retireExhausted();
      running = this.slots.filter((s) => s.phase === 'running');
    }
    if (this.stopped.signal.aborted) return [];
    if (this.batchMode && running.length > 1) {
      const everyone = Promise.all(running.map((s) => s.feed!.waitForFrame()));
      const timeout = this.options.batchCollectionTimeout;
      await (timeout === undefined ? everyone : Promise.race([everyone, sleep(timeout * 1000)]));
    }
    const round: { slot: SourceSlot; grabbed: GrabbedFrame }[] = [];
    for (const slot of running) {
      const grabbed = slot.feed!.take();
      if (grabbed) round.push({ slot, grabbed });
    }
    return round;
  }

  /** Runs every frame of a round and queues its delivery after the previous rounds'. */
  private dispatchRound(round: { slot: SourceSlot; grabbed: GrabbedFrame }[], firstSlot: ProcessingSlot): void {
    const results = round.map(({ slot, grabbed }, i) => this.runFrame(slot, grabbed, i === 0 ? firstSlot : undefined));
    this.sinkChain = this.sinkChain.then(async () => {
      const finished = await Promise.all(results);
      try {
        if (!this.stopped.signal.aborted && !finished.some((f) => f.failed)) await this.deliver(finished);
      } finally {
        for (const f of finished) f.image.close();
        this.roundsInFlight.release();
      }
    });
  }

  private async runFrame(slot: SourceSlot, grabbed: GrabbedFrame, held?: ProcessingSlot): Promise<FrameResult<R>> {
    const feed = slot.feed!;
    if (!feed.info.comesFromVideoFile) {
      // A live frame is in flight for a whole inference and then reaches the sink: hold a copy, not the camera's
      // (or decoder's) own buffer, so the source keeps producing meanwhile (see detach-frame.ts).
      grabbed = { ...grabbed, frame: await detachFrame(grabbed.frame, (error) => this.warnDetachFailed(slot.sourceId, error)) };
    }
    const image = grabbed.frame.clone();
    const out: FrameResult<R> = { slot, grabbed, image, failed: false, dispatchedAt: 0, completedAt: 0 };
    let processing: ProcessingSlot;
    try {
      processing = held ?? (await this.processor.acquire());
    } catch (error) {
      grabbed.frame.close();
      out.failed = true;
      if (!this.stopped.signal.aborted) this.fail(error instanceof Error ? error : new Error(describeError(error)));
      return out;
    }
    out.dispatchedAt = Date.now();
    this.notify({ severity: 'debug', eventType: 'INFERENCE_STARTED', sourceId: slot.sourceId, message: `frame ${grabbed.frameId} dispatched`, payload: { frame_id: grabbed.frameId } });
    try {
      out.result = (await processing.run(grabbed.frame, {
        frameId: grabbed.frameId,
        frameTimestamp: grabbed.grabbedAt / 1000,
        mediaTimestamp: grabbed.mediaTimestamp,
        sourceId: slot.sourceId,
        fps: feed.info.fps,
        comesFromVideoFile: feed.info.comesFromVideoFile,
        width: image.displayWidth,
        height: image.displayHeight,
      })) as R;
      out.completedAt = Date.now();
      this.notify({ severity: 'debug', eventType: 'INFERENCE_COMPLETED', sourceId: slot.sourceId, message: `frame ${grabbed.frameId} done`, payload: { frame_id: grabbed.frameId } });
    } catch (error) {
      out.failed = true;
      if (!this.stopped.signal.aborted) {
        const e = error instanceof Error ? error : new Error(describeError(error));
        this.notify({ severity: 'error', eventType: 'INFERENCE_ERROR', sourceId: slot.sourceId, message: `frame ${grabbed.frameId}: ${e.message}`, payload: { frame_id: grabbed.frameId } });
        this.fail(e);
      }
    } finally {
      processing.release();
    }
    return out;
  }

  private detachWarned = false;
  private warnDetachFailed(sourceId: number, error: unknown): void {
    if (this.detachWarned) return;
    this.detachWarned = true;
    this.notify({
      severity: 'warning',
      eventType: 'FRAME_COPY_FAILED',
      sourceId,
      message: `could not copy a live frame out of the source's buffers (${describeError(error)}); processing the source's own frames, which may slow a camera down`,
    });
  }

  private metadata(f: FrameResult<R>): FrameMetadata {
    const feed = f.slot.feed!;
    return {
      image: f.image,
      frameId: f.grabbed.frameId,
      frameTimestamp: f.grabbed.grabbedAt / 1000,
      mediaTimestamp: f.grabbed.mediaTimestamp,
      sourceId: f.slot.sourceId,
      fps: feed.info.fps,
      measuredFps: f.slot.fps.tick(),
      comesFromVideoFile: feed.info.comesFromVideoFile,
      latencyMs: Date.now() - f.grabbed.grabbedAt,
      droppedFrames: feed.droppedFrames,
    };
  }

  /** Calls the sink for one round: per frame in sequential mode, once with arrays in batch mode. */
  private async deliver(finished: FrameResult<R>[]): Promise<void> {
    const sink = this.options.onPrediction;
    const metas = finished.map((f) => this.metadata(f));
    const sunkAt = Date.now();
    finished.forEach((f) => this.watchdog.recordFrame(f.slot.sourceId, f.grabbed.grabbedAt, f.dispatchedAt, f.completedAt, sunkAt));
    if (!sink) return;
    const report = (error: unknown, frameIds: number[], sourceId?: number) =>
      this.notify({
        severity: 'warning',
        eventType: 'INFERENCE_RESULTS_DISPATCHING_ERROR',
        context: 'sink',
        sourceId,
        message: `the sink threw on frame ${frameIds.join(', ')}: ${describeError(error)}`,
        payload: { frameIds },
      });
    if (this.batchMode) {
      const results: (R | null)[] = this.slots.map(() => null);
      const frames: (FrameMetadata | null)[] = this.slots.map(() => null);
      finished.forEach((f, i) => {
        results[f.slot.sourceId] = f.result as R;
        frames[f.slot.sourceId] = metas[i]!;
      });
      try {
        await (sink as BatchSink<R>)(results, frames);
      } catch (error) {
        report(error, finished.map((f) => f.grabbed.frameId));
      }
      return;
    }
    for (const [i, f] of finished.entries()) {
      try {
        await (sink as FrameSink<R>)(f.result as R, metas[i]!);
      } catch (error) {
        report(error, [f.grabbed.frameId], f.slot.sourceId);
      }
    }
  }

  private fail(error: Error): void {
    if (this.fatal || this.stopped.signal.aborted) return;
    this.fatal = error;
    this.notify({ severity: 'error', eventType: 'PIPELINE_ERROR', message: error.message, payload: { name: error.name } });
    this.stopAll();
  }

  private stopAll(): void {
    this.stopped.abort();
    // Frees the workers (and aborts a model download) now: terminate() must not wait for in-flight work.
    void this.processor.close();
    this.roundsInFlight.close(new Error('stopped'));
    for (const slot of this.slots) {
      slot.feed?.close();
      slot.phase = 'done';
    }
    this.wake();
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

  /**
   * Adds a source to a running (or not yet started) pipeline and returns its source id. In batch mode the arrays
   * grow by one entry.
   */
  addSource(reference: SingleVideoReference): number {
    if (this.stateValue === 'terminating' || this.stateValue === 'ended') throw new Error(`addSource() is not allowed in state "${this.stateValue}"`);
    checkReference(reference, 'reference');
    const slot: SourceSlot = { sourceId: this.slots.length, reference, phase: 'opening', removed: new AbortController(), fps: new FpsMeter() };
    this.slots.push(slot);
    if (this.stateValue === 'running') void this.openSlot(slot);
    return slot.sourceId;
  }

  /** Stops and removes a source: its buffered frames are closed; frames already dispatched still reach the sink. */
  removeSource(sourceId: number): void {
    const [slot] = this.select(sourceId);
    if (slot!.phase === 'done') return;
    slot!.phase = 'done';
    slot!.removed.abort();
    slot!.feed?.close();
    this.notify({ severity: 'info', eventType: 'SOURCE_ENDED', sourceId, context: 'video_source', message: `source ${sourceId} removed` });
    this.wake();
  }

  /** Stops taking frames from `sourceId` (all sources when omitted) until {@link resume}. */
  pause(sourceId?: number): void {
    for (const slot of this.select(sourceId)) slot.feed?.pause();
  }

  /** Keeps reading `sourceId` (all when omitted) but drops its frames unprocessed until {@link resume}. */
  mute(sourceId?: number): void {
    for (const slot of this.select(sourceId)) slot.feed?.mute();
  }

  /** Undoes {@link pause} and {@link mute}. */
  resume(sourceId?: number): void {
    for (const slot of this.select(sourceId)) slot.feed?.resume();
  }

  private select(sourceId?: number): SourceSlot[] {
    if (sourceId === undefined) return this.slots;
    const slot = this.slots[sourceId];
    if (!slot) throw new RangeError(`sourceId ${sourceId} does not exist: expected 0..${this.slots.length - 1}`);
    return [slot];
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
