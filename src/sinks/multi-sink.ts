/**
 * multiSink: fans one pipeline result out to several sinks. Every sink gets every result, even when another
 * one throws; the failures are rethrown afterwards as one {@link MultiSinkError} naming each failed sink, so
 * the pipeline's SINK_ERROR status event says which sink failed and why.
 * @module
 */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';

/** A sink function for results of type `R` (`Sink` is `SinkFunction<FramePredictions>`). */
export type SinkFunction<R = FramePredictions> = (result: R, frame: FrameMetadata) => void | Promise<void>;

/**
 * What {@link multiSink} accepts: a sink function, or an object with an `onPrediction` sink (the sink classes
 * of this library: VideoFileSink, WebSocketSink, BufferSink), optionally with a `name` for error messages.
 */
export type SinkLike<R = FramePredictions> = SinkFunction<R> | { readonly onPrediction: SinkFunction<R>; readonly name?: string };

/** One sink's failure within a {@link MultiSinkError}. */
export interface SinkFailure {
  /** Position of the sink in the `multiSink(...)` arguments, from 0. */
  index: number;
  /** The sink's name: its `name` property, the function's name, or the class name. */
  name: string;
  /** What it threw or rejected with. */
  error: unknown;
}

/** Thrown (or rejected with) by a multiSink after every sink ran, when at least one failed. */
export class MultiSinkError extends AggregateError {
  override readonly name = 'MultiSinkError';
  constructor(
    /** The failed sinks, in argument order. */
    readonly failures: SinkFailure[],
    /** How many sinks the multiSink has. */
    readonly total: number,
    /** The frame concerned. */
    readonly frameId: number,
    /** The source of that frame. */
    readonly sourceId: number,
  ) {
    super(
      failures.map((f) => f.error),
      `${failures.length} of ${total} sinks failed on frame ${frameId} of source ${sourceId}: ` +
        failures.map((f) => `sink #${f.index} (${f.name}): ${f.error instanceof Error ? f.error.message || f.error.name : String(f.error)}`).join('; '),
    );
  }
}

function nameOf(sink: SinkLike<unknown>, index: number): string {
  if (typeof sink === 'function') return sink.name || `sink ${index}`;
  if (typeof sink.name === 'string' && sink.name) return sink.name;
  const ctor = (sink as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== 'Object' ? ctor : `sink ${index}`;
}

/**
 * Combines sinks into one: each result goes to every sink, in argument order. All sinks are called right away
 * (the synchronous ones finish in order), then the returned promise waits for the asynchronous ones; the frame
 * stays valid until then. When every sink is synchronous, the combined sink is synchronous too.
 *
 * A sink that throws or rejects does not stop the others: after all ran, a {@link MultiSinkError} is thrown
 * (rejected) listing each failed sink by index and name; the pipeline turns it into a SINK_ERROR event.
 * Throws TypeError at once when an argument is not a sink.
 */
export function multiSink<R = FramePredictions>(...sinks: SinkLike<R>[]): (result: R, frame: FrameMetadata) => void | Promise<void> {
  const entries = sinks.map((sink, index) => {
    const fn = typeof sink === 'function' ? sink : sink && typeof sink === 'object' && typeof sink.onPrediction === 'function' ? sink.onPrediction : undefined;
    if (!fn) throw new TypeError(`multiSink: argument ${index} must be a sink function or an object with onPrediction, got ${sink === null ? 'null' : typeof sink}`);
    return { fn, name: nameOf(sink as SinkLike<unknown>, index), index };
  });
  return function multi(result, frame) {
    const failures: SinkFailure[] = [];
    const waiting: Promise<void>[] = [];
    for (const { fn, name, index } of entries) {
      try {
        const out = fn(result, frame);
        if (out && typeof (out as Promise<void>).then === 'function') {
          waiting.push(Promise.resolve(out).catch((error: unknown) => void failures.push({ index, name, error })));
        }
      } catch (error) {
        failures.push({ index, name, error });
      }
    }
    const settle = (): void => {
      if (failures.length === 0) return;
      failures.sort((a, b) => a.index - b.index);
      throw new MultiSinkError(failures, entries.length, frame.frameId, frame.sourceId);
    };
    if (waiting.length === 0) return settle();
    return Promise.all(waiting).then(settle);
  };
}
