/** Lets a per-frame sink (every built-in sink) serve a pipeline in batch mode. */
import type { BatchSink, FrameSink } from '../pipeline/inference-pipeline.ts';

/**
 * Wraps a per-frame sink as a batch sink: it is called once for each source that has a frame in the round, in
 * source order, awaiting each call. A throwing call stops the round's remaining calls and is reported by the
 * pipeline as one INFERENCE_RESULTS_DISPATCHING_ERROR.
 */
export function forEachFrame<R>(sink: FrameSink<R>): BatchSink<R> {
  return async (results, frames) => {
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      const frame = frames[i];
      if (result !== null && result !== undefined && frame) await sink(result, frame);
    }
  };
}
