/**
 * The page the WHEP tests drive. A pipeline runs in the background while the test (in Node) kills and restarts
 * the relay, so the calls are split: start, snapshot (repeatedly), stop. The page also counts what must be gone
 * after a stop: every VideoFrame the browser decoded from a track (recorded where MediaStreamTrackProcessor
 * hands them out) and every peer connection's tracks.
 */
import * as framewise from '../../../src/index.ts';
import type { FramePredictions, InitOptions, StatusUpdate } from '../../../src/index.ts';
import { openSource } from '../../../src/sources/resolve-source.ts';
import type { RtspRelay } from '../../../src/sources/rtsp-relay.ts';
import { WhepSource, type WhepSourceState } from '../../../src/sources/whep-source.ts';

type Reference = number | { whep: string };

/** What starts a background pipeline run. */
export interface LiveRunRequest extends Pick<InitOptions, 'modelId' | 'backend' | 'confidence'> {
  videoReference: Reference | Reference[];
}

/** One prediction, reduced to what the tests compare. */
export interface SeenPrediction {
  sourceId: number;
  frameId: number;
  width: number;
  height: number;
  boxes: { class: string; class_id: number; x: number; y: number; width: number; height: number }[];
  /** Date.now() when the sink got it (same clock as the test process). */
  at: number;
}

/** One status event, reduced; `state` is `payload.new_state`. */
export type SeenStatus = Pick<StatusUpdate, 'timestamp' | 'severity' | 'eventType' | 'message' | 'sourceId'> & { state?: string };

/** Where a background run is: predictions since the index asked for, all events, join()'s error if it ended. */
export interface LiveSnapshot {
  predictions: SeenPrediction[];
  total: number;
  statuses: SeenStatus[];
  error?: string;
}

/** What a stopped run leaves: join()'s error, how long terminate() took, what it produced, what is still open. */
export interface StopResult {
  error?: string;
  /** Everything the run produced. */
  predictions: SeenPrediction[];
  statuses: SeenStatus[];
  /** Milliseconds terminate() took. */
  terminateMs: number;
  leaks: Leaks;
}

/** What should be gone after a stop. */
export interface Leaks {
  /** VideoFrames read from any track (or handed to the sink) that are still open. */
  openFrames: number;
  /** Frames seen in all, to show the count above is not vacuous. */
  framesSeen: number;
  /** Remote tracks of any peer connection still `live`. */
  liveTracks: number;
  /** Peer connections not closed. */
  openPeerConnections: number;
  peerConnections: number;
}

// --- instrumentation ------------------------------------------------------------------------------------------

const framesRead: VideoFrame[] = [];
const peerConnections: RTCPeerConnection[] = [];

interface TrackProcessorLike {
  readable: ReadableStream<VideoFrame>;
}
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => TrackProcessorLike;
const globals = globalThis as unknown as { MediaStreamTrackProcessor?: TrackProcessorConstructor; RTCPeerConnection: typeof RTCPeerConnection };

const OriginalProcessor = globals.MediaStreamTrackProcessor;
if (OriginalProcessor) {
  const Processor = OriginalProcessor;
  // Records each frame a reader takes, without adding any queue (a TransformStream would hold frames of its own).
  globals.MediaStreamTrackProcessor = class {
    readonly readable: ReadableStream<VideoFrame>;
    constructor(init: { track: MediaStreamTrack; maxBufferSize?: number }) {
      const stream = new Processor(init).readable;
      const getReader = stream.getReader.bind(stream) as () => ReadableStreamDefaultReader<VideoFrame>;
      (stream as { getReader: () => ReadableStreamDefaultReader<VideoFrame> }).getReader = () => {
        const reader = getReader();
        const read = reader.read.bind(reader);
        reader.read = async () => {
          const result = await read();
          if (!result.done) framesRead.push(result.value);
          return result;
        };
        return reader;
      };
      this.readable = stream;
    }
  };
}

const OriginalPeerConnection = globals.RTCPeerConnection;
globals.RTCPeerConnection = class extends OriginalPeerConnection {
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    peerConnections.push(this);
  }
};

function leaks(sinkFrames: VideoFrame[]): Leaks {
  const all = [...framesRead, ...sinkFrames];
  return {
    openFrames: all.filter((f) => f.format !== null).length,
    framesSeen: all.length,
    liveTracks: peerConnections.flatMap((pc) => pc.getReceivers().map((r) => r.track)).filter((t) => t.readyState === 'live').length,
    openPeerConnections: peerConnections.filter((pc) => pc.signalingState !== 'closed').length,
    peerConnections: peerConnections.length,
  };
}

// --- a pipeline in the background ------------------------------------------------------------------------------

interface LiveRun {
  pipeline: framewise.InferencePipeline;
  predictions: SeenPrediction[];
  statuses: SeenStatus[];
  sinkFrames: VideoFrame[];
  joined: Promise<string | undefined>;
}
let current: LiveRun | undefined;

function startRun(request: LiveRunRequest): void {
  if (current) throw new Error('a run is already going');
  const predictions: SeenPrediction[] = [];
  const statuses: SeenStatus[] = [];
  const sinkFrames: VideoFrame[] = [];
  const pipeline = framewise.InferencePipeline.init({
    modelId: request.modelId,
    backend: request.backend,
    confidence: request.confidence,
    videoReference: request.videoReference,
    statusUpdateHandlers: [
      (s) =>
        statuses.push({
          timestamp: s.timestamp,
          severity: s.severity,
          eventType: s.eventType,
          message: s.message,
          sourceId: s.sourceId,
          state: typeof s.payload?.new_state === 'string' ? s.payload.new_state : undefined,
        }),
    ],
    onPrediction: (p: FramePredictions, frame) => {
      sinkFrames.push(frame.image);
      predictions.push({
        sourceId: p.source_id,
        frameId: p.frame_id,
        width: p.image.width,
        height: p.image.height,
        boxes: [...p.predictions].sort((a, b) => a.class_id - b.class_id).map((d) => ({ class: d.class, class_id: d.class_id, x: d.x, y: d.y, width: d.width, height: d.height })),
        at: Date.now(),
      });
    },
  });
  const joined = pipeline.join().then(
    () => undefined,
    (error: Error) => `${error.name}: ${error.message}`,
  );
  current = { pipeline, predictions, statuses, sinkFrames, joined };
  pipeline.start();
}

let joinError: string | undefined;
function snapshot(since = 0): LiveSnapshot {
  const run = current;
  if (!run) throw new Error('no run');
  void run.joined.then((e) => (joinError = e));
  return { predictions: run.predictions.slice(since), total: run.predictions.length, statuses: [...run.statuses], error: joinError };
}

async function stopRun(): Promise<StopResult> {
  const run = current;
  if (!run) throw new Error('no run');
  const started = performance.now();
  // A hang guard that reports instead of letting the test time out with nothing to show.
  const hung = await Promise.race([
    run.pipeline.terminate().then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 30_000)),
  ]);
  const terminateMs = performance.now() - started;
  if (hung) {
    const tail = run.statuses.slice(-15).map((s) => `${s.eventType}[${s.sourceId ?? '-'}] ${s.message}`);
    return { error: `terminate() had not returned after 30 s; last events:\n${tail.join('\n')}`, terminateMs, leaks: leaks(run.sinkFrames), predictions: run.predictions, statuses: run.statuses };
  }
  const error = await run.joined;
  current = undefined;
  joinError = undefined;
  return { error, terminateMs, leaks: leaks(run.sinkFrames), predictions: run.predictions, statuses: run.statuses };
}

// --- a WhepSource on its own -----------------------------------------------------------------------------------

/** A WhepSource run without a pipeline. */
export interface SourceRunRequest {
  url: string;
  /** Frames to take before closing. */
  frames: number;
  stallTimeoutMs?: number;
  /** Give up (and close) after this long, in ms. */
  timeoutMs: number;
}

/** What a WhepSource run saw: its states, info, frames and what was left open. */
export interface SourceRunResult {
  states: { state: WhepSourceState; detail: string; at: number }[];
  info?: { width: number; height: number; description: string };
  frames: { frameId: number; width: number; height: number }[];
  /** Milliseconds from open() to the first frame. */
  firstFrameMs?: number;
  error?: string;
  leaks: Leaks;
}

/** Opens a WhepSource, takes `frames` frames (closing each), then closes it. */
async function sourceRun(request: SourceRunRequest): Promise<SourceRunResult> {
  const states: SourceRunResult['states'] = [];
  const frames: SourceRunResult['frames'] = [];
  const source = new WhepSource(0, request.url, {
    stallTimeoutMs: request.stallTimeoutMs,
    onState: (state, detail) => states.push({ state, detail, at: Date.now() }),
  });
  const timer = setTimeout(() => source.close(), request.timeoutMs);
  const started = performance.now();
  let firstFrameMs: number | undefined;
  let info: SourceRunResult['info'];
  let error: string | undefined;
  try {
    const opened = await source.open();
    info = { width: opened.width, height: opened.height, description: opened.description };
    while (frames.length < request.frames) {
      const grabbed = await source.next();
      if (!grabbed) break;
      firstFrameMs ??= performance.now() - started;
      frames.push({ frameId: grabbed.frameId, width: grabbed.frame.displayWidth, height: grabbed.frame.displayHeight });
      grabbed.frame.close();
    }
  } catch (e) {
    error = `${(e as Error).name}: ${(e as Error).message}`;
  } finally {
    clearTimeout(timer);
    source.close();
  }
  return { states, info, frames, firstFrameMs, error, leaks: leaks([]) };
}

/** Opens an `rtsp://` reference through openSource with an rtspRelay, takes one frame, closes. */
async function openRtsp(rtspUrl: string, relay: RtspRelay): Promise<{ description: string; width: number; frameId?: number; events: string[]; error?: string }> {
  const events: string[] = [];
  try {
    const opened = await openSource(0, rtspUrl, undefined, (u) => events.push(`${u.eventType}${typeof u.payload?.new_state === 'string' ? `:${u.payload.new_state}` : ''}`), { rtspRelay: relay });
    const grabbed = await opened.source.next();
    grabbed?.frame.close();
    opened.source.close();
    return { description: opened.info.description, width: opened.info.width, frameId: grabbed?.frameId, events };
  } catch (e) {
    return { description: '', width: 0, events, error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const whepHarness = { startRun, snapshot, stopRun, sourceRun, openRtsp, leaks: () => leaks([]) };
(window as unknown as { whepHarness: typeof whepHarness }).whepHarness = whepHarness;
/** The page's API, for typing `page.evaluate` calls. */
export type WhepHarness = typeof whepHarness;
document.title = 'whep harness ready';
