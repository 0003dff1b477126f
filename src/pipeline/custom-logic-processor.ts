/** Runs the user's `onVideoFrame` on the main thread, one frame at a time. */
import type { FrameProcessor, ProcessingSlot } from './frame-processor.ts';
import { Semaphore } from './semaphore.ts';
import type { FrameMetadata } from './types.ts';

/** Receives the frames of one round (one per source that had a frame) and returns one result per frame. */
export type OnVideoFrame<R> = (frames: FrameMetadata[]) => R[] | Promise<R[]>;

export class CustomLogicProcessor<R> implements FrameProcessor {
  readonly concurrency = 1;
  private readonly turn = new Semaphore(1);

  constructor(private readonly onVideoFrame: OnVideoFrame<R>) {}

  async start(): Promise<void> {}

  async acquire(): Promise<ProcessingSlot> {
    await this.turn.acquire();
    return {
      run: async (frame, meta) => {
        try {
          const results = await this.onVideoFrame([{ ...meta, image: frame, latencyMs: 0, droppedFrames: 0, measuredFps: 0 }]);
          if (!Array.isArray(results) || results.length !== 1) {
            throw new TypeError(`onVideoFrame must return an array with one result per frame (1), got ${Array.isArray(results) ? results.length : typeof results}`);
          }
          return results[0];
        } finally {
          frame.close();
        }
      },
      release: () => this.turn.release(),
    };
  }

  async close(): Promise<void> {
    this.turn.close(new Error('the pipeline was terminated'));
  }
}
