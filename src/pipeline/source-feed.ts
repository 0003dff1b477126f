/**
 * A source plus its frame buffer: a grabber loop pulls frames from the FrameSource and files them in the buffer
 * by the filling strategy; the pipeline takes them by the consumption strategy. Pause, mute and maxFps act here.
 */
import type { FrameSource, GrabbedFrame, SourceInfo } from '../sources/frame-source.ts';
import { SourceError, describeError } from './errors.ts';
import { FrameBuffer, type BufferConsumptionStrategy, type BufferFillingStrategy, type DropCause } from './frame-buffer.ts';
import type { Notify } from './frame-processor.ts';

/** The reference's stream states. */
export type SourceState = 'NOT_STARTED' | 'INITIALISING' | 'RUNNING' | 'PAUSED' | 'MUTED' | 'TERMINATING' | 'ENDED' | 'ERROR';

export interface SourceFeedOptions {
  /** Default: 4 for files, 1 for live sources. */
  bufferSize?: number;
  filling?: BufferFillingStrategy;
  consumption?: BufferConsumptionStrategy;
  maxFps?: number;
}

export class SourceFeed {
  state: SourceState = 'NOT_STARTED';
  /** Frames dropped by this feed (buffer strategies, mute, maxFps), plus those the source itself dropped. */
  private feedDrops = 0;
  private buffer?: FrameBuffer<GrabbedFrame>;
  private ended = false;
  private failure?: SourceError;
  private resumeGrabbing?: () => void;
  private lastAccepted = -Infinity;
  private fileStride = 1;
  filling!: BufferFillingStrategy;
  consumption!: BufferConsumptionStrategy;

  constructor(
    readonly sourceId: number,
    readonly source: FrameSource,
    readonly info: SourceInfo,
    private readonly options: SourceFeedOptions,
    private readonly notify: Notify,
  ) {}

  get droppedFrames(): number {
    return this.feedDrops + this.source.droppedFrames;
  }

  private setState(next: SourceState): void {
    const previous = this.state;
    if (previous === next) return;
    this.state = next;
    this.notify({
      severity: 'info',
      eventType: 'SOURCE_STATE_UPDATE',
      context: 'video_source',
      sourceId: this.sourceId,
      message: `source ${this.sourceId} ${previous} → ${next}`,
      payload: { previous_state: previous, new_state: next, source_id: this.sourceId },
    });
  }

  /** Starts the grabber loop. */
  start(): void {
    this.setState('INITIALISING');
    const live = !this.info.comesFromVideoFile;
    // Live: DROP_OLDEST, not the reference's ADAPTIVE_DROP_OLDEST. Adaptive dropping exists there to skip decoding
    // frames that would be dropped anyway; a browser source hands over frames already decoded, so it saves nothing,
    // and dropping the arriving frame leaves an older one waiting (p50 latency 1.06–1.47× an inference against
    // 1.02–1.04× with DROP_OLDEST in `npm run bench`).
    this.filling = this.options.filling ?? (live ? 'DROP_OLDEST' : 'WAIT');
    this.consumption = this.options.consumption ?? (live ? 'EAGER' : 'LAZY');
    if (this.options.maxFps && !live && this.info.fps > this.options.maxFps) {
      // Files: process every Nth frame, N = file fps ÷ maxFps (rounded), so the output keeps the file's timing.
      this.fileStride = Math.max(1, Math.round(this.info.fps / this.options.maxFps));
    }
    this.buffer = new FrameBuffer<GrabbedFrame>({
      // Live frames come from the camera's or decoder's small buffer pool: holding several of them stalls the
      // source itself (seen with Chromium's capture), so a live source keeps just the newest one.
      capacity: this.options.bufferSize ?? (live ? 1 : 4),
      filling: this.filling,
      consumption: this.consumption,
      live,
      dispose: (g) => g.frame.close(),
      onDrop: (g, cause) => this.countDrop(g, cause),
    });
    this.setState('RUNNING');
    this.notify({ severity: 'info', eventType: 'VIDEO_CONSUMPTION_STARTED', context: 'video_consumer', sourceId: this.sourceId, message: `consuming source ${this.sourceId}` });
    void this.grabLoop();
  }

  private countDrop(g: GrabbedFrame, cause: DropCause): void {
    this.feedDrops += 1;
    this.notify({
      severity: 'debug',
      eventType: 'FRAME_DROPPED',
      context: 'video_source',
      sourceId: this.sourceId,
      message: `frame ${g.frameId} of source ${this.sourceId} dropped (${cause})`,
      payload: { frame_id: g.frameId, frame_timestamp: g.grabbedAt / 1000, cause, source_id: this.sourceId },
    });
  }

  private async grabLoop(): Promise<void> {
    const buffer = this.buffer!;
    const minInterval = this.options.maxFps && !this.info.comesFromVideoFile ? 1000 / this.options.maxFps : 0;
    try {
      for (;;) {
        while (this.state === 'PAUSED') await new Promise<void>((resolve) => (this.resumeGrabbing = resolve));
        if (this.state === 'TERMINATING' || this.state === 'ENDED') break;
        const grabbed = await this.source.next();
        if (!grabbed) break;
        this.notify({
          severity: 'debug',
          eventType: 'FRAME_CAPTURED',
          context: 'video_source',
          sourceId: this.sourceId,
          message: `frame ${grabbed.frameId} captured`,
          payload: { frame_id: grabbed.frameId, frame_timestamp: grabbed.grabbedAt / 1000, source_id: this.sourceId },
        });
        if (this.state === 'MUTED') {
          this.countDrop(grabbed, 'muted');
          grabbed.frame.close();
          continue;
        }
        if (this.fileStride > 1 && (grabbed.frameId - 1) % this.fileStride !== 0) {
          this.countDrop(grabbed, 'max_fps');
          grabbed.frame.close();
          continue;
        }
        const now = performance.now();
        if (minInterval > 0 && now - this.lastAccepted < minInterval) {
          this.countDrop(grabbed, 'max_fps');
          grabbed.frame.close();
          continue;
        }
        if (await buffer.put(grabbed)) this.lastAccepted = now;
      }
    } catch (error) {
      if (this.state !== 'TERMINATING') {
        this.failure = error instanceof SourceError ? error : new SourceError(this.sourceId, describeError(error), { cause: error });
        this.setState('ERROR');
      }
    }
    this.ended = true;
    buffer.wake();
  }

  /** Takes a frame, or undefined when none is buffered. Throws the source's error once it is drained. */
  take(): GrabbedFrame | undefined {
    const item = this.buffer?.take();
    if (item) {
      this.notify({
        severity: 'debug',
        eventType: 'FRAME_CONSUMED',
        context: 'video_consumer',
        sourceId: this.sourceId,
        message: `frame ${item.frameId} consumed`,
        payload: { frame_id: item.frameId, frame_timestamp: item.grabbedAt / 1000, source_id: this.sourceId },
      });
    }
    return item;
  }

  /** Frames waiting in the buffer. */
  get buffered(): number {
    return this.buffer?.size ?? 0;
  }

  /** True once the source has ended and its buffer is empty. */
  get exhausted(): boolean {
    return this.ended && (this.buffer?.size ?? 0) === 0;
  }

  /** The error that ended the source, if any. */
  get error(): SourceError | undefined {
    return this.failure;
  }

  /** Resolves when a frame is buffered or the source ended. */
  waitForFrame(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return this.buffer?.waitForItem() ?? Promise.resolve();
  }

  pause(): void {
    if (this.state === 'RUNNING' || this.state === 'MUTED') this.setState('PAUSED');
  }

  mute(): void {
    if (this.state === 'RUNNING' || this.state === 'PAUSED') {
      this.setState('MUTED');
      this.resumeGrabbing?.();
    }
  }

  resume(): void {
    if (this.state === 'PAUSED' || this.state === 'MUTED') {
      this.setState('RUNNING');
      this.resumeGrabbing?.();
      this.resumeGrabbing = undefined;
    }
  }

  /** Stops grabbing, closes buffered frames and the source. Idempotent. */
  close(finalState: 'ENDED' | 'ERROR' = 'ENDED'): void {
    if (this.state === 'ENDED' || this.state === 'ERROR' || this.state === 'TERMINATING') {
      this.buffer?.close();
      this.source.close();
      return;
    }
    this.setState('TERMINATING');
    this.resumeGrabbing?.();
    this.buffer?.close();
    this.source.close();
    this.setState(finalState);
    this.notify({ severity: 'info', eventType: 'VIDEO_CONSUMPTION_FINISHED', context: 'video_consumer', sourceId: this.sourceId, message: `source ${this.sourceId} finished` });
  }
}
