/**
 * Live video from a WHEP endpoint (an RTSP camera behind MediaMTX, go2rtc or the bundled relay), kept alive:
 * the source reconnects by itself whenever the stream stops, and only {@link WhepSource.close} ends it.
 *
 * Liveness: the connection is given up and made again when the peer connection is `failed` or `closed`, when it
 * stays `disconnected` for more than 5 s, or when `framesDecoded` (from `getStats`) stops growing for
 * `stallTimeoutMs`. Chrome needs 5–7 s to call a dead peer `disconnected` and 10 s more for `failed`, while
 * decoding stops within a frame or two, so the decoded-frame count is what usually notices first.
 *
 * Retries wait with exponential backoff and jitter, 1 s doubling up to 30 s, back to 1 s once a connection has
 * decoded a frame; a server's `Retry-After` is honoured instead. A failure to connect at start is retried like any
 * other; a permanent HTTP error (400, 401, 403, …) ends the source with a SourceError.
 *
 * Frames: each connection's track is read by a {@link MediaStreamSource} (freshest frame only); frame ids keep
 * counting across reconnections (the next connection's first frame follows the last one of the previous).
 */
import { SourceError, describeError } from '../pipeline/errors.ts';
import { Signal, type FrameSource, type GrabbedFrame, type SourceInfo } from './frame-source.ts';
import { FreshestFrame } from './freshest-frame.ts';
import { MediaStreamSource } from './media-stream-source.ts';
import { WhepHttpError, connectWhep, type WhepConnection } from './whep-client.ts';

/**
 * Where a WHEP source is: `connecting` (first attempt), `live` (frames are being decoded), `stalled` (the stream
 * stopped; about to reconnect), `reconnecting` (waiting to retry, or negotiating again), `ended` (closed, or
 * failed for good).
 */
export type WhepSourceState = 'connecting' | 'live' | 'stalled' | 'reconnecting' | 'ended';

/** Options of {@link WhepSource}. */
export interface WhepSourceOptions {
  /** Called on every state change, with a human-readable reason. Exceptions it throws are ignored. */
  onState?: (state: WhepSourceState, detail: string) => void;
  /** Milliseconds without a newly decoded frame after which the stream counts as stalled. Default 3000. */
  stallTimeoutMs?: number;
  /** The fetch used for the WHEP exchanges. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Peer connection settings (ICE servers when the relay is behind NAT; none are needed on a LAN). */
  rtcConfiguration?: RTCConfiguration;
}

/** First retry delay; doubles per failed attempt. */
const BACKOFF_INITIAL_MS = 1000;
/** Longest wait between attempts, including a server's Retry-After. */
const BACKOFF_MAX_MS = 30_000;
/** How long `disconnected` may last before the connection is given up. */
const DISCONNECTED_GRACE_MS = 5000;
/** How often getStats is polled for decoded frames. */
const STATS_INTERVAL_MS = 500;

/** The wait before retry number `attempt` (0-based): 1 s · 2^attempt, ±25 % jitter, at most 30 s. */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(attempt, 16));
  return Math.min(BACKOFF_MAX_MS, Math.round(base * (0.75 + random() * 0.5)));
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why a connection was given up. */
interface Loss {
  reason: string;
  /** Whether this connection decoded at least one frame. */
  hadFrames: boolean;
}

/** A live WHEP stream as a FrameSource that reconnects by itself. */
export class WhepSource implements FrameSource {
  private readonly pending = new FreshestFrame();
  private readonly changed = new Signal();
  private readonly lifetime = new AbortController();
  private closed = false;
  private failure?: SourceError;
  private stateValue?: WhepSourceState;
  /** Frame ids used by earlier connections; a connection's frame n becomes `idBase + n`. */
  private idBase = 0;
  private lastFrameId = 0;
  private droppedBefore = 0;
  private connection?: WhepConnection;
  private reader?: MediaStreamSource;
  private firstOutcome?: () => void;
  private firstSize?: { width: number; height: number };
  private readonly stallTimeoutMs: number;

  /**
   * @param sourceId the source's index in the pipeline.
   * @param url the WHEP endpoint, e.g. `http://127.0.0.1:8889/cam1/whep`.
   */
  constructor(
    /** The source's index in the pipeline. */
    readonly sourceId: number,
    /** The WHEP endpoint. */
    readonly url: string,
    private readonly options: WhepSourceOptions = {},
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`WHEP url must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`WHEP url must be http(s), got ${JSON.stringify(url)}`);
    const stall = options.stallTimeoutMs ?? 3000;
    if (typeof stall !== 'number' || !Number.isFinite(stall) || stall <= 0) throw new TypeError(`stallTimeoutMs must be a positive number of milliseconds, got ${JSON.stringify(stall)}`);
    this.stallTimeoutMs = stall;
  }

  /** Frames decoded but never handed out (only the freshest is kept), over every connection so far. */
  get droppedFrames(): number {
    return this.droppedBefore + (this.reader?.droppedFrames ?? 0) + this.pending.dropped;
  }

  /** The current state (`undefined` before {@link open}). */
  get state(): WhepSourceState | undefined {
    return this.stateValue;
  }

  /**
   * Starts connecting, and keeps doing so until {@link close}. Resolves when the first attempt has an outcome:
   * the first decoded frame (with its size), or a failure (then width and height are 0 and retries go on in
   * the background). Rejects only for a permanent error (e.g. 401).
   */
  async open(): Promise<SourceInfo> {
    if (this.stateValue !== undefined) throw new Error(`open() may be called once; the source is ${this.stateValue}`);
    const firstOutcome = new Promise<void>((resolve) => (this.firstOutcome = resolve));
    this.setState('connecting', `connecting to ${this.url}`);
    void this.run();
    await firstOutcome;
    if (this.failure) throw this.failure;
    return {
      width: this.firstSize?.width ?? 0,
      height: this.firstSize?.height ?? 0,
      fps: 0,
      comesFromVideoFile: false,
      description: `WHEP ${this.url}`,
    };
  }

  private setState(state: WhepSourceState, detail: string): void {
    if (this.stateValue === 'ended') return;
    this.stateValue = state;
    try {
      this.options.onState?.(state, detail);
    } catch {
      // A throwing observer must not break the connection logic.
    }
  }

  private settleOpen(): void {
    this.firstOutcome?.();
    this.firstOutcome = undefined;
  }

  /** The reconnect loop: connect, watch until lost, wait, again; until closed or a permanent error. */
  private async run(): Promise<void> {
    const signal = this.lifetime.signal;
    let attempt = 0;
    while (!signal.aborted) {
      let retryAfterMs: number | undefined;
      let what: string;
      try {
        const loss = await this.connectAndWatch(signal);
        if (signal.aborted) break;
        if (loss.hadFrames) attempt = 0;
        what = `connection lost: ${loss.reason}`;
        this.setState('stalled', what);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof WhepHttpError && !error.retryable) {
          this.failure = new SourceError(this.sourceId, `WHEP ${this.url}: ${error.message}`, { cause: error });
          this.setState('ended', this.failure.message);
          break;
        }
        retryAfterMs = error instanceof WhepHttpError ? error.retryAfterMs : undefined;
        what = describeError(error);
      }
      this.settleOpen();
      if (signal.aborted) break;
      const delay = retryAfterMs !== undefined ? Math.min(BACKOFF_MAX_MS, retryAfterMs) : backoffDelayMs(attempt);
      attempt += 1;
      this.setState('reconnecting', `${what}; retrying in ${(delay / 1000).toFixed(1)} s${retryAfterMs !== undefined ? ' (Retry-After)' : ''}`);
      try {
        await sleep(delay, signal);
      } catch {
        break;
      }
    }
    this.settleOpen();
    this.changed.notify();
  }

  /**
   * One connection: negotiate, read frames, and watch liveness. Resolves with the reason once the connection is
   * given up (it is closed by then); rejects when negotiation fails.
   */
  private async connectAndWatch(signal: AbortSignal): Promise<Loss> {
    const connection = await connectWhep(this.url, { signal, fetch: this.options.fetch, rtcConfiguration: this.options.rtcConfiguration });
    this.connection = connection;
    const reader = new MediaStreamSource(this.sourceId, connection.stream, { description: `WHEP ${this.url}`, stopTracksOnClose: true });
    this.reader = reader;
    const watch = new AbortController();
    const stopWatch = (): void => watch.abort();
    signal.addEventListener('abort', stopWatch, { once: true });
    let hadFrames = false;
    let lastProgress = performance.now();
    try {
      await reader.open();
      const pumped = this.pump(reader, () => {
        lastProgress = performance.now();
        if (!hadFrames) {
          hadFrames = true;
          this.setState('live', `decoding frames from ${this.url}`);
          this.settleOpen();
        }
      });
      const reason = await this.watchLiveness(connection.pc, watch.signal, () => lastProgress, (at) => (lastProgress = Math.max(lastProgress, at)), pumped);
      return { reason, hadFrames };
    } finally {
      signal.removeEventListener('abort', stopWatch);
      watch.abort();
      this.retire(connection, reader);
    }
  }

  /** Moves frames from the connection's reader to the freshest-frame slot, renumbered. Ends with the reader. */
  private async pump(reader: MediaStreamSource, onFrame: () => void): Promise<string> {
    try {
      for (;;) {
        const grabbed = await reader.next();
        if (!grabbed) return 'the video track ended';
        if (this.closed || this.reader !== reader) {
          grabbed.frame.close();
          return 'closed';
        }
        this.firstSize ??= { width: grabbed.frame.displayWidth, height: grabbed.frame.displayHeight };
        const frameId = this.idBase + grabbed.frameId;
        this.lastFrameId = Math.max(this.lastFrameId, frameId);
        this.pending.put({ ...grabbed, frameId });
        onFrame();
        this.changed.notify();
      }
    } catch (error) {
      return `reading frames failed: ${describeError(error)}`;
    }
  }

  /** Resolves with a reason once the connection should be given up (or `signal` aborts). */
  private watchLiveness(
    pc: RTCPeerConnection,
    signal: AbortSignal,
    lastProgress: () => number,
    progressAt: (at: number) => void,
    pumped: Promise<string>,
  ): Promise<string> {
    return new Promise((resolve) => {
      let decoded = -1;
      let disconnectedSince: number | undefined;
      let polling = false;
      const finish = (reason: string): void => {
        clearInterval(timer);
        pc.removeEventListener('connectionstatechange', onState);
        resolve(reason);
      };
      const onState = (): void => {
        const state = pc.connectionState;
        if (state === 'failed' || state === 'closed') finish(`the peer connection is ${state}`);
        else if (state === 'disconnected') disconnectedSince ??= performance.now();
        else disconnectedSince = undefined;
      };
      const tick = async (): Promise<void> => {
        const now = performance.now();
        if (disconnectedSince !== undefined && now - disconnectedSince > DISCONNECTED_GRACE_MS) {
          return finish(`the peer connection was disconnected for more than ${DISCONNECTED_GRACE_MS / 1000} s`);
        }
        if (!polling) {
          polling = true;
          try {
            for (const report of (await pc.getStats()).values() as IterableIterator<{ type: string; kind?: string; framesDecoded?: number }>) {
              if (report.type !== 'inbound-rtp' || report.kind !== 'video' || report.framesDecoded === undefined) continue;
              if (report.framesDecoded > decoded) {
                if (decoded >= 0) progressAt(performance.now());
                decoded = report.framesDecoded;
              }
            }
          } catch {
            // getStats on a closing connection: the state handler reports it.
          } finally {
            polling = false;
          }
        }
        if (performance.now() - lastProgress() > this.stallTimeoutMs) {
          finish(`no frame decoded for ${(this.stallTimeoutMs / 1000).toFixed(1)} s`);
        }
      };
      const timer = setInterval(() => void tick(), STATS_INTERVAL_MS);
      pc.addEventListener('connectionstatechange', onState);
      onState();
      signal.addEventListener('abort', () => finish('closed'), { once: true });
      void pumped.then((reason) => finish(reason));
    });
  }

  /** Closes one connection and its reader; later frame ids continue after its last one. */
  private retire(connection: WhepConnection, reader: MediaStreamSource): void {
    if (this.reader === reader) {
      this.droppedBefore += reader.droppedFrames;
      this.reader = undefined;
    }
    if (this.connection === connection) this.connection = undefined;
    reader.close();
    connection.close();
    this.idBase = this.lastFrameId;
  }

  /**
   * The freshest frame; while the stream is down (stalled, reconnecting) it waits for the next connection.
   * Resolves `null` only after {@link close}; rejects with SourceError after a permanent error.
   */
  async next(): Promise<GrabbedFrame | null> {
    for (;;) {
      if (this.closed) return null;
      const latest = this.pending.take();
      if (latest) return latest;
      if (this.failure) throw this.failure;
      await this.changed.wait();
    }
  }

  /** Drops the frame waiting to be taken, if any, counting it (used while muted). */
  discardPending(): void {
    this.pending.discard();
  }

  /**
   * Stops at once, whatever it is doing (negotiating, waiting to retry, streaming): aborts requests in flight,
   * stops the tracks, closes the peer connection, DELETEs the session (in the background) and closes the frame
   * it holds. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort(new DOMException('the WHEP source was closed', 'AbortError'));
    if (this.reader && this.connection) this.retire(this.connection, this.reader);
    else this.connection?.close();
    this.pending.clear();
    this.setState('ended', 'closed');
    this.stateValue = 'ended';
    this.settleOpen();
    this.changed.notify();
  }
}
