/**
 * VideoFileSink: records annotated frames (the frame plus what {@link renderBoxes} draws) to a video file.
 *
 * Two recording methods, picked per recording from the frames it receives:
 * - **File sources** (`frame.comesFromVideoFile === true`) are encoded with WebCodecs' `VideoEncoder` and muxed
 *   with mediabunny, stamping every frame with its source timestamp (`FrameMetadata.mediaTimestamp`). The output
 *   therefore has the input's frame count and duration whatever the processing speed (slower or faster than
 *   real time). Encoder backpressure (`encodeQueueSize`) and muxer/writer backpressure are passed on to the
 *   pipeline: the sink's promise settles only when there is room, so a slow encoder slows the sources down
 *   instead of growing a queue.
 * - **Live sources** (webcams, streams, `<video>` elements) are recorded with `MediaRecorder` from a canvas
 *   `captureStream()`, in WebM (VP9/VP8) or MP4, whichever `MediaRecorder.isTypeSupported` accepts. Timing is
 *   wall-clock, as for any live recording. Needs a DOM (`document`): not available in workers.
 *
 * Usage:
 * ```ts
 * const recorder = new VideoFileSink({ bitrate: 4_000_000 });
 * const pipeline = InferencePipeline.init({ modelId, videoReference: file, onPrediction: recorder.onPrediction });
 * pipeline.start();
 * await pipeline.join();
 * const blob = await recorder.result(); // finalises, then gives the recording
 * ```
 * @module
 */
import { BufferTarget, EncodedPacket, EncodedVideoPacketSource, Mp4OutputFormat, Output, StreamTarget, WebMOutputFormat, type VideoCodec } from 'mediabunny';
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';
import { renderBoxes, type RenderBoxesOptions } from './render-boxes-sink.ts';

/** Video codecs the WebCodecs path can use (mediabunny's names). */
export type VideoFileCodec = 'avc' | 'hevc' | 'vp8' | 'vp9' | 'av1';

/** Containers a recording can be written in. */
export type VideoFileContainer = 'mp4' | 'webm';

/** Which recording a result belongs to: a source id, or `'tiled'` for the single tiled recording. */
export type RecordingKey = number | 'tiled';

/**
 * One write into a {@link VideoFileTarget}: `data` goes at byte offset `position` of the file. This is the
 * chunk shape `FileSystemWritableFileStream` accepts, so such a stream can be passed as is. Writes are not
 * always in order for MP4 (the header is patched at the end); WebM from MediaRecorder is appended in order.
 */
export interface VideoFileChunk {
  /** Always 'write' (the `FileSystemWritableFileStream` write-command shape). */
  type: 'write';
  /** The bytes to write; owned by the receiver once written. */
  data: Uint8Array<ArrayBuffer>;
  /** Byte offset in the output file. */
  position: number;
}

/**
 * Where a recording is written instead of memory, typically a `FileSystemWritableFileStream`
 * (`await fileHandle.createWritable()`). The sink closes the stream when the recording is finalised.
 */
export type VideoFileTarget = WritableStream<VideoFileChunk>;

/** Options of {@link VideoFileSink}. Every option is optional. */
export interface VideoFileSinkOptions {
  /**
   * Codec. File sources (WebCodecs): default the first one the encoder supports among `avc`, `vp9`, `av1`
   * (`vp9`, `vp8`, `av1` for WebM). Live sources (MediaRecorder): it picks the MIME type (`vp9`/`vp8`/`av1` in
   * WebM, `avc` in MP4); default the first supported of VP9, VP8 (WebM), then H.264 (MP4).
   */
  codec?: VideoFileCodec;
  /** Full WebCodecs codec string (e.g. `'avc1.640028'`) overriding the one derived from codec, size and bitrate. */
  codecString?: string;
  /** Container. Default `'mp4'` for file sources (`'webm'` for VP8), `'webm'` for live sources when supported. */
  container?: VideoFileContainer;
  /** Live sources: MediaRecorder MIME type, e.g. `'video/webm;codecs=vp9'`; overrides codec/container for them. */
  mimeType?: string;
  /** Target bitrate in bits per second. Default: 0.2 bits per pixel per frame (1.4 Mbit/s for 640×360 at 30 fps). */
  bitrate?: number;
  /**
   * Output frame width in pixels (rounded up to even). Default: the source frame width (per source), or the
   * tile width × columns for a tiled recording.
   */
  width?: number;
  /** Output frame height in pixels (rounded up to even). Default: like {@link width}. */
  height?: number;
  /** How a frame of another aspect ratio fills the output: `'contain'` (letterboxed, default) or `'stretch'`. */
  fit?: 'contain' | 'stretch';
  /** File sources: seconds of media time between key frames. Default 2. */
  keyFrameIntervalSeconds?: number;
  /** File sources: frames that may wait in the encoder before the sink waits (`encodeQueueSize`). Default 2. */
  maxEncodeQueue?: number;
  /** Live sources: milliseconds of recording per MediaRecorder data chunk. Default 1000. */
  timesliceMs?: number;
  /**
   * Record several sources into one file, tiled in a grid, instead of one file per source (the default).
   * `sources`: number of tiles (source ids 0..sources-1; frames of other sources are ignored). `columns`: default
   * `ceil(sqrt(sources))`. `clockSourceId` (default 0): the recording gets one frame per frame of this source,
   * stamped with its timestamps, and uses its method (WebCodecs when it is a file, else MediaRecorder); the
   * other tiles show their latest frame. Default tile size: the first frame's size.
   */
  tiled?: { sources: number; columns?: number; clockSourceId?: number };
  /**
   * Write the recording to a stream instead of keeping it in memory (for long recordings). One stream for a
   * single recording, or a function giving one per recording key. `result()` then has no Blob to give.
   */
  target?: VideoFileTarget | ((key: RecordingKey) => VideoFileTarget | Promise<VideoFileTarget>);
  /** How boxes are drawn (see {@link RenderBoxesOptions}); the canvas is the sink's own. */
  render?: Omit<RenderBoxesOptions, 'canvas'>;
}

/** A finished recording, as {@link VideoFileSink.finish} reports it. */
export interface VideoRecording {
  /** Source id, or `'tiled'`. */
  key: RecordingKey;
  /** `'webcodecs'` (file sources, source timestamps) or `'mediarecorder'` (live sources, wall-clock timing). */
  method: 'webcodecs' | 'mediarecorder';
  /** MIME type of the file, with codecs when known. */
  mimeType: string;
  /** File name extension without the dot: `'mp4'` or `'webm'`. */
  extension: string;
  /** The file, or null when it was written to a {@link VideoFileTarget}. */
  blob: Blob | null;
  /** Frames handed to the encoder (WebCodecs) or captured from the canvas (MediaRecorder). */
  frames: number;
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** WebCodecs codec string, or the MediaRecorder MIME type. */
  codec: string;
  /**
   * Seconds: WebCodecs, end of the last frame in media time (last timestamp + its duration); MediaRecorder,
   * wall-clock time between the first captured frame and the stop.
   */
  durationSeconds: number;
  /** Set when the recording failed; `blob` is then null. */
  error?: Error;
}

interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;
type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type DrawSink = (predictions: FramePredictions, frame: FrameMetadata) => void;

interface Recorder {
  readonly method: 'webcodecs' | 'mediarecorder';
  readonly frames: number;
  /** Adds what is on the canvas now as the next frame (times in seconds; used by WebCodecs only). */
  write(canvas: AnyCanvas, timestamp: number, duration: number): Promise<void>;
  finish(): Promise<VideoRecording>;
  abort(): Promise<void>;
}

/** One output file being recorded: its canvas, its recorder (created on its first clock frame). */
interface Recording {
  key: RecordingKey;
  canvas: AnyCanvas;
  context: Context2D;
  width: number;
  height: number;
  recorder?: Promise<Recorder>;
  /** Recorder creation or a write failed: further frames are refused with this error. */
  failure?: Error;
}

function evenCeil(value: number): number {
  const v = Math.max(2, Math.ceil(value));
  return v % 2 === 0 ? v : v + 1;
}

function positive(name: string, value: number | undefined, integer = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`VideoFileSink: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`);
  }
}

function createCanvas(width: number, height: number): AnyCanvas {
  if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }
  return new OffscreenCanvas(width, height);
}

function context2d(canvas: AnyCanvas): Context2D {
  const context = canvas.getContext('2d', { alpha: false }) as Context2D | null;
  if (!context) throw new Error('VideoFileSink: could not get a 2d canvas context');
  return context;
}

/** Where a `sourceW × sourceH` picture goes inside `region`. */
export function fitRect(sourceW: number, sourceH: number, region: Region, fit: 'contain' | 'stretch'): Region {
  if (fit === 'stretch' || sourceW <= 0 || sourceH <= 0) return region;
  const scale = Math.min(region.width / sourceW, region.height / sourceH);
  const width = sourceW * scale;
  const height = sourceH * scale;
  return { x: region.x + (region.width - width) / 2, y: region.y + (region.height - height) / 2, width, height };
}

// Level tables: [limit on frame size, limit on bitrate (bit/s), level]. Enough to build a codec string that
// encoders accept for the size and bitrate at hand; the decoder config written to the file comes from the encoder.
const AVC_LEVELS: ReadonlyArray<readonly [maxMacroblocks: number, maxMbPerSecond: number, maxBitrate: number, level: number]> = [
  [1620, 40500, 10e6, 0x1e],
  [3600, 108000, 14e6, 0x1f],
  [5120, 216000, 20e6, 0x20],
  [8192, 245760, 20e6, 0x28],
  [8192, 245760, 50e6, 0x29],
  [8704, 522240, 50e6, 0x2a],
  [22080, 589824, 135e6, 0x32],
  [36864, 983040, 240e6, 0x33],
  [36864, 2073600, 240e6, 0x34],
  [139264, 4177920, 240e6, 0x3c],
  [139264, 8355840, 480e6, 0x3d],
  [139264, 16711680, 800e6, 0x3e],
];
const VP9_LEVELS: ReadonlyArray<readonly [maxPixels: number, maxBitrate: number, level: number]> = [
  [552960, 7.2e6, 30],
  [983040, 12e6, 31],
  [2228224, 18e6, 40],
  [2228224, 30e6, 41],
  [8912896, 60e6, 50],
  [8912896, 120e6, 51],
  [35651584, 180e6, 60],
  [35651584, 480e6, 62],
];
const AV1_LEVELS: ReadonlyArray<readonly [maxPixels: number, maxBitrate: number, level: string]> = [
  [665856, 6e6, '04M'],
  [1065024, 10e6, '05M'],
  [2359296, 12e6, '08M'],
  [2359296, 20e6, '09M'],
  [8912896, 30e6, '12M'],
  [8912896, 40e6, '13M'],
  [35651584, 60e6, '16M'],
  [35651584, 240e6, '16H'],
];
const HEVC_LEVELS: ReadonlyArray<readonly [maxPixels: number, level: number]> = [
  [983040, 93],
  [2228224, 123],
  [8912896, 153],
  [35651584, 183],
];

/** WebCodecs codec strings to try, best first, for `codec` at this size, rate and bitrate. */
export function codecStringCandidates(codec: VideoFileCodec, width: number, height: number, fps: number, bitrate: number): string[] {
  const pixels = width * height;
  if (codec === 'avc') {
    const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
    const row = AVC_LEVELS.find(([fs, mbps, rate]) => mbs <= fs && mbs * fps <= mbps && bitrate <= rate) ?? AVC_LEVELS[AVC_LEVELS.length - 1]!;
    const level = row[3].toString(16).padStart(2, '0');
    return [`avc1.6400${level}`, `avc1.4d00${level}`, `avc1.42e0${level}`];
  }
  if (codec === 'vp9') {
    const row = VP9_LEVELS.find(([max, rate]) => pixels <= max && bitrate <= rate) ?? VP9_LEVELS[VP9_LEVELS.length - 1]!;
    return [`vp09.00.${row[2]}.08`];
  }
  if (codec === 'av1') {
    const row = AV1_LEVELS.find(([max, rate]) => pixels <= max && bitrate <= rate) ?? AV1_LEVELS[AV1_LEVELS.length - 1]!;
    return [`av01.0.${row[2]}.08`];
  }
  if (codec === 'hevc') {
    const row = HEVC_LEVELS.find(([max]) => pixels <= max) ?? HEVC_LEVELS[HEVC_LEVELS.length - 1]!;
    return [`hvc1.1.6.L${row[1]}.B0`, `hev1.1.6.L${row[1]}.B0`];
  }
  return ['vp8'];
}

/** MediaRecorder MIME types to try, best first. */
export function liveMimeCandidates(codec?: VideoFileCodec, container?: VideoFileContainer): string[] {
  const webm: Partial<Record<VideoFileCodec, string>> = { vp9: 'video/webm;codecs=vp9', vp8: 'video/webm;codecs=vp8', av1: 'video/webm;codecs=av1', avc: 'video/webm;codecs=h264' };
  const mp4: Partial<Record<VideoFileCodec, string>> = { avc: 'video/mp4;codecs=avc1', vp9: 'video/mp4;codecs=vp9', av1: 'video/mp4;codecs=av01', hevc: 'video/mp4;codecs=hvc1' };
  const order: VideoFileCodec[] = codec ? [codec] : container === 'mp4' ? ['avc', 'vp9', 'av1'] : ['vp9', 'vp8', 'avc', 'av1'];
  const out: string[] = [];
  for (const c of order) {
    if (container !== 'mp4' && webm[c]) out.push(webm[c]);
    if (container !== 'webm' && mp4[c]) out.push(mp4[c]);
  }
  if (!codec) {
    if (container !== 'mp4') out.push('video/webm');
    if (container !== 'webm') out.push('video/mp4');
  }
  return out;
}

/** Resolves on the next call of `wake()`; a tiny condition variable. */
class Wakeup {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

interface EncodedParams {
  key: RecordingKey;
  width: number;
  height: number;
  fps: number;
  bitrate: number;
  codec?: VideoFileCodec;
  codecString?: string;
  container?: VideoFileContainer;
  keyFrameInterval: number;
  maxEncodeQueue: number;
  target?: VideoFileTarget;
}

/** Muxed packets awaiting the muxer before the sink waits (writer backpressure). */
const MAX_PENDING_PACKETS = 8;

/** WebCodecs VideoEncoder + mediabunny muxing, stamped with the source's timestamps. */
class EncodedRecorder implements Recorder {
  readonly method = 'webcodecs' as const;
  frames = 0;
  private failure?: Error;
  private readonly progress = new Wakeup();
  private muxChain: Promise<void> = Promise.resolve();
  private pendingPackets = 0;
  private readonly durations = new Map<number, number>();
  private lastKeyTimestamp = -Infinity;
  private endTimestamp = 0;
  private closed = false;

  private constructor(
    private readonly params: EncodedParams,
    private readonly encoder: VideoEncoder,
    private readonly output: Output,
    private readonly source: EncodedVideoPacketSource,
    private readonly bufferTarget: BufferTarget | null,
    private readonly codecString: string,
    private readonly container: VideoFileContainer,
    wire: (self: EncodedRecorder) => void,
  ) {
    wire(this);
  }

  static async create(params: EncodedParams): Promise<EncodedRecorder> {
    if (typeof VideoEncoder === 'undefined') throw new Error('VideoFileSink: WebCodecs VideoEncoder is unavailable in this browser (file sources are recorded with it)');
    const mp4Codecs = new Mp4OutputFormat().getSupportedVideoCodecs();
    const webmCodecs = new WebMOutputFormat().getSupportedVideoCodecs();
    const fits = (codec: VideoFileCodec, container: VideoFileContainer): boolean => (container === 'mp4' ? mp4Codecs : webmCodecs).includes(codec as VideoCodec);
    const order: VideoFileCodec[] = params.codec ? [params.codec] : params.container === 'webm' ? ['vp9', 'vp8', 'av1'] : ['avc', 'vp9', 'av1', 'vp8'];
    const tried: string[] = [];
    for (const codec of order) {
      const container = params.container ?? (fits(codec, 'mp4') ? 'mp4' : 'webm');
      if (!fits(codec, container)) {
        tried.push(`${codec} (not storable in ${container})`);
        continue;
      }
      const strings = params.codecString ? [params.codecString] : codecStringCandidates(codec, params.width, params.height, params.fps, params.bitrate);
      for (const codecString of strings) {
        const config: VideoEncoderConfig = {
          codec: codecString,
          width: params.width,
          height: params.height,
          bitrate: params.bitrate,
          framerate: params.fps,
          latencyMode: 'quality',
          ...(codec === 'avc' ? { avc: { format: 'avc' as const } } : {}),
          ...(codec === 'hevc' ? { hevc: { format: 'hevc' as const } } : {}),
        };
        let supported = false;
        try {
          supported = (await VideoEncoder.isConfigSupported(config)).supported === true;
        } catch {
          supported = false;
        }
        if (!supported) {
          tried.push(codecString);
          continue;
        }
        return EncodedRecorder.open(params, codec, container, config);
      }
    }
    throw new Error(`VideoFileSink: no encodable codec for ${params.width}×${params.height} at ${params.bitrate} bit/s; tried ${tried.join(', ')}`);
  }

  private static async open(params: EncodedParams, codec: VideoFileCodec, container: VideoFileContainer, config: VideoEncoderConfig): Promise<EncodedRecorder> {
    const bufferTarget = params.target ? null : new BufferTarget();
    const target = bufferTarget ?? new StreamTarget(params.target!);
    const output = new Output({ format: container === 'mp4' ? new Mp4OutputFormat() : new WebMOutputFormat(), target });
    const source = new EncodedVideoPacketSource(codec as VideoCodec);
    output.addVideoTrack(source);
    await output.start();
    let self!: EncodedRecorder;
    const encoder = new VideoEncoder({
      output: (chunk, meta) => self.onChunk(chunk, meta),
      error: (error) => self.fail(error),
    });
    encoder.addEventListener('dequeue', () => self.progress.wake());
    try {
      encoder.configure(config);
    } catch (error) {
      encoder.close();
      await output.cancel();
      throw error;
    }
    return new EncodedRecorder(params, encoder, output, source, bufferTarget, config.codec, container, (r) => (self = r));
  }

  private fail(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    this.progress.wake();
  }

  private onChunk(chunk: EncodedVideoChunk, meta: EncodedVideoChunkMetadata | undefined): void {
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const duration = this.durations.get(chunk.timestamp) ?? chunk.duration ?? 0;
    this.durations.delete(chunk.timestamp);
    const packet = new EncodedPacket(data, chunk.type, chunk.timestamp / 1e6, duration / 1e6);
    this.pendingPackets += 1;
    this.muxChain = this.muxChain
      .then(() => (this.failure ? undefined : this.source.add(packet, meta)))
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.pendingPackets -= 1;
        this.progress.wake();
      });
  }

  async write(canvas: AnyCanvas, timestamp: number, duration: number): Promise<void> {
    while (!this.failure && (this.encoder.encodeQueueSize > this.params.maxEncodeQueue || this.pendingPackets > MAX_PENDING_PACKETS)) {
      await this.progress.wait();
    }
    if (this.failure) throw this.failure;
    const timestampUs = Math.round(timestamp * 1e6);
    const durationUs = Math.max(0, Math.round(duration * 1e6));
    const keyFrame = this.frames === 0 || timestamp - this.lastKeyTimestamp >= this.params.keyFrameInterval - 1e-6;
    if (keyFrame) this.lastKeyTimestamp = timestamp;
    const frame = new VideoFrame(canvas, { timestamp: timestampUs, duration: durationUs });
    try {
      this.durations.set(timestampUs, durationUs);
      this.encoder.encode(frame, { keyFrame });
    } finally {
      frame.close();
    }
    this.frames += 1;
    this.endTimestamp = Math.max(this.endTimestamp, timestamp + duration);
  }

  async finish(): Promise<VideoRecording> {
    const base = {
      key: this.params.key,
      method: this.method,
      extension: this.container,
      frames: this.frames,
      width: this.params.width,
      height: this.params.height,
      codec: this.codecString,
      durationSeconds: this.endTimestamp,
    };
    const fallbackMime = this.container === 'mp4' ? 'video/mp4' : 'video/webm';
    try {
      if (this.failure) throw this.failure;
      if (this.encoder.state === 'configured') await this.encoder.flush();
      this.closeEncoder();
      await this.muxChain;
      if (this.failure) throw this.failure;
      await this.output.finalize();
      let mimeType = fallbackMime;
      try {
        mimeType = await this.output.getMimeType();
      } catch {
        // keep the plain type
      }
      const blob = this.bufferTarget?.buffer ? new Blob([this.bufferTarget.buffer], { type: mimeType }) : null;
      return { ...base, mimeType, blob };
    } catch (error) {
      await this.abort();
      return { ...base, mimeType: fallbackMime, blob: null, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private closeEncoder(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.encoder.state !== 'closed') this.encoder.close();
  }

  async abort(): Promise<void> {
    this.closeEncoder();
    this.fail(new Error('the recording was aborted'));
    if (this.output.state !== 'finalized' && this.output.state !== 'canceled') await this.output.cancel().catch(() => undefined);
  }
}

interface LiveParams {
  key: RecordingKey;
  width: number;
  height: number;
  bitrate: number;
  mimeType?: string;
  codec?: VideoFileCodec;
  container?: VideoFileContainer;
  timesliceMs: number;
  target?: VideoFileTarget;
}

/** MediaRecorder on the canvas' captureStream: one captured frame per frame drawn. */
class LiveRecorder implements Recorder {
  readonly method = 'mediarecorder' as const;
  frames = 0;
  private readonly chunks: Blob[] = [];
  private readonly stream: MediaStream;
  private readonly track: CanvasCaptureMediaStreamTrack;
  private readonly recorder: MediaRecorder;
  private readonly writer?: WritableStreamDefaultWriter<VideoFileChunk>;
  private writeChain: Promise<void> = Promise.resolve();
  private written = 0;
  private failure?: Error;
  private readonly stopped: Promise<void>;
  private startedAt = 0;
  private finishing?: Promise<VideoRecording>;

  constructor(
    private readonly params: LiveParams,
    canvas: HTMLCanvasElement,
    private readonly mimeType: string,
  ) {
    // Frame rate 0: a frame is captured only on requestFrame(), i.e. once per annotated frame.
    this.stream = canvas.captureStream(0);
    this.track = this.stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
    this.recorder = new MediaRecorder(this.stream, { mimeType, videoBitsPerSecond: params.bitrate });
    this.writer = params.target?.getWriter();
    this.recorder.addEventListener('dataavailable', (event) => this.onData(event.data));
    this.recorder.addEventListener('error', (event) => {
      const error = (event as Event & { error?: unknown }).error;
      this.failure ??= error instanceof Error ? error : new Error(`MediaRecorder failed: ${String(error)}`);
    });
    this.stopped = new Promise((resolve) => this.recorder.addEventListener('stop', () => resolve(), { once: true }));
  }

  static create(params: LiveParams, canvas: AnyCanvas): LiveRecorder {
    if (typeof MediaRecorder === 'undefined') throw new Error('VideoFileSink: MediaRecorder is unavailable (live sources are recorded with it)');
    if (typeof HTMLCanvasElement === 'undefined' || !(canvas instanceof HTMLCanvasElement)) {
      throw new Error('VideoFileSink: recording a live source needs a DOM canvas (captureStream); it is not available in workers');
    }
    const candidates = params.mimeType ? [params.mimeType] : liveMimeCandidates(params.codec, params.container);
    const mimeType = candidates.find((m) => MediaRecorder.isTypeSupported(m));
    if (!mimeType) throw new Error(`VideoFileSink: MediaRecorder supports none of ${candidates.join(', ')}`);
    return new LiveRecorder(params, canvas, mimeType);
  }

  private onData(data: Blob): void {
    if (data.size === 0) return;
    if (!this.writer) {
      this.chunks.push(data);
      return;
    }
    const writer = this.writer;
    this.writeChain = this.writeChain.then(async () => {
      if (this.failure) return;
      try {
        const bytes = new Uint8Array(await data.arrayBuffer());
        await writer.write({ type: 'write', data: bytes, position: this.written });
        this.written += bytes.byteLength;
      } catch (error) {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      }
    });
  }

  async write(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.recorder.state === 'inactive') {
      this.recorder.start(this.params.timesliceMs);
      this.startedAt = performance.now();
    }
    this.track.requestFrame();
    this.frames += 1;
  }

  finish(): Promise<VideoRecording> {
    this.finishing ??= (async () => {
      const durationSeconds = this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
      if (this.recorder.state !== 'inactive') {
        this.recorder.stop();
        await this.stopped;
      }
      for (const track of this.stream.getTracks()) track.stop();
      await this.writeChain;
      if (this.writer) await this.writer.close().catch((error: unknown) => (this.failure ??= error instanceof Error ? error : new Error(String(error))));
      const mimeType = this.recorder.mimeType || this.mimeType;
      const base = {
        key: this.params.key,
        method: this.method,
        mimeType,
        extension: mimeType.includes('mp4') ? 'mp4' : 'webm',
        frames: this.frames,
        width: this.params.width,
        height: this.params.height,
        codec: mimeType,
        durationSeconds,
      };
      if (this.failure) return { ...base, blob: null, error: this.failure };
      return { ...base, blob: this.writer ? null : new Blob(this.chunks, { type: mimeType }) };
    })();
    return this.finishing;
  }

  async abort(): Promise<void> {
    this.failure ??= new Error('the recording was aborted');
    if (this.recorder.state !== 'inactive') this.recorder.stop();
    for (const track of this.stream.getTracks()) track.stop();
    this.chunks.length = 0;
    await this.writer?.abort().catch(() => undefined);
  }
}

/**
 * Records annotated frames to video files: see the module documentation for how file and live sources differ.
 *
 * - Pass {@link VideoFileSink.onPrediction} as the pipeline's `onPrediction` (or inside `multiSink`).
 * - When the pipeline is done, {@link VideoFileSink.result} (or {@link VideoFileSink.finish}) finalises the files.
 *
 * Ownership: the sink draws the pipeline's frame synchronously and never keeps it. The VideoFrames it creates
 * for the encoder are closed right after `encode()`. `finish()`/`close()` flush and close the encoders, finalise
 * the files (closing a {@link VideoFileTarget}), stop the canvas capture tracks and MediaRecorders, and drop the
 * canvases; `abort()` does the same without producing files.
 */
export class VideoFileSink {
  private readonly recordings = new Map<RecordingKey, Recording>();
  /** Per-source annotation canvases (source frame size), drawn by renderBoxes. */
  private readonly annotators = new Map<number, { canvas: AnyCanvas; draw: DrawSink }>();
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private finishing?: Promise<VideoRecording[]>;
  private aborted = false;
  private readonly fit: 'contain' | 'stretch';
  private readonly tileColumns: number;
  private readonly tileRows: number;
  private readonly clockSourceId: number;

  /** Throws TypeError for malformed options (the message names the option and the value). */
  constructor(private readonly options: VideoFileSinkOptions = {}) {
    positive('bitrate', options.bitrate);
    positive('width', options.width);
    positive('height', options.height);
    positive('keyFrameIntervalSeconds', options.keyFrameIntervalSeconds);
    positive('maxEncodeQueue', options.maxEncodeQueue, true);
    positive('timesliceMs', options.timesliceMs);
    if (options.fit !== undefined && options.fit !== 'contain' && options.fit !== 'stretch') throw new TypeError(`VideoFileSink: fit must be 'contain' or 'stretch', got ${JSON.stringify(options.fit)}`);
    if (options.container !== undefined && options.container !== 'mp4' && options.container !== 'webm') {
      throw new TypeError(`VideoFileSink: container must be 'mp4' or 'webm', got ${JSON.stringify(options.container)}`);
    }
    const codecs: readonly VideoFileCodec[] = ['avc', 'hevc', 'vp8', 'vp9', 'av1'];
    if (options.codec !== undefined && !codecs.includes(options.codec)) throw new TypeError(`VideoFileSink: codec must be one of ${codecs.join(', ')}, got ${JSON.stringify(options.codec)}`);
    this.fit = options.fit ?? 'contain';
    const tiled = options.tiled;
    if (tiled) {
      positive('tiled.sources', tiled.sources, true);
      positive('tiled.columns', tiled.columns, true);
      this.tileColumns = tiled.columns ?? Math.ceil(Math.sqrt(tiled.sources));
      this.tileRows = Math.ceil(tiled.sources / this.tileColumns);
      this.clockSourceId = tiled.clockSourceId ?? 0;
      if (!Number.isInteger(this.clockSourceId) || this.clockSourceId < 0 || this.clockSourceId >= tiled.sources) {
        throw new TypeError(`VideoFileSink: tiled.clockSourceId must be an integer in 0..${tiled.sources - 1}, got ${JSON.stringify(tiled.clockSourceId)}`);
      }
    } else {
      this.tileColumns = 1;
      this.tileRows = 1;
      this.clockSourceId = 0;
    }
  }

  /**
   * The sink: pass it as `onPrediction` (it is bound, so `onPrediction: sink.onPrediction` works). It draws the
   * frame with its boxes and hands it to the recording; the promise settles when the encoder has room again
   * (backpressure). Rejects when the recording failed or the sink is finished (the pipeline reports SINK_ERROR).
   * Meant to be called one frame at a time (the pipeline does); an overlapping call clones the frame and waits.
   */
  readonly onPrediction = (predictions: FramePredictions, frame: FrameMetadata): Promise<void> => {
    if (this.finishing || this.aborted) return Promise.reject(new Error('VideoFileSink is finished: it takes no more frames'));
    let run: Promise<void>;
    if (this.pending === 0) {
      run = this.handle(predictions, frame);
    } else {
      const copy = frame.image.clone();
      run = this.chain.then(() => this.handle(predictions, { ...frame, image: copy })).finally(() => copy.close());
    }
    this.pending += 1;
    const tracked = run.finally(() => (this.pending -= 1));
    this.chain = tracked.catch(() => undefined);
    return tracked;
  };

  private layoutKey(sourceId: number): RecordingKey | null {
    if (!this.options.tiled) return sourceId;
    return sourceId < this.options.tiled.sources ? 'tiled' : null;
  }

  private async handle(predictions: FramePredictions, frame: FrameMetadata): Promise<void> {
    const key = this.layoutKey(frame.sourceId);
    if (key === null) return;
    const sourceW = predictions.image.width || frame.image.displayWidth;
    const sourceH = predictions.image.height || frame.image.displayHeight;
    const recording = this.recordings.get(key) ?? this.openRecording(key, sourceW, sourceH);
    if (recording.failure) throw recording.failure;

    // Draw now, while the frame is certainly open: the annotated picture at source size, then into the output.
    const annotator = this.annotator(frame.sourceId);
    annotator.draw(predictions, frame);
    const region = this.regionOf(recording, frame.sourceId);
    const dest = fitRect(annotator.canvas.width, annotator.canvas.height, region, this.fit);
    if (dest.width !== region.width || dest.height !== region.height) {
      recording.context.fillStyle = '#000000';
      recording.context.fillRect(region.x, region.y, region.width, region.height);
    }
    recording.context.drawImage(annotator.canvas, dest.x, dest.y, dest.width, dest.height);

    const isClock = !this.options.tiled || frame.sourceId === this.clockSourceId;
    if (!isClock) return;
    recording.recorder ??= this.createRecorder(recording, frame);
    let recorder: Recorder;
    try {
      recorder = await recording.recorder;
    } catch (error) {
      recording.failure = error instanceof Error ? error : new Error(String(error));
      throw recording.failure;
    }
    const durationUs = frame.image.duration;
    const duration = durationUs !== null && durationUs > 0 ? durationUs / 1e6 : frame.fps > 0 ? 1 / frame.fps : 1 / 30;
    await recorder.write(recording.canvas, frame.mediaTimestamp, duration);
  }

  private annotator(sourceId: number): { canvas: AnyCanvas; draw: DrawSink } {
    let annotator = this.annotators.get(sourceId);
    if (!annotator) {
      const canvas: AnyCanvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(2, 2) : createCanvas(2, 2);
      annotator = { canvas, draw: renderBoxes({ ...this.options.render, canvas }) };
      this.annotators.set(sourceId, annotator);
    }
    return annotator;
  }

  private openRecording(key: RecordingKey, sourceW: number, sourceH: number): Recording {
    let width: number;
    let height: number;
    if (key === 'tiled') {
      width = evenCeil(this.options.width ?? sourceW * this.tileColumns);
      height = evenCeil(this.options.height ?? sourceH * this.tileRows);
    } else {
      width = evenCeil(this.options.width ?? (this.options.height ? (this.options.height * sourceW) / sourceH : sourceW));
      height = evenCeil(this.options.height ?? (this.options.width ? (this.options.width * sourceH) / sourceW : sourceH));
    }
    const canvas = createCanvas(width, height);
    const context = context2d(canvas);
    context.fillStyle = '#000000';
    context.fillRect(0, 0, width, height);
    const recording: Recording = { key, canvas, context, width, height };
    this.recordings.set(key, recording);
    return recording;
  }

  private regionOf(recording: Recording, sourceId: number): Region {
    if (recording.key !== 'tiled') return { x: 0, y: 0, width: recording.width, height: recording.height };
    const tileW = recording.width / this.tileColumns;
    const tileH = recording.height / this.tileRows;
    const col = sourceId % this.tileColumns;
    const row = Math.floor(sourceId / this.tileColumns);
    return { x: col * tileW, y: row * tileH, width: tileW, height: tileH };
  }

  private async createRecorder(recording: Recording, frame: FrameMetadata): Promise<Recorder> {
    const { width, height, key } = recording;
    const fps = frame.fps > 0 ? frame.fps : 30;
    const bitrate = this.options.bitrate ?? Math.max(250_000, Math.round(width * height * fps * 0.2));
    const target = typeof this.options.target === 'function' ? await this.options.target(key) : this.options.target;
    if (frame.comesFromVideoFile) {
      return EncodedRecorder.create({
        key,
        width,
        height,
        fps,
        bitrate,
        codec: this.options.codec,
        codecString: this.options.codecString,
        container: this.options.container,
        keyFrameInterval: this.options.keyFrameIntervalSeconds ?? 2,
        maxEncodeQueue: this.options.maxEncodeQueue ?? 2,
        target,
      });
    }
    return LiveRecorder.create(
      { key, width, height, bitrate, mimeType: this.options.mimeType, codec: this.options.codec, container: this.options.container, timesliceMs: this.options.timesliceMs ?? 1000, target },
      recording.canvas,
    );
  }

  /**
   * Finalises every recording: waits for the frame in progress, flushes the encoders, writes the file trailers
   * (closing any {@link VideoFileTarget}), stops MediaRecorders and their capture tracks, and releases the
   * canvases. Idempotent: later calls return the same promise. Frames offered afterwards are refused.
   * Resolves with one entry per recording, in the order they started; a failed one carries `error`.
   */
  finish(): Promise<VideoRecording[]> {
    this.finishing ??= (async () => {
      await this.chain;
      const results: VideoRecording[] = [];
      for (const recording of this.recordings.values()) {
        if (!recording.recorder) continue;
        let recorder: Recorder;
        try {
          recorder = await recording.recorder;
        } catch (error) {
          results.push({
            key: recording.key,
            method: 'webcodecs',
            mimeType: '',
            extension: '',
            blob: null,
            frames: 0,
            width: recording.width,
            height: recording.height,
            codec: '',
            durationSeconds: 0,
            error: error instanceof Error ? error : new Error(String(error)),
          });
          continue;
        }
        results.push(await recorder.finish());
      }
      this.release();
      return results;
    })();
    return this.finishing;
  }

  /** Same as {@link finish}, without the report: finalises the files and releases everything. Idempotent. */
  async close(): Promise<void> {
    await this.finish();
  }

  /** Stops without producing files: closes encoders, cancels muxing, aborts targets, releases canvases. */
  async abort(): Promise<void> {
    if (this.aborted || this.finishing) return;
    this.aborted = true;
    await this.chain;
    for (const recording of this.recordings.values()) {
      const recorder = await recording.recorder?.catch(() => undefined);
      await recorder?.abort();
    }
    this.release();
  }

  private release(): void {
    for (const recording of this.recordings.values()) {
      recording.canvas.width = 1;
      recording.canvas.height = 1;
    }
    for (const annotator of this.annotators.values()) {
      annotator.canvas.width = 1;
      annotator.canvas.height = 1;
    }
    this.annotators.clear();
  }

  /**
   * Finalises (see {@link finish}) and gives one recording's file. `key`: a source id, or `'tiled'`; may be
   * omitted when there is exactly one recording. Rejects when that recording does not exist, failed, or was
   * written to a {@link VideoFileTarget} (no Blob is kept then).
   */
  async result(key?: RecordingKey): Promise<Blob> {
    const recording = await this.recording(key);
    if (recording.error) throw recording.error;
    if (!recording.blob) throw new Error(`VideoFileSink: recording ${String(recording.key)} was written to the target stream; no Blob is kept`);
    return recording.blob;
  }

  /** Finalises and gives every recording's file, keyed by source id (or `'tiled'`); failed ones are left out. */
  async results(): Promise<Map<RecordingKey, Blob>> {
    const out = new Map<RecordingKey, Blob>();
    for (const r of await this.finish()) if (r.blob) out.set(r.key, r.blob);
    return out;
  }

  private async recording(key?: RecordingKey): Promise<VideoRecording> {
    const all = await this.finish();
    if (key === undefined) {
      if (all.length === 1) return all[0]!;
      throw new Error(
        all.length === 0 ? 'VideoFileSink: nothing was recorded (no frame reached the sink)' : `VideoFileSink: ${all.length} recordings (${all.map((r) => r.key).join(', ')}): pass the key you want`,
      );
    }
    const found = all.find((r) => r.key === key);
    if (!found) throw new Error(`VideoFileSink: no recording for ${JSON.stringify(key)}; recorded: ${all.map((r) => JSON.stringify(r.key)).join(', ') || 'none'}`);
    return found;
  }

  /**
   * Finalises and offers the file for download through a temporary `<a download>` link (DOM only).
   * `filename`: default `framewise-<key>.<mp4|webm>`. The object URL is revoked a minute later.
   */
  async download(filename?: string, key?: RecordingKey): Promise<void> {
    const recording = await this.recording(key);
    if (recording.error) throw recording.error;
    if (!recording.blob) throw new Error(`VideoFileSink: recording ${String(recording.key)} was written to the target stream; nothing to download`);
    if (typeof document === 'undefined') throw new Error('VideoFileSink.download needs a DOM (document)');
    const url = URL.createObjectURL(recording.blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = filename ?? `framewise-${String(recording.key)}.${recording.extension}`;
    link.style.display = 'none';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
