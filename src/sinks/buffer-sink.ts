/**
 * bufferSink: keeps the last N results in memory (the reference's InMemoryBufferSink), for code that polls
 * rather than reacts: a UI that shows the latest detections, a test, a batch job consuming results.
 * @module
 */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';

/** Frame metadata without the frame itself. */
export type BufferedFrameInfo = Omit<FrameMetadata, 'image'>;

/** One buffered result. */
export interface BufferedResult<R = FramePredictions> {
  /** What the pipeline produced for the frame (predictions, or the custom logic's result). */
  result: R;
  /** The frame's metadata (ids, timestamps in seconds, fps, latency in milliseconds, ...). */
  frame: BufferedFrameInfo;
  /**
   * A clone of the frame when `keepFrames` is on, else null. Owned by the buffer while buffered (closed on
   * eviction, {@link BufferSink.clear} and {@link BufferSink.close}); owned by the caller once
   * {@link BufferSink.consume} returned it (the caller must close it).
   */
  image: VideoFrame | null;
}

/** Options of {@link bufferSink}. */
export interface BufferSinkOptions {
  /** How many results to keep, an integer ≥ 1; older ones are evicted. */
  size: number;
  /**
   * Keep a clone of each frame (`BufferedResult.image`). Default false. Frames hold decoder or GPU memory:
   * keep `size` small when on.
   */
  keepFrames?: boolean;
}

/**
 * A ring of the last `size` results. Pass {@link BufferSink.onPrediction} as the pipeline's `onPrediction`
 * (or inside `multiSink`); read with {@link items}, {@link latest} or {@link consume}.
 */
export class BufferSink<R = FramePredictions> implements Iterable<BufferedResult<R>> {
  /** Capacity: the number of results kept. */
  readonly size: number;
  private readonly keepFrames: boolean;
  private readonly buffer: BufferedResult<R>[] = [];
  private receivedCount = 0;
  private evictedCount = 0;
  private closed = false;

  /** Throws TypeError when `size` is not an integer ≥ 1. */
  constructor(options: BufferSinkOptions) {
    if (!options || !Number.isInteger(options.size) || options.size < 1) {
      throw new TypeError(`bufferSink: size must be an integer ≥ 1, got ${JSON.stringify(options?.size)}`);
    }
    this.size = options.size;
    this.keepFrames = options.keepFrames ?? false;
  }

  /** The sink (bound): appends the result, evicting the oldest when full. Synchronous. Ignored after close(). */
  readonly onPrediction = (result: R, frame: FrameMetadata): void => {
    if (this.closed) return;
    this.receivedCount += 1;
    const { image, ...info } = frame;
    this.buffer.push({ result, frame: info, image: this.keepFrames ? image.clone() : null });
    while (this.buffer.length > this.size) {
      this.buffer.shift()!.image?.close();
      this.evictedCount += 1;
    }
  };

  /** Results held now (0..size). */
  get length(): number {
    return this.buffer.length;
  }

  /** True when no result is held (the reference's `empty()`). */
  get empty(): boolean {
    return this.buffer.length === 0;
  }

  /** Results received since creation. */
  get received(): number {
    return this.receivedCount;
  }

  /** Results pushed out by newer ones (not counting consumed or cleared ones). */
  get evicted(): number {
    return this.evictedCount;
  }

  /** A snapshot of the held results, oldest first. Frames in it stay owned by the buffer. */
  items(): BufferedResult<R>[] {
    return [...this.buffer];
  }

  /** The held results' `result` values, oldest first. */
  results(): R[] {
    return this.buffer.map((b) => b.result);
  }

  /** The newest result, or undefined. Its frame stays owned by the buffer. */
  latest(): BufferedResult<R> | undefined {
    return this.buffer[this.buffer.length - 1];
  }

  /** Removes and returns the oldest result (the reference's `consume_prediction()`); the caller owns its frame. */
  consume(): BufferedResult<R> | undefined {
    return this.buffer.shift();
  }

  /** Drops every held result, closing their frames. */
  clear(): void {
    for (const b of this.buffer.splice(0)) b.image?.close();
  }

  /** Clears and stops accepting results. Idempotent. */
  close(): void {
    this.clear();
    this.closed = true;
  }

  /** Iterates over a snapshot of the buffered results, oldest first. */
  [Symbol.iterator](): Iterator<BufferedResult<R>> {
    return this.items()[Symbol.iterator]();
  }
}

/** Creates a {@link BufferSink} keeping the last `options.size` results. */
export function bufferSink<R = FramePredictions>(options: BufferSinkOptions): BufferSink<R> {
  return new BufferSink<R>(options);
}
