/**
 * Video files and URLs decoded frame by frame: mediabunny demuxes, WebCodecs' VideoDecoder decodes.
 * Every frame comes out, in presentation order, at whatever pace the consumer pulls.
 */
import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input, UnsupportedInputFormatError, UrlSource, type InputVideoTrack } from 'mediabunny';
import { SourceError, describeError } from '../pipeline/errors.ts';
import { Signal, type FrameSource, type GrabbedFrame, type SourceInfo } from './frame-source.ts';

/**
 * Decoded frames held ahead of the consumer, plus chunks queued in the decoder. Enough to hide decode latency
 * behind one inference, small enough that a 4K file holds a few dozen MB of frames at most.
 */
const DECODE_AHEAD = 4;

/** Thrown by `open()` when the bytes are readable but not demuxable/decodable here (callers may fall back). */
export class UndecodableError extends SourceError {}

export class FileSource implements FrameSource {
  droppedFrames = 0;
  private input?: Input;
  private decoder?: VideoDecoder;
  private readonly ready: VideoFrame[] = [];
  private readonly changed = new Signal();
  private produced = 0;
  private finished = false;
  private failure?: SourceError;
  private closed = false;

  constructor(
    readonly sourceId: number,
    private readonly data: string | Blob,
  ) {}

  private get label(): string {
    if (typeof this.data === 'string') return `URL ${this.data}`;
    return this.data instanceof File ? `file "${this.data.name}"` : `blob (${this.data.size} bytes)`;
  }

  async open(): Promise<SourceInfo> {
    const source =
      typeof this.data === 'string'
        ? // Give up after two quick retries: mediabunny's default backoff never gives up, which would hang join().
          new UrlSource(this.data, { getRetryDelay: (attempts) => (attempts < 2 ? 0.25 : null) })
        : new BlobSource(this.data);
    const input = new Input({ source, formats: ALL_FORMATS });
    this.input = input;
    let track: InputVideoTrack | null;
    try {
      track = await input.getPrimaryVideoTrack();
    } catch (error) {
      this.close();
      if (error instanceof UnsupportedInputFormatError) {
        throw new UndecodableError(this.sourceId, `${this.label} is not a video in a format that can be demuxed (expected MP4, WebM, MKV or MOV)`);
      }
      throw new SourceError(this.sourceId, `could not read ${this.label}: ${describeError(error)}`, { cause: error });
    }
    if (!track) {
      this.close();
      throw new UndecodableError(this.sourceId, `${this.label} has no video track`);
    }
    const config = await track.getDecoderConfig();
    const supported = config ? (await VideoDecoder.isConfigSupported(config)).supported : false;
    if (!config || !supported) {
      this.close();
      throw new UndecodableError(this.sourceId, `${this.label}: codec ${config?.codec ?? (await track.getCodecParameterString()) ?? 'unknown'} cannot be decoded by WebCodecs here`);
    }
    const [width, height, stats] = await Promise.all([track.getDisplayWidth(), track.getDisplayHeight(), track.computePacketStats(60)]);
    this.decoder = new VideoDecoder({
      output: (frame) => {
        if (this.closed) return frame.close();
        this.ready.push(frame);
        this.changed.notify();
      },
      error: (error) => this.fail(`decoding failed: ${describeError(error)}`, error),
    });
    this.decoder.addEventListener('dequeue', () => this.changed.notify());
    this.decoder.configure(config);
    void this.pump(track);
    return { width, height, fps: stats.averagePacketRate, comesFromVideoFile: true, description: this.label };
  }

  private fail(message: string, cause?: unknown): void {
    if (this.closed || this.failure) return;
    this.failure = new SourceError(this.sourceId, `${this.label}: ${message}`, { cause });
    this.changed.notify();
  }

  /** Feeds packets to the decoder, keeping at most DECODE_AHEAD frames and chunks in flight. */
  private async pump(track: InputVideoTrack): Promise<void> {
    const decoder = this.decoder!;
    try {
      for await (const packet of new EncodedPacketSink(track).packets()) {
        while (!this.closed && !this.failure && this.ready.length + decoder.decodeQueueSize >= DECODE_AHEAD) await this.changed.wait();
        if (this.closed || this.failure) return;
        decoder.decode(packet.toEncodedVideoChunk());
      }
      if (this.closed || this.failure) return;
      await decoder.flush();
      this.finished = true;
      this.changed.notify();
    } catch (error) {
      this.fail(`reading packets failed: ${describeError(error)}`, error);
    }
  }

  async next(): Promise<GrabbedFrame | null> {
    for (;;) {
      if (this.closed) return null;
      const frame = this.ready.shift();
      if (frame) {
        this.changed.notify();
        this.produced += 1;
        return { frame, frameId: this.produced, grabbedAt: Date.now(), mediaTimestamp: frame.timestamp / 1e6 };
      }
      if (this.failure) throw this.failure;
      if (this.finished) return null;
      await this.changed.wait();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const frame of this.ready.splice(0)) frame.close();
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.input?.dispose();
    this.changed.notify();
  }
}
