/**
 * Live video from a MediaStream track (webcams, `<video>` elements through captureStream, WebRTC).
 *
 * A reader drains the track continuously and keeps only the freshest frame: when a newer frame arrives before
 * the pipeline took the previous one, the previous one is closed and counted as dropped. So the queue never
 * grows and the pipeline always works on the newest picture.
 */
import { SourceError, describeError } from '../pipeline/errors.ts';
import { Signal, type FrameSource, type GrabbedFrame, type SourceInfo } from './frame-source.ts';
import { FreshestFrame } from './freshest-frame.ts';

interface TrackProcessor {
  readable: ReadableStream<VideoFrame>;
}
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => TrackProcessor;

export interface MediaStreamSourceOptions {
  /** What the stream is, for messages. */
  description: string;
  /** Stop the stream's tracks on close (true when this library started them, e.g. getUserMedia). */
  stopTracksOnClose: boolean;
  /** Called on close, after the reader stops (e.g. to pause a `<video>` element). */
  onClose?: () => void;
  /** Registers a callback that ends the source (e.g. a `<video>` element's `ended` event). */
  watchEnd?: (end: () => void) => void;
}

export class MediaStreamSource implements FrameSource {
  private readonly pending = new FreshestFrame();
  private produced = 0;
  private readonly changed = new Signal();
  private reader?: ReadableStreamDefaultReader<VideoFrame>;
  private ended = false;
  private failure?: SourceError;
  private closed = false;

  constructor(
    readonly sourceId: number,
    private readonly stream: MediaStream,
    private readonly options: MediaStreamSourceOptions,
  ) {}

  /** Frames read from the track but never handed out (only the freshest is kept). */
  get droppedFrames(): number {
    return this.pending.dropped;
  }

  async open(): Promise<SourceInfo> {
    const track = this.stream.getVideoTracks()[0];
    if (!track) throw new SourceError(this.sourceId, `${this.options.description} has no video track`);
    if (track.readyState === 'ended') throw new SourceError(this.sourceId, `${this.options.description}: the video track has already ended`);
    const Processor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
    if (!Processor) {
      throw new SourceError(this.sourceId, 'MediaStreamTrackProcessor is unavailable: live sources need a Chromium-based browser (insertable streams)');
    }
    // maxBufferSize 1: the browser itself drops stale frames while we are busy.
    this.reader = new Processor({ track, maxBufferSize: 1 }).readable.getReader();
    const settings = track.getSettings();
    this.options.watchEnd?.(() => {
      this.ended = true;
      this.changed.notify();
    });
    void this.drain();
    return {
      width: settings.width ?? 0,
      height: settings.height ?? 0,
      fps: settings.frameRate ?? 0,
      comesFromVideoFile: false,
      description: this.options.description,
    };
  }

  private async drain(): Promise<void> {
    const reader = this.reader!;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (this.closed) {
          value.close();
          break;
        }
        this.produced += 1;
        this.pending.put({ frame: value, frameId: this.produced, grabbedAt: Date.now(), mediaTimestamp: value.timestamp / 1e6 });
        this.changed.notify();
      }
    } catch (error) {
      if (!this.closed) this.failure = new SourceError(this.sourceId, `${this.options.description}: reading frames failed: ${describeError(error)}`, { cause: error });
    }
    this.ended = true;
    this.changed.notify();
  }

  async next(): Promise<GrabbedFrame | null> {
    for (;;) {
      if (this.closed) return null;
      const latest = this.pending.take();
      if (latest) return latest;
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await this.changed.wait();
    }
  }

  /** Drops the frame waiting to be taken, if any, counting it (used while muted). */
  discardPending(): void {
    this.pending.discard();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.reader?.cancel().catch(() => undefined);
    if (this.options.stopTracksOnClose) for (const track of this.stream.getTracks()) track.stop();
    this.options.onClose?.();
    this.changed.notify();
  }
}
