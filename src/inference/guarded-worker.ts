/**
 * A module worker driven through comlink whose calls can't hang.
 *
 * comlink leaves a call to a dead worker pending forever. Here every call races the worker's `error` and
 * `messageerror` events, `kill()` and a timeout: whichever comes first settles it, and a timeout or a crash kills
 * the worker and rejects every other pending call with the same reason.
 */
import * as Comlink from 'comlink';
import { WorkerError, describeError } from '../pipeline/errors.ts';

export class GuardedWorker<Api> {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<Api>;
  private readonly pending = new Set<(error: Error) => void>();
  private deadReason?: string;
  private readonly label: string;

  /**
   * Takes over `worker`. Create the Worker at the call site, from a `new URL(…, import.meta.url)` of its module
   * with `type: 'module'`: bundlers recognise a worker entry only in that form. `label` names it in messages.
   */
  constructor(worker: Worker, label: string) {
    this.label = label;
    this.worker = worker;
    this.remote = Comlink.wrap<Api>(this.worker);
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.kill(`${this.label} crashed: ${event.message || 'script error (failed to load or threw at top level)'}`);
    });
    this.worker.addEventListener('messageerror', () => this.kill(`${this.label} sent a message that could not be deserialised`));
  }

  /** Why the worker is dead, or undefined while it lives. */
  get dead(): string | undefined {
    return this.deadReason;
  }

  /** Rejects every pending call and stops the worker. Idempotent. */
  kill(reason: string): void {
    if (this.deadReason) return;
    this.deadReason = reason;
    for (const reject of this.pending) reject(new WorkerError(reason));
    this.pending.clear();
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }

  /** Calls the worker through `run`, settled by its result, the worker's death or `timeoutMs` (which kills it). */
  call<T>(what: string, timeoutMs: number, run: (api: Comlink.Remote<Api>) => Promise<T>): Promise<T> {
    if (this.deadReason) return Promise.reject(new WorkerError(this.deadReason));
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new WorkerError(`${this.label}: ${what} took longer than ${timeoutMs} ms`));
        this.kill(`${this.label} timed out during ${what}`);
      }, timeoutMs);
      this.pending.add(fail);
      run(this.remote).then(
        (value) => {
          clearTimeout(timer);
          this.pending.delete(fail);
          resolve(value);
        },
        (error: unknown) => fail(error instanceof Error ? error : new WorkerError(describeError(error))),
      );
    });
  }
}
