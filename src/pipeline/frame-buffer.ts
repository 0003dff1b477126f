/**
 * A source's frame buffer with the reference's filling and consumption strategies.
 *
 * Filling (what happens when a frame arrives):
 * - `WAIT`: the producer waits for room (files: decoding pauses; live: the browser's own queue drops).
 * - `DROP_OLDEST`: when full, the oldest buffered frame is dropped to make room.
 * - `DROP_LATEST`: when full, the arriving frame is dropped.
 * - `ADAPTIVE_DROP_OLDEST` / `ADAPTIVE_DROP_LATEST`: as above, and additionally, for live sources, the arriving
 *   frame is dropped while the consumer is measurably slower than the stream, so latency doesn't build up.
 *
 * Consumption (what `take()` returns):
 * - `LAZY`: the oldest buffered frame.
 * - `EAGER`: the newest buffered frame; the older ones are dropped.
 *
 * Every drop is reported through `onDrop` with its cause; dropped items are disposed (frames closed).
 */
import { FpsMeter } from './fps-meter.ts';

/** What a source's buffer does when a frame arrives and it is full (see the module comment). */
export type BufferFillingStrategy = 'WAIT' | 'DROP_OLDEST' | 'DROP_LATEST' | 'ADAPTIVE_DROP_OLDEST' | 'ADAPTIVE_DROP_LATEST';
/** Which buffered frame the pipeline takes: the oldest (`LAZY`) or the newest, dropping the rest (`EAGER`). */
export type BufferConsumptionStrategy = 'LAZY' | 'EAGER';

export const BUFFER_FILLING_STRATEGIES: readonly BufferFillingStrategy[] = ['WAIT', 'DROP_OLDEST', 'DROP_LATEST', 'ADAPTIVE_DROP_OLDEST', 'ADAPTIVE_DROP_LATEST'];
export const BUFFER_CONSUMPTION_STRATEGIES: readonly BufferConsumptionStrategy[] = ['LAZY', 'EAGER'];

/** Why a frame was dropped, as reported in `FRAME_DROPPED` events' `payload.cause`. */
export type DropCause = 'buffer_full_drop_oldest' | 'buffer_full_drop_latest' | 'adaptive' | 'eager_consumption' | 'muted' | 'max_fps';

/** The adaptive rule: consumer pace this many fps below the stream's pace means it falls behind. */
const ADAPTIVE_PACE_TOLERANCE_FPS = 2;
/** Frames taken before the consumer's pace is trusted. */
const ADAPTIVE_MIN_SAMPLES = 10;
/** Never drop more than this many arriving frames in a row, so a live source can't starve. */
const ADAPTIVE_MAX_DROPS_IN_ROW = 16;

export interface FrameBufferOptions<T> {
  capacity: number;
  filling: BufferFillingStrategy;
  consumption: BufferConsumptionStrategy;
  /** Adaptive dropping applies to live sources only. */
  live: boolean;
  dispose: (item: T) => void;
  onDrop: (item: T, cause: DropCause) => void;
}

export class FrameBuffer<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly roomWaiters: Array<() => void> = [];
  private readonly arrivals = new FpsMeter(2000);
  private readonly takes = new FpsMeter(2000);
  private takenCount = 0;
  private dropsInRow = 0;
  private closed = false;

  constructor(private readonly options: FrameBufferOptions<T>) {
    if (!(Number.isInteger(options.capacity) && options.capacity >= 1)) throw new RangeError(`buffer capacity must be an integer ≥ 1, got ${options.capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  private drop(item: T, cause: DropCause): void {
    this.options.onDrop(item, cause);
    this.options.dispose(item);
  }

  /**
   * Offers an arriving item. With `WAIT` and a full buffer it waits for room; otherwise it returns at once.
   * Resolves false when the item was dropped or the buffer is closed.
   */
  async put(item: T, now = performance.now()): Promise<boolean> {
    if (this.closed) {
      this.options.dispose(item);
      return false;
    }
    this.arrivals.tick(now);
    const { filling } = this.options;
    if (filling.startsWith('ADAPTIVE') && this.options.live && this.consumerFallsBehind()) {
      this.dropsInRow += 1;
      this.drop(item, 'adaptive');
      return false;
    }
    this.dropsInRow = 0;
    if (this.items.length >= this.options.capacity) {
      if (filling === 'WAIT') {
        while (this.items.length >= this.options.capacity && !this.closed) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        if (this.closed) {
          this.options.dispose(item);
          return false;
        }
      } else if (filling === 'DROP_LATEST' || filling === 'ADAPTIVE_DROP_LATEST') {
        this.drop(item, 'buffer_full_drop_latest');
        return false;
      } else {
        this.drop(this.items.shift()!, 'buffer_full_drop_oldest');
      }
    }
    this.items.push(item);
    this.waiters.shift()?.();
    return true;
  }

  private consumerFallsBehind(): boolean {
    if (this.takenCount < ADAPTIVE_MIN_SAMPLES || this.dropsInRow >= ADAPTIVE_MAX_DROPS_IN_ROW) return false;
    return this.takes.rate() + ADAPTIVE_PACE_TOLERANCE_FPS < this.arrivals.rate();
  }

  /** Takes a frame by the consumption strategy, or undefined when the buffer is empty. */
  take(now = performance.now()): T | undefined {
    if (this.items.length === 0) return undefined;
    let item: T;
    if (this.options.consumption === 'EAGER') {
      item = this.items.pop()!;
      for (const stale of this.items.splice(0)) this.drop(stale, 'eager_consumption');
    } else {
      item = this.items.shift()!;
    }
    this.takenCount += 1;
    this.takes.tick(now);
    for (const wake of this.roomWaiters.splice(0)) wake();
    return item;
  }

  /** Resolves when an item is buffered (or the buffer closes). */
  async waitForItem(): Promise<void> {
    if (this.items.length > 0 || this.closed) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Disposes everything buffered and wakes every waiter. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const item of this.items.splice(0)) this.options.dispose(item);
    for (const wake of [...this.waiters.splice(0), ...this.roomWaiters.splice(0)]) wake();
  }

  /** Wakes consumers waiting for an item (e.g. the source ended). */
  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
