/**
 * Workflow profiling: each step's time on each frame, kept for the last N frames, exported as Chrome trace-event
 * JSON (the format Perfetto and chrome://tracing open).
 */

/** One step's run on one frame, in epoch microseconds. */
export interface StepTiming {
  step: string;
  /** The block identifier. */
  type: string;
  /** Start, microseconds since the Unix epoch. */
  startUs: number;
  durationUs: number;
}

/** The timings of one frame. */
export interface FrameProfile {
  videoIdentifier: string;
  frameNumber: number;
  steps: StepTiming[];
}

/** A complete ("X") trace event. */
export interface TraceEvent {
  /** The step's name. */
  name: string;
  /** Category: `workflow_step` (or `__metadata`). */
  cat: string;
  /** Phase: `X` complete event, `M` metadata. */
  ph: 'X' | 'M';
  /** Microseconds. */
  ts: number;
  /** Microseconds (complete events). */
  dur?: number;
  /** Process id (always 1). */
  pid: number;
  /** Thread id: one per video. */
  tid: number;
  /** `block`, `frame_number`, `video_identifier`. */
  args: Record<string, string | number>;
}

/** Chrome's trace-event JSON object format. */
export interface ChromeTrace {
  /** The events. */
  traceEvents: TraceEvent[];
  /** How viewers show times. */
  displayTimeUnit: 'ms';
  /** Producer and frame count. */
  otherData: Record<string, string | number>;
}

/** Keeps the last `bufferSize` frames of step timings. */
export class WorkflowProfiler {
  private readonly frames: FrameProfile[] = [];

  constructor(private readonly bufferSize = 64) {}

  /** Records one frame. */
  add(frame: FrameProfile): void {
    this.frames.push(frame);
    while (this.frames.length > this.bufferSize) this.frames.shift();
  }

  /** Number of frames held. */
  get size(): number {
    return this.frames.length;
  }

  /** The trace: one complete event per step per frame, one thread per video. */
  toChromeTrace(): ChromeTrace {
    const videos = [...new Set(this.frames.map((f) => f.videoIdentifier))];
    const tid = (video: string) => videos.indexOf(video) + 1;
    const events: TraceEvent[] = videos.map((video) => ({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: tid(video), args: { name: `video ${video}` } }));
    for (const frame of this.frames) {
      for (const s of frame.steps) {
        events.push({
          name: s.step,
          cat: 'workflow_step',
          ph: 'X',
          ts: s.startUs,
          dur: s.durationUs,
          pid: 1,
          tid: tid(frame.videoIdentifier),
          args: { block: s.type, frame_number: frame.frameNumber, video_identifier: frame.videoIdentifier },
        });
      }
    }
    return { traceEvents: events, displayTimeUnit: 'ms', otherData: { producer: 'framewise workflows', frames: this.frames.length } };
  }
}
