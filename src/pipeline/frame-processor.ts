/**
 * What the pipeline does with a grabbed frame: run the model in the worker pool, or call the user's custom logic.
 * The pipeline owns scheduling; a processor owns the compute and its resources.
 */
import type { FrameMetadata, StatusUpdate } from './types.ts';

export type Notify = (update: Omit<StatusUpdate, 'timestamp'>) => void;

/** A slot to run one frame in (an idle worker, or the main thread's single turn). */
export interface ProcessingSlot {
  /** Runs `frame` (ownership passes to the processor, which closes it) and returns the result. */
  run(frame: VideoFrame, meta: Omit<FrameMetadata, 'image' | 'latencyMs' | 'droppedFrames' | 'measuredFps'> & { width: number; height: number }): Promise<unknown>;
  /** Gives the slot back. */
  release(): void;
}

export interface FrameProcessor {
  /** How many frames may be processed at once. */
  readonly concurrency: number;
  /** Loads models, starts workers. Throws on a fatal problem (bad model, no backend). */
  start(notify: Notify): Promise<void>;
  /** Waits for a free slot. Rejects once closed. */
  acquire(): Promise<ProcessingSlot>;
  /** Frees everything (sessions, workers). Idempotent. */
  close(): Promise<void>;
}
