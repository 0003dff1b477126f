/**
 * A pool of inference workers driven through comlink.
 *
 * comlink leaves a call to a dead worker pending forever; here every call races the worker's `error` event,
 * `terminate()` and a timeout, so nothing hangs.
 */
import * as Comlink from 'comlink';
import { WorkerError, describeError } from '../pipeline/errors.ts';
import type { InferenceWorkerApi, WorkerDecodeOptions, WorkerLoadRequest, WorkerLoadResult, WorkerResult } from './worker-protocol.ts';

/** One worker and its guarded calls. */
export class PoolWorker {
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<InferenceWorkerApi>;
  private readonly pending = new Set<(error: Error) => void>();
  private deadReason?: string;

  constructor(readonly index: number) {
    this.worker = new Worker(new URL('./inference-worker.ts', import.meta.url), { type: 'module', name: `framewise-inference-${index}` });
    this.api = Comlink.wrap<InferenceWorkerApi>(this.worker);
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.kill(`worker ${index} crashed: ${event.message || 'script error (failed to load or threw at top level)'}`);
    });
    this.worker.addEventListener('messageerror', () => this.kill(`worker ${index} sent a message that could not be deserialised`));
  }

  /** Rejects every pending call and stops the worker. Idempotent. */
  kill(reason: string): void {
    if (this.deadReason) return;
    this.deadReason = reason;
    for (const reject of this.pending) reject(new WorkerError(reason));
    this.pending.clear();
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
  }

  private call<T>(what: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
    if (this.deadReason) return Promise.reject(new WorkerError(this.deadReason));
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new WorkerError(`worker ${this.index}: ${what} took longer than ${timeoutMs} ms`));
        this.kill(`worker ${this.index} timed out during ${what}`);
      }, timeoutMs);
      this.pending.add(fail);
      run().then(
        (value) => {
          clearTimeout(timer);
          this.pending.delete(fail);
          resolve(value);
        },
        (error: unknown) => {
          const e = error instanceof Error ? error : new WorkerError(describeError(error));
          fail(e);
        },
      );
    });
  }

  load(request: WorkerLoadRequest, timeoutMs: number): Promise<WorkerLoadResult> {
    // The bytes are copied (not transferred) so every worker of the pool gets its own.
    return this.call('model load', timeoutMs, () => this.api.load(request));
  }

  /** Transfers `frame` to the worker, which closes it. */
  infer(frame: VideoFrame, options: WorkerDecodeOptions, timeoutMs: number): Promise<WorkerResult> {
    if (this.deadReason) {
      frame.close();
      return Promise.reject(new WorkerError(this.deadReason));
    }
    return this.call('inference', timeoutMs, () => this.api.infer(Comlink.transfer(frame, [frame as unknown as Transferable]), options));
  }

  inferTensor(data: Float32Array, frameWidth: number, frameHeight: number, options: WorkerDecodeOptions, timeoutMs: number): Promise<WorkerResult> {
    return this.call('inference', timeoutMs, () => this.api.inferTensor(data, frameWidth, frameHeight, options));
  }

  /** Releases the session (best effort, bounded) and stops the worker. */
  async dispose(): Promise<void> {
    if (this.deadReason) return;
    await this.call('dispose', 2000, () => this.api.dispose()).catch(() => undefined);
    this.kill(`worker ${this.index} was disposed`);
  }
}

/** Hands out idle workers in FIFO order of request. */
export class WorkerPool {
  private readonly idle: PoolWorker[];
  private readonly waiters: Array<{ resolve: (w: PoolWorker) => void; reject: (e: Error) => void }> = [];
  private closedReason?: string;

  private constructor(readonly workers: readonly PoolWorker[]) {
    this.idle = [...workers];
  }

  /** Starts `count` workers and loads the model in each. On failure every worker is stopped. */
  static async create(count: number, request: WorkerLoadRequest, timeoutMs: number): Promise<{ pool: WorkerPool; load: WorkerLoadResult }> {
    const workers = Array.from({ length: count }, (_, i) => new PoolWorker(i));
    const results = await Promise.allSettled(workers.map((w) => w.load(request, timeoutMs)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(workers.map((w) => w.dispose()));
      throw failed.reason;
    }
    return { pool: new WorkerPool(workers), load: (results[0] as PromiseFulfilledResult<WorkerLoadResult>).value };
  }

  /** Waits for an idle worker. Rejects once the pool is closed. */
  acquire(): Promise<PoolWorker> {
    if (this.closedReason) return Promise.reject(new WorkerError(this.closedReason));
    const worker = this.idle.shift();
    if (worker) return Promise.resolve(worker);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(worker: PoolWorker): void {
    if (this.closedReason) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(worker);
    else this.idle.push(worker);
  }

  /** Rejects waiters and disposes every worker. Idempotent. */
  async close(reason = 'the worker pool was closed'): Promise<void> {
    if (this.closedReason) return;
    this.closedReason = reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new WorkerError(reason));
    await Promise.allSettled(this.workers.map((w) => w.dispose()));
  }
}
