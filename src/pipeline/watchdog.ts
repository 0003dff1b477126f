/**
 * The pipeline watchdog: per-source latency averages over the last frames, throughput, drops, states, and the
 * recent status events above debug level (the reference's BasePipelineWatchDog report).
 */
import { FpsMeter } from './fps-meter.ts';
import type { StatusUpdate } from './types.ts';

/** Latencies averaged over this many frames per source. */
const LATENCY_WINDOW = 64;
/** Status events kept for the report. */
const EVENTS_KEPT = 512;

/** One source's numbers in a {@link WatchdogReport}. */
export interface SourceLatencyReport {
  /** Index of the source. */
  sourceId: number;
  /** Grab → dispatch to the model (decoding and buffering), ms. */
  frameDecodingLatencyMs: number;
  /** Dispatch → result, ms. */
  inferenceLatencyMs: number;
  /** Grab → sink call, ms. */
  e2eLatencyMs: number;
  /** Frames delivered per second over the last second or so. */
  throughputFps: number;
  /** Frames the source and its buffer dropped so far. */
  droppedFrames: number;
  /** The source's state (`RUNNING`, `PAUSED`, `ENDED`, …). */
  state: string;
  /** Frames of this source delivered to the sink so far. */
  framesProcessed: number;
}

/** What `pipeline.watchdog.getReport()` returns. */
export interface WatchdogReport {
  /** Frames delivered per second, all sources together. */
  inferenceThroughputFps: number;
  /** One entry per source, by source id. */
  sources: SourceLatencyReport[];
  /** The last 512 status events of severity info or above, oldest first. */
  statusUpdates: StatusUpdate[];
}

interface Window {
  decode: number[];
  inference: number[];
  e2e: number[];
  fps: FpsMeter;
  frames: number;
}

const average = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const pushBounded = (values: number[], value: number) => {
  values.push(value);
  if (values.length > LATENCY_WINDOW) values.shift();
};

/** Collects the pipeline's runtime numbers; read them with {@link PipelineWatchdog.getReport}. Holds no frames. */
export class PipelineWatchdog {
  private readonly windows = new Map<number, Window>();
  private readonly events: StatusUpdate[] = [];
  private readonly overall = new FpsMeter();

  constructor(private readonly listSources: () => { sourceId: number; state: string; droppedFrames: number }[]) {}

  /** Records one delivered frame's stage times (epoch ms). */
  recordFrame(sourceId: number, grabbedAt: number, dispatchedAt: number, completedAt: number, sunkAt: number): void {
    let w = this.windows.get(sourceId);
    if (!w) this.windows.set(sourceId, (w = { decode: [], inference: [], e2e: [], fps: new FpsMeter(), frames: 0 }));
    pushBounded(w.decode, dispatchedAt - grabbedAt);
    pushBounded(w.inference, completedAt - dispatchedAt);
    pushBounded(w.e2e, sunkAt - grabbedAt);
    w.fps.tick();
    w.frames += 1;
    this.overall.tick();
  }

  /** Keeps a status event for the report (debug events are skipped). */
  recordStatus(update: StatusUpdate): void {
    if (update.severity === 'debug') return;
    this.events.push(update);
    if (this.events.length > EVENTS_KEPT) this.events.shift();
  }

  /** A snapshot; cheap enough to poll once a second. */
  getReport(): WatchdogReport {
    const sources = this.listSources().map(({ sourceId, state, droppedFrames }) => {
      const w = this.windows.get(sourceId);
      return {
        sourceId,
        frameDecodingLatencyMs: average(w?.decode ?? []),
        inferenceLatencyMs: average(w?.inference ?? []),
        e2eLatencyMs: average(w?.e2e ?? []),
        throughputFps: w?.fps.rate() ?? 0,
        droppedFrames,
        state,
        framesProcessed: w?.frames ?? 0,
      };
    });
    return { inferenceThroughputFps: this.overall.rate(), sources, statusUpdates: [...this.events] };
  }
}
