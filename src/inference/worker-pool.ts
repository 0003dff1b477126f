/**
 * A pool of inference workers driven through comlink. Every call is guarded (guarded-worker.ts): a crash, a
 * timeout or `terminate()` rejects it, so nothing hangs.
 */
import * as Comlink from 'comlink';
import { WorkerError } from '../pipeline/errors.ts';
import { GuardedWorker } from './guarded-worker.ts';
import type { InferenceWorkerApi, WorkerDecodeOptions, WorkerLoadRequest, WorkerLoadResult, WorkerResult } from './worker-protocol.ts';

/** One inference worker and its guarded calls. */
export class PoolWorker {
  private readonly worker: GuardedWorker<InferenceWorkerApi>;

  constructor(readonly index: number) {
    const worker = new Worker(new URL('./inference-worker.ts', import.meta.url), { type: 'module', name: `framewise-inference-${index}` });
    this.worker = new GuardedWorker<InferenceWorkerApi>(worker, `worker ${index}`);
  }

  /** Rejects every pending call and stops the worker. Idempotent. */
  kill(reason: string): void {
    this.worker.kill(reason);
  }

  load(request: WorkerLoadRequest, timeoutMs: number): Promise<WorkerLoadResult> {
    // The bytes are copied (not transferred) so every worker of the pool gets its own.
    return this.worker.call('model load', timeoutMs, (api) => api.load(request));
  }

  /** Transfers `frame` to the worker, which closes it. */
  infer(frame: VideoFrame, options: WorkerDecodeOptions, timeoutMs: number): Promise<WorkerResult> {
    const dead = this.worker.dead;
    if (dead) {
      frame.close();
      return Promise.reject(new WorkerError(dead));
    }
    return this.worker.call('inference', timeoutMs, (api) => api.infer(Comlink.transfer(frame, [frame as unknown as Transferable]), options));
  }

  inferTensor(data: Float32Array, frameWidth: number, frameHeight: number, options: WorkerDecodeOptions, timeoutMs: number): Promise<WorkerResult> {
    return this.worker.call('inference', timeoutMs, (api) => api.inferTensor(data, frameWidth, frameHeight, options));
  }

  /** Releases the session (best effort, bounded) and stops the worker. */
  async dispose(): Promise<void> {
    if (this.worker.dead) return;
    await this.worker.call('dispose', 2000, (api) => api.dispose()).catch(() => undefined);
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
