/**
 * The freshest frame of a live source, waiting for the pipeline to take it: a newer frame replaces it (the older
 * one is closed and counted as dropped), so the queue never grows and the pipeline always gets the newest picture.
 */
import type { GrabbedFrame } from './frame-source.ts';

/** Holds at most one grabbed frame, the newest, and counts the frames it closed untaken. */
export class FreshestFrame {
  /** Frames closed before being taken: replaced by a newer one, or discarded. */
  dropped = 0;
  private held?: GrabbedFrame;

  /** Holds `grabbed`, closing (and counting) the frame it replaces. */
  put(grabbed: GrabbedFrame): void {
    if (this.held) {
      this.held.frame.close();
      this.dropped += 1;
    }
    this.held = grabbed;
  }

  /** Hands over the frame waiting (the receiver owns it), or undefined when none is. */
  take(): GrabbedFrame | undefined {
    const grabbed = this.held;
    this.held = undefined;
    return grabbed;
  }

  /** Closes the frame waiting, if any, counting it as dropped (used while muted). */
  discard(): void {
    if (!this.held) return;
    this.held.frame.close();
    this.held = undefined;
    this.dropped += 1;
  }

  /** Closes the frame waiting, if any, without counting it (the source is closing). */
  clear(): void {
    this.held?.frame.close();
    this.held = undefined;
  }
}
