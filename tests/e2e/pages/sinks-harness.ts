/**
 * The page the sink tests drive: it runs pipelines with the sinks of issue 5 in the real browser, decodes
 * recordings with mediabunny, and hands plain JSON back to the test.
 */
import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input, VideoSampleSink } from 'mediabunny';
import * as framewise from '../../../src/index.ts';
import type { FrameMetadata, FramePredictions, StatusUpdate, VideoFileSinkOptions, VideoRecording, WebSocketSinkOptions, WebSocketSinkStats } from '../../../src/index.ts';

const COLOUR_BOX = { url: '/tests/fixtures/generated/colour-box-320.onnx' };

type Status = Omit<StatusUpdate, 'payload'>;

/** Pixel probes: `points[i]` are the (x, y) pixels to read on the frame whose timestamp × fps rounds to i. */
export interface Probes {
  fps: number;
  points: [number, number][][];
  /** Read `points[0]` on every frame (index = decoding order) instead of picking by timestamp. */
  sameForAll?: boolean;
}

export interface DecodedVideo {
  /** Packets in the primary video track. */
  packets: number;
  /** Frames decoded. */
  frames: number;
  /** End of the last frame, seconds (mediabunny's computeDuration, from the packets). */
  duration: number;
  /** Duration the container's metadata states, seconds (null when it states none). */
  metadataDuration: number | null;
  width: number;
  height: number;
  /** Presentation timestamps of the decoded frames, seconds. */
  timestamps: number[];
  codec: string | null;
  /** RGB read at the probes, per decoded frame (absent without probes). */
  samples: { index: number; rgb: [number, number, number][] }[];
}

export type RecordingReport = Omit<VideoRecording, 'blob' | 'error'> & { size: number; error?: string };

export interface RecordRequest {
  /** URL(s) of the video(s), or a webcam index. */
  videoReference: string | string[] | number;
  /** Run the colour-box model (WASM); otherwise custom logic returns `fakeBox` (or nothing) per frame. */
  useModel: boolean;
  /** Custom logic only: one detection drawn on every frame, in source pixels. */
  fakeBox?: { x: number; y: number; width: number; height: number };
  /** A slow sink next to the recorder (multiSink), milliseconds per frame: throttles the pipeline. */
  throttleMs: number;
  /** Live sources: terminate the pipeline after this many milliseconds. */
  stopAfterMs?: number;
  sink: Omit<VideoFileSinkOptions, 'target'>;
  /** Probes per recording key (as a string: "0", "1", "tiled"). */
  probes?: Record<string, Probes>;
  /** Write each recording to a file in the origin-private file system (FileSystemWritableFileStream target). */
  opfsTarget?: boolean;
}

export interface RecordResult {
  recordings: RecordingReport[];
  decoded: Record<string, DecodedVideo>;
  /** Frames the recorder's sink was given (per source id). */
  sinkFrames: Record<string, number>;
  predictions: FramePredictions[];
  statuses: Status[];
  error?: { name: string; message: string };
  leakedFrames: number;
  /** Wall-clock milliseconds from start() to join() resolving. */
  elapsedMs: number;
}

function countOpen(frames: VideoFrame[]): number {
  return frames.filter((f) => f.format !== null).length;
}

function fakeLogic(box?: RecordRequest['fakeBox']): (frames: FrameMetadata[]) => FramePredictions[] {
  return (frames) =>
    frames.map((f) => ({
      image: { width: f.image.displayWidth, height: f.image.displayHeight },
      predictions: box ? [{ ...box, confidence: 0.9, class: 'person', class_id: 1, detection_id: `fake-${f.frameId}` }] : [],
      frame_id: f.frameId,
      source_id: f.sourceId,
      frame_timestamp: f.frameTimestamp,
    }));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Decodes a recording with mediabunny and reads pixels at the probes. */
async function decode(blob: Blob, probes?: Probes): Promise<DecodedVideo> {
  const input = new Input({ source: new BlobSource(blob), formats: ALL_FORMATS });
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track) throw new Error('the recording has no video track');
    const [width, height, duration, metadataDuration, codec] = await Promise.all([
      track.getDisplayWidth(),
      track.getDisplayHeight(),
      input.computeDuration(),
      input.getDurationFromMetadata(),
      track.getCodecParameterString(),
    ]);
    let packets = 0;
    for await (const _packet of new EncodedPacketSink(track).packets(undefined, undefined, { metadataOnly: true })) packets += 1;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    const timestamps: number[] = [];
    const samples: DecodedVideo['samples'] = [];
    for await (const sample of new VideoSampleSink(track).samples()) {
      try {
        timestamps.push(sample.timestamp);
        if (!probes) continue;
        const index = probes.sameForAll ? timestamps.length - 1 : Math.round(sample.timestamp * probes.fps);
        const points = (probes.sameForAll ? probes.points[0] : probes.points[index]) ?? [];
        if (points.length === 0) continue;
        sample.draw(context, 0, 0, width, height);
        const pixels = context.getImageData(0, 0, width, height).data;
        samples.push({
          index,
          rgb: points.map(([x, y]) => {
            const o = (Math.round(y) * width + Math.round(x)) * 4;
            return [pixels[o]!, pixels[o + 1]!, pixels[o + 2]!];
          }),
        });
      } finally {
        sample.close();
      }
    }
    return { packets, frames: timestamps.length, duration, metadataDuration, width, height, timestamps, codec, samples };
  } finally {
    input.dispose();
  }
}

async function record(request: RecordRequest): Promise<RecordResult> {
  const predictions: FramePredictions[] = [];
  const statuses: Status[] = [];
  const kept: VideoFrame[] = [];
  const sinkFrames: Record<string, number> = {};
  const opfs = request.opfsTarget ? await navigator.storage.getDirectory() : undefined;
  const fileName = (key: framewise.RecordingKey): string => `sinks-test-recording-${String(key)}`;
  const recorder = new framewise.VideoFileSink({
    ...request.sink,
    ...(opfs ? { target: async (key: framewise.RecordingKey) => (await opfs.getFileHandle(fileName(key), { create: true })).createWritable() } : {}),
  });
  const counting = (p: FramePredictions, frame: FrameMetadata): void => {
    predictions.push(p);
    kept.push(frame.image);
    sinkFrames[frame.sourceId] = (sinkFrames[frame.sourceId] ?? 0) + 1;
  };
  const slow = async function slowSink(): Promise<void> {
    if (request.throttleMs > 0) await sleep(request.throttleMs);
  };
  const onPrediction = framewise.multiSink(counting, recorder, slow);
  const common = {
    videoReference: request.videoReference,
    statusUpdateHandlers: [({ payload: _p, ...s }: StatusUpdate) => void statuses.push(s)],
    onPrediction,
    videoSourceProperties: typeof request.videoReference === 'number' ? { frameWidth: 640, frameHeight: 360, fps: 30 } : undefined,
  };
  const pipeline = request.useModel
    ? framewise.InferencePipeline.init({ ...common, modelId: COLOUR_BOX, backend: 'wasm' })
    : framewise.InferencePipeline.initWithCustomLogic({ ...common, onVideoFrame: fakeLogic(request.fakeBox) });
  let error: RecordResult['error'];
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    pipeline.start();
    if (request.stopAfterMs !== undefined) timer = setTimeout(() => void pipeline.terminate(), request.stopAfterMs);
    await pipeline.join();
  } catch (e) {
    error = { name: (e as Error).name, message: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
  const elapsedMs = performance.now() - started;
  const recordings = await recorder.finish();
  const decoded: Record<string, DecodedVideo> = {};
  for (const r of recordings) {
    const blob = r.blob ?? (opfs ? await (await opfs.getFileHandle(fileName(r.key))).getFile() : null);
    if (blob) decoded[String(r.key)] = await decode(blob, request.probes?.[String(r.key)]);
    if (opfs) await opfs.removeEntry(fileName(r.key)).catch(() => undefined);
  }
  await recorder.close(); // idempotent
  return {
    recordings: recordings.map(({ blob, error: e, ...rest }) => ({ ...rest, size: blob?.size ?? 0, ...(e ? { error: e.message } : {}) })),
    decoded,
    sinkFrames,
    predictions,
    statuses,
    error,
    leakedFrames: countOpen(kept),
    elapsedMs,
  };
}

export interface WsRequest {
  url: string;
  ws: Omit<WebSocketSinkOptions, 'url' | 'onStatus' | 'WebSocketImpl'>;
  /** A slow sink next to the WebSocketSink (multiSink), milliseconds per frame: throttles the pipeline. */
  throttleMs: number;
  useModel: boolean;
  /** Milliseconds to flush after the pipeline ended, before close(). */
  flushMs: number;
}

export interface WsResult {
  predictions: FramePredictions[];
  events: { type: string; message: string; frameId?: number; delayMs?: number; code?: number }[];
  stats: WebSocketSinkStats;
  /** The stats close() resolved with, and those a second close() resolved with (idempotence). */
  closeStats: WebSocketSinkStats;
  secondCloseStats: WebSocketSinkStats;
  /** Milliseconds onPrediction took, longest (the sink must return at once; reported, not asserted). */
  longestSinkCallMs: number;
  /** Whether onPrediction returned a promise on any call (it must not). */
  returnedPromise: boolean;
  flushed: boolean;
  statuses: Status[];
  error?: { name: string; message: string };
  leakedFrames: number;
  elapsedMs: number;
}

async function websocket(request: WsRequest): Promise<WsResult> {
  const predictions: FramePredictions[] = [];
  const statuses: Status[] = [];
  const kept: VideoFrame[] = [];
  const events: WsResult['events'] = [];
  const sink = new framewise.WebSocketSink({
    ...request.ws,
    url: request.url,
    onStatus: (e) => events.push({ type: e.type, message: e.message, frameId: e.frameId, delayMs: e.delayMs, code: e.code }),
  });
  let longest = 0;
  let returnedPromise = false;
  const timed = (p: FramePredictions, frame: FrameMetadata): void => {
    predictions.push(p);
    kept.push(frame.image);
    const t0 = performance.now();
    const out: unknown = sink.onPrediction(p, frame);
    longest = Math.max(longest, performance.now() - t0);
    if (out instanceof Promise) returnedPromise = true;
  };
  const onPrediction = framewise.multiSink(timed, async function throttle() {
    if (request.throttleMs > 0) await sleep(request.throttleMs);
  });
  const common = {
    videoReference: '/tests/fixtures/generated/sample.mp4',
    statusUpdateHandlers: [({ payload: _p, ...s }: StatusUpdate) => void statuses.push(s)],
    onPrediction,
  };
  const pipeline = request.useModel
    ? framewise.InferencePipeline.init({ ...common, modelId: COLOUR_BOX, backend: 'wasm' })
    : framewise.InferencePipeline.initWithCustomLogic({ ...common, onVideoFrame: fakeLogic({ x: 100, y: 100, width: 40, height: 40 }) });
  let error: WsResult['error'];
  const started = performance.now();
  try {
    pipeline.start();
    await pipeline.join();
  } catch (e) {
    error = { name: (e as Error).name, message: (e as Error).message };
  }
  const elapsedMs = performance.now() - started;
  const flushed = request.flushMs > 0 ? await sink.flush(request.flushMs) : false;
  const stats = sink.stats;
  const closeStats = await sink.close();
  const secondCloseStats = await sink.close();
  return { predictions, events, stats, closeStats, secondCloseStats, longestSinkCallMs: longest, returnedPromise, flushed, statuses, error, leakedFrames: countOpen(kept), elapsedMs };
}

export interface MultiRequest {
  /** Frame ids on which the synchronous thrower throws (empty: never). */
  throwOn: number[];
  /** Frame ids on which the async sink rejects. */
  rejectOn: number[];
  bufferSize: number;
  keepFrames: boolean;
}

export interface MultiResult {
  /** Frame ids each named sink saw. */
  seenBy: Record<string, number[]>;
  statuses: Status[];
  buffer: {
    frameIds: number[];
    length: number;
    received: number;
    evicted: number;
    latestFrameId: number | null;
    /** Buffered frames still open before close() (keepFrames), and after close(). */
    openImages: number;
    openImagesAfterClose: number;
    imageSizes: [number, number][];
    consumedFrameId: number | null;
  };
  error?: { name: string; message: string };
  leakedFrames: number;
  /** MultiSinkError seen when calling the sink directly with an always-throwing sink. */
  direct: { name: string; message: string; failures: { index: number; name: string }[]; othersSaw: number } | null;
}

async function multi(request: MultiRequest): Promise<MultiResult> {
  const statuses: Status[] = [];
  const kept: VideoFrame[] = [];
  const seenBy: Record<string, number[]> = { first: [], thrower: [], rejecter: [], last: [] };
  const buffer = framewise.bufferSink({ size: request.bufferSize, keepFrames: request.keepFrames });
  const throwOn = new Set(request.throwOn);
  const rejectOn = new Set(request.rejectOn);
  const sink = framewise.multiSink(
    function first(p, frame) {
      seenBy.first!.push(p.frame_id);
      kept.push(frame.image);
    },
    function thrower(p) {
      seenBy.thrower!.push(p.frame_id);
      if (throwOn.has(p.frame_id)) throw new Error(`thrower fails on frame ${p.frame_id}`);
    },
    {
      name: 'rejecter',
      onPrediction: async (p) => {
        await sleep(1);
        seenBy.rejecter!.push(p.frame_id);
        if (rejectOn.has(p.frame_id)) throw new Error(`rejecter fails on frame ${p.frame_id}`);
      },
    },
    function last(p) {
      seenBy.last!.push(p.frame_id);
    },
    buffer,
  );
  const pipeline = framewise.InferencePipeline.initWithCustomLogic({
    videoReference: '/tests/fixtures/generated/sample.mp4',
    statusUpdateHandlers: [({ payload: _p, ...s }) => void statuses.push(s)],
    onPrediction: sink,
    onVideoFrame: fakeLogic(),
  });
  let error: MultiResult['error'];
  try {
    pipeline.start();
    await pipeline.join();
  } catch (e) {
    error = { name: (e as Error).name, message: (e as Error).message };
  }
  const items = buffer.items();
  const openImages = items.filter((b) => b.image && b.image.format !== null).length;
  const imageSizes = items.map((b) => [b.image?.displayWidth ?? 0, b.image?.displayHeight ?? 0] as [number, number]);
  const latestFrameId = buffer.latest()?.frame.frameId ?? null;
  const bufferReport = { frameIds: items.map((b) => b.result.frame_id), length: buffer.length, received: buffer.received, evicted: buffer.evicted, latestFrameId };
  const consumed = buffer.consume();
  consumed?.image?.close();
  const stillHeld = buffer.items().map((b) => b.image).filter((i): i is VideoFrame => i !== null);
  buffer.close();

  // A direct call with a sink that always throws: the error names it and the others still ran.
  let direct: MultiResult['direct'] = null;
  let othersSaw = 0;
  const always = framewise.multiSink(
    () => void (othersSaw += 1),
    { name: 'always-throws', onPrediction: () => { throw new Error('nope'); } },
    () => void (othersSaw += 1),
  );
  const pixels = new OffscreenCanvas(4, 4);
  pixels.getContext('2d')!.fillRect(0, 0, 4, 4);
  const frame = new VideoFrame(pixels, { timestamp: 0 });
  try {
    await always({ image: { width: 4, height: 4 }, predictions: [], frame_id: 7, source_id: 0, frame_timestamp: 0 }, {
      image: frame, frameId: 7, frameTimestamp: 0, mediaTimestamp: 0, sourceId: 0, fps: 0, measuredFps: 0, comesFromVideoFile: true, latencyMs: 0, droppedFrames: 0,
    });
  } catch (e) {
    const m = e as framewise.MultiSinkError;
    direct = { name: m.name, message: m.message, failures: m.failures.map((f) => ({ index: f.index, name: f.name })), othersSaw };
  } finally {
    frame.close();
  }
  return {
    seenBy,
    statuses,
    buffer: { ...bufferReport, openImages, openImagesAfterClose: stillHeld.filter((i) => i.format !== null).length, imageSizes, consumedFrameId: consumed?.frame.frameId ?? null },
    error,
    leakedFrames: countOpen(kept),
    direct,
  };
}

const sinksHarness = { record, websocket, multi, decode };
(window as unknown as { sinksHarness: typeof sinksHarness }).sinksHarness = sinksHarness;
export type SinksHarness = typeof sinksHarness;
document.title = 'sinks harness ready';
