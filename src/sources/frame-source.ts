/** The contract every video source implements (types only). */

/** A frame taken from a source. The receiver owns `frame` and must close it. */
export interface GrabbedFrame {
  frame: VideoFrame;
  /** 1-based; counts every frame the source produced, so gaps show drops. */
  frameId: number;
  /** When the frame was grabbed, milliseconds since the Unix epoch. */
  grabbedAt: number;
  /** Presentation time within the media, in seconds. */
  mediaTimestamp: number;
}

export interface SourceInfo {
  width: number;
  height: number;
  /** Nominal frames per second (0 when unknown). */
  fps: number;
  comesFromVideoFile: boolean;
  /** What the source is, for messages ("file sample.mp4", "webcam 0", …). */
  description: string;
}

export type SourceState = 'idle' | 'opening' | 'open' | 'ended' | 'closed';

export interface FrameSource {
  readonly sourceId: number;
  /** Frames produced but never handed out (live sources keep only the freshest). */
  readonly droppedFrames: number;
  /** Opens the source. Throws SourceError with a clear message when it can't. */
  open(): Promise<SourceInfo>;
  /**
   * The next frame: for files, the next one in order; for live sources, the freshest (waiting for one if none
   * is ready). Resolves `null` when the source has ended. Rejects with SourceError on a read failure.
   */
  next(): Promise<GrabbedFrame | null>;
  /** Stops reading, closes every frame it still holds, stops tracks it started. Idempotent. */
  close(): void;
}

/** Something a consumer can await until a producer signals. */
export class Signal {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
