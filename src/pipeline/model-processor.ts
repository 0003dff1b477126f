/** Runs the detection model in a pool of inference workers. */
import { WorkerPool } from '../inference/worker-pool.ts';
import type { WorkerDecodeOptions } from '../inference/worker-protocol.ts';
import { fetchModelBytes } from '../models/model-cache.ts';
import { resolveModelSpec, type ModelReference } from '../models/model-spec.ts';
import { ModelError } from './errors.ts';
import type { FrameProcessor, Notify, ProcessingSlot } from './frame-processor.ts';
import type { Backend, FramePredictions } from './types.ts';

export interface ModelProcessorOptions {
  modelId: ModelReference;
  backend: Backend;
  workers: number;
  threads?: number;
  wasmPaths?: string;
  hubUrl?: string;
  decode: WorkerDecodeOptions;
  inferenceTimeoutMs: number;
  modelLoadTimeoutMs: number;
}

/** One worker with N threads, or N workers with one thread each: threads default to the cores per worker, at most 4. */
function chooseThreads(workers: number, requested: number | undefined, notify: Notify): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!isolated) {
    notify({
      severity: 'warning',
      eventType: 'THREADING',
      message:
        'the page is not cross-origin isolated, so WASM runs single-threaded: serve it with "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" for multithreading',
      payload: { threads: 1, crossOriginIsolated: false },
    });
    return 1;
  }
  const cores = navigator.hardwareConcurrency || 1;
  const threads = requested ?? Math.max(1, Math.min(4, Math.floor(cores / workers)));
  notify({ severity: 'info', eventType: 'THREADING', message: `${workers} worker(s) × ${threads} WASM thread(s)`, payload: { threads, workers, cores, crossOriginIsolated: true } });
  return threads;
}

export class ModelProcessor implements FrameProcessor {
  private pool?: WorkerPool;
  readonly concurrency: number;

  constructor(private readonly options: ModelProcessorOptions) {
    this.concurrency = options.workers;
  }

  async start(notify: Notify): Promise<void> {
    const o = this.options;
    const spec = resolveModelSpec(o.modelId, { hubUrl: o.hubUrl });
    notify({ severity: 'info', eventType: 'MODEL_LOADING', message: `loading model ${spec.url}`, payload: { url: spec.url } });
    const fetched = await fetchModelBytes(spec.url);
    if (fetched.fromCache) notify({ severity: 'info', eventType: 'MODEL_CACHE_HIT', message: `model read from the IndexedDB cache (${fetched.bytes.byteLength} bytes)`, payload: { url: spec.url } });
    if (fetched.warning) notify({ severity: 'warning', eventType: 'MODEL_LOADING', message: fetched.warning, payload: { url: spec.url } });
    const numThreads = chooseThreads(o.workers, o.threads, notify);
    const { pool, load } = await WorkerPool.create(
      o.workers,
      {
        modelBytes: fetched.bytes,
        modelLabel: spec.url,
        inputSize: spec.inputSize,
        classNames: spec.classNames,
        mean: spec.mean,
        std: spec.std,
        resize: spec.resize,
        staticCrop: spec.staticCrop,
        padGrey: spec.padGrey,
        backend: o.backend,
        numThreads,
        wasmPaths: o.wasmPaths,
      },
      o.modelLoadTimeoutMs,
    ).catch((error: unknown) => {
      throw error instanceof Error && error.name === 'ModelError' ? new ModelError(error.message) : error;
    });
    this.pool = pool;
    notify({ severity: 'info', eventType: 'BACKEND_SELECTED', message: `running on ${load.backend}: ${load.reason}`, payload: { backend: load.backend, reason: load.reason } });
    notify({
      severity: 'info',
      eventType: 'MODEL_LOADED',
      message: `model loaded: input ${load.inputName} ${load.inputSize}×${load.inputSize}, outputs ${load.outputNames.join(', ')}`,
      payload: { ...load, url: spec.url },
    });
  }

  async acquire(): Promise<ProcessingSlot> {
    const pool = this.pool;
    if (!pool) throw new ModelError('the model is not loaded');
    const worker = await pool.acquire();
    return {
      run: async (frame, meta): Promise<FramePredictions> => {
        const result = await worker.infer(frame, this.options.decode, this.options.inferenceTimeoutMs);
        return {
          image: { width: meta.width, height: meta.height },
          predictions: result.predictions,
          frame_id: meta.frameId,
          source_id: meta.sourceId,
          frame_timestamp: meta.frameTimestamp,
        };
      },
      release: () => pool.release(worker),
    };
  }

  /** Exposed for parity tests and benchmarks: the first worker, for `inferTensor`. */
  get workerPool(): WorkerPool | undefined {
    return this.pool;
  }

  async close(): Promise<void> {
    await this.pool?.close('the pipeline was terminated');
  }
}
