/** Runs the detection model in a pool of inference workers. */
import { startAutoPool } from '../inference/worker-layout.ts';
import { WorkerPool } from '../inference/worker-pool.ts';
import type { WorkerDecodeOptions } from '../inference/worker-protocol.ts';
import { loadModel, type ModelProgress } from '../models/get-model.ts';
import type { ModelDtype, ModelReference } from '../models/model-spec.ts';
import { ModelError } from './errors.ts';
import type { FrameProcessor, Notify, ProcessingSlot } from './frame-processor.ts';
import type { Backend, FramePredictions } from './types.ts';

export interface ModelProcessorOptions {
  modelId: ModelReference;
  backend: Backend;
  /** A count, or 'auto' to measure 1×N threads against N×1 workers and keep the faster (worker-layout.ts). */
  workers: number | 'auto';
  threads?: number;
  wasmPaths?: string;
  /** Roboflow API key (aliases resolve through Roboflow with it; `dataset/version` needs it). Never logged. */
  apiKey?: string;
  /** Roboflow API base URL. Default `https://api.roboflow.com`. */
  apiUrl?: string;
  /** Model hub base URL. Default `https://huggingface.co`. */
  hubUrl?: string;
  /** Hub variant / registry quantization. Default 'fp32'. */
  dtype?: ModelDtype;
  /** Download progress of the model, in bytes. */
  onModelProgress?: (progress: ModelProgress) => void;
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
  /** Aborts a model download still in progress when the pipeline closes. */
  private readonly loading = new AbortController();

  constructor(private readonly options: ModelProcessorOptions) {}

  /** Workers running frames at once (known once started, for `workers: 'auto'`). */
  get concurrency(): number {
    return this.pool?.workers.length ?? (this.options.workers === 'auto' ? 1 : this.options.workers);
  }

  async start(notify: Notify): Promise<void> {
    const o = this.options;
    // Resolution (API or hub requests), then the bytes from IndexedDB or a chunked, resumable download.
    const model = await loadModel(o.modelId, {
      apiKey: o.apiKey,
      apiUrl: o.apiUrl,
      hubUrl: o.hubUrl,
      dtype: o.dtype,
      backend: o.backend,
      signal: this.loading.signal,
      onProgress: o.onModelProgress,
      onStatus: ({ timestamp: _t, ...update }) => notify(update),
    });
    const spec = model.spec;
    if (this.loading.signal.aborted) return;
    const request = {
      modelBytes: model.bytes,
      modelLabel: spec.url,
      inputSize: spec.inputSize,
      classNames: spec.classNames,
      mean: spec.mean,
      std: spec.std,
      resize: spec.resize,
      staticCrop: spec.staticCrop,
      padGrey: spec.padGrey,
      backend: o.backend,
      wasmPaths: o.wasmPaths,
    };
    const modelError = (error: unknown) => {
      throw error instanceof Error && error.name === 'ModelError' ? new ModelError(error.message) : error;
    };
    let started: Awaited<ReturnType<typeof WorkerPool.create>>;
    if (o.workers === 'auto') {
      const auto = await startAutoPool({
        request,
        modelSha256: model.sha256,
        decode: o.decode,
        modelLoadTimeoutMs: o.modelLoadTimeoutMs,
        inferenceTimeoutMs: o.inferenceTimeoutMs,
        threads: o.threads,
      }).catch(modelError);
      started = auto;
      const { chosen, measured, fromCache, reason } = auto.decision;
      notify({
        severity: 'info',
        eventType: 'WORKER_LAYOUT',
        message: `workers 'auto': ${chosen.workers} worker(s) × ${chosen.threads} thread(s) (${reason})`,
        payload: { chosen, measured, fromCache, reason },
      });
      if (auto.load.backend === 'wasm') chooseThreads(chosen.workers, chosen.threads, notify);
    } else {
      const numThreads = chooseThreads(o.workers, o.threads, notify);
      started = await WorkerPool.create(o.workers, { ...request, numThreads }, o.modelLoadTimeoutMs).catch(modelError);
    }
    const { pool, load } = started;
    if (this.loading.signal.aborted) {
      await pool.close('the pipeline was terminated while the model loaded');
      return;
    }
    this.pool = pool;
    notify({ severity: 'info', eventType: 'BACKEND_SELECTED', message: `running on ${load.backend}: ${load.reason}`, payload: { backend: load.backend, reason: load.reason } });
    notify({
      severity: 'info',
      eventType: 'MODEL_LOADED',
      message: `model loaded: input ${load.inputName} ${load.inputSize}×${load.inputSize}, outputs ${load.outputNames.join(', ')}`,
      payload: { ...load, url: spec.url, id: spec.id, fromCache: model.fromCache, cached: model.cached, size: model.size },
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

  private closing?: Promise<void>;
  /** Aborts a download in progress, then releases every session and stops the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.loading.abort();
      await this.pool?.close('the pipeline was terminated');
    })();
    return this.closing;
  }

}
