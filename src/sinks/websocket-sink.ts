/**
 * WebSocketSink: the browser's UDPSink. Sends each prediction as a JSON text message, optionally followed by
 * the (annotated) frame as a JPEG binary message, to a WebSocket server.
 *
 * It never blocks the pipeline: the sink function serialises the prediction (and draws the frame for the JPEG)
 * synchronously, puts it in a bounded queue and returns. A pump sends from the queue while the socket is open
 * and its `bufferedAmount` is under a limit. When the queue is full the oldest message is dropped, counted and
 * reported. A lost connection is re-opened with exponential backoff; messages wait in the queue meanwhile.
 *
 * Message format (text), the prediction's own keys plus `inference_metadata`:
 * ```json
 * { "image": {...}, "predictions": [...], "frame_id": 12, "source_id": 0, "frame_timestamp": 1700000000.1,
 *   "inference_metadata": { "source_id": 0, "frame_id": 12,
 *     "frame_decoding_time": "2024-01-01T00:00:00.100Z", "emission_time": "2024-01-01T00:00:00.130Z",
 *     "image": { "type": "image/jpeg", "bytes": 23456 } } }
 * ```
 * `inference_metadata.image` is present only when a JPEG follows: the very next binary message on the socket is
 * that frame's JPEG.
 * @module
 */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';
import { renderBoxes, type RenderBoxesOptions } from './render-boxes-sink.ts';

/** Backoff schedule for reconnecting. */
export interface BackoffOptions {
  /** Delay before the first retry, milliseconds. Default 250. */
  initialDelayMs?: number;
  /** Upper bound on the delay, milliseconds. Default 10000. */
  maxDelayMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  factor?: number;
  /** Random spread, 0..1: the delay is scaled by a factor in [1 - jitter, 1]. Default 0.2. */
  jitter?: number;
}

/**
 * Delay in milliseconds before reconnection attempt `attempt` (0 = the first retry after a loss):
 * `min(maxDelayMs, initialDelayMs × factor^attempt) × (1 - jitter × random())`. Pure; `random` returns [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  const base = Math.min(max, initial * Math.pow(factor, Math.max(0, attempt)));
  return base * (1 - jitter * random());
}

/**
 * A FIFO that holds at most `capacity` items: pushing onto a full queue evicts the oldest item and returns it
 * (the drop-oldest policy). Pure data structure, O(1) push and shift.
 */
export class BoundedQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`BoundedQueue capacity must be an integer ≥ 1, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends `item`; returns the evicted oldest item when the queue was full, else undefined. */
  push(item: T): { evicted: T } | undefined {
    let evicted: { evicted: T } | undefined;
    if (this.count === this.capacity) evicted = { evicted: this.shift() as T };
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
    return evicted;
  }

  /** Puts `item` back at the front (it becomes the oldest). When full, the newest item is evicted and returned. */
  unshift(item: T): { evicted: T } | undefined {
    let evicted: { evicted: T } | undefined;
    if (this.count === this.capacity) {
      const last = (this.head + this.count - 1) % this.capacity;
      evicted = { evicted: this.items[last] as T };
      this.items[last] = undefined;
      this.count -= 1;
    }
    this.head = (this.head - 1 + this.capacity) % this.capacity;
    this.items[this.head] = item;
    this.count += 1;
    return evicted;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
    return item;
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** Removes every item and returns them, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.count > 0) out.push(this.shift() as T);
    return out;
  }
}

/**
 * How many of the most recently sent messages were lost when a connection closed with `bufferedAmount` bytes
 * still unsent: the newest messages whose bytes overlap the unsent tail. `sizes` are byte sizes, oldest first.
 */
export function messagesInUnsentTail(sizes: readonly number[], bufferedAmount: number): number {
  let remaining = bufferedAmount;
  let lost = 0;
  for (let i = sizes.length - 1; i >= 0 && remaining > 0; i--) {
    remaining -= sizes[i]!;
    lost += 1;
  }
  return lost;
}

/** Bytes of `text` in UTF-8. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** `inference_metadata` of a message (the reference's UDPSink keys), plus the JPEG announcement. */
export interface InferenceMetadata {
  /** Index of the source in the pipeline's `videoReference` list. */
  source_id: number;
  /** 1-based frame index within the source. */
  frame_id: number;
  /** When the frame was grabbed, ISO 8601 (UTC). */
  frame_decoding_time: string;
  /** When the message was handed to the socket, ISO 8601 (UTC). */
  emission_time: string;
  /** Present when the next binary message is this frame's JPEG. */
  image?: { type: 'image/jpeg'; bytes: number };
}

/**
 * Serialises a prediction without `emission_time` (added at send time by {@link completeMessage}).
 * Returns the JSON of the prediction's own keys (any `inference_metadata` key in it is replaced).
 */
export function serializePrediction(predictions: FramePredictions, frame: Pick<FrameMetadata, 'sourceId' | 'frameId' | 'frameTimestamp'>): PreparedMessage {
  const { inference_metadata: _replaced, ...rest } = predictions as FramePredictions & { inference_metadata?: unknown };
  return {
    body: JSON.stringify(rest),
    sourceId: frame.sourceId,
    frameId: frame.frameId,
    frameDecodingTime: new Date(frame.frameTimestamp * 1000).toISOString(),
  };
}

/** A prediction serialised at enqueue time, waiting for its emission time. */
export interface PreparedMessage {
  /** JSON object text of the prediction's keys. */
  body: string;
  sourceId: number;
  frameId: number;
  frameDecodingTime: string;
}

/** The final JSON text: the prepared body with `inference_metadata` appended as the last key. */
export function completeMessage(message: PreparedMessage, emissionTime: Date, image?: { bytes: number }): string {
  const metadata: InferenceMetadata = {
    source_id: message.sourceId,
    frame_id: message.frameId,
    frame_decoding_time: message.frameDecodingTime,
    emission_time: emissionTime.toISOString(),
    ...(image ? { image: { type: 'image/jpeg' as const, bytes: image.bytes } } : {}),
  };
  const open = message.body.slice(0, -1); // without the closing brace
  return `${open}${open.length > 1 ? ',' : ''}"inference_metadata":${JSON.stringify(metadata)}}`;
}

/** Counters of a {@link WebSocketSink}. Every prediction offered ends up in exactly one of the counters. */
export interface WebSocketSinkStats {
  /** Predictions offered to the sink. */
  received: number;
  /** Predictions handed to the socket (and not known to be lost). */
  sent: number;
  /** Predictions evicted from the full queue before being sent (oldest first). */
  dropped: number;
  /**
   * Predictions handed to a socket that then closed with their bytes still in `bufferedAmount` (an estimate
   * from message sizes; bytes already passed to the network but not read by the server cannot be known).
   */
  lostOnClose: number;
  /** Predictions still queued when {@link WebSocketSink.close} gave up flushing. */
  discarded: number;
  /** Predictions waiting in the queue now. */
  queued: number;
  /** Connections opened successfully. */
  connections: number;
  /** Connection attempts, successful or not. */
  attempts: number;
  /** JPEG encodings that failed (the JSON message was sent without image). */
  imageErrors: number;
}

/** Connection state of a {@link WebSocketSink}. */
export type WebSocketSinkState = 'connecting' | 'open' | 'waiting' | 'closed';

/** A status event of a {@link WebSocketSink}. */
export interface WebSocketSinkEvent {
  /**
   * `connecting`: an attempt starts; `open`: connected; `disconnected`: the connection closed or failed;
   * `reconnect-scheduled`: next attempt in `delayMs`; `dropped`: the queue was full and the oldest message was
   * dropped (one event per dropped message); `lost`: messages were lost with a closed connection;
   * `closed`: {@link WebSocketSink.close} finished.
   */
  type: 'connecting' | 'open' | 'disconnected' | 'reconnect-scheduled' | 'dropped' | 'lost' | 'closed';
  /** How serious it is; drops and losses are warnings. */
  severity: 'debug' | 'info' | 'warning' | 'error';
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  /** What happened, in words. */
  message: string;
  /** Counters after the event. */
  stats: WebSocketSinkStats;
  /** `reconnect-scheduled`: milliseconds until the attempt. */
  delayMs?: number;
  /** `disconnected`: the WebSocket close code and reason. */
  code?: number;
  /** `disconnected`: the close reason the server gave, if any. */
  reason?: string;
  /** `dropped`: source and frame of the dropped message. */
  sourceId?: number;
  /** `dropped`: the frame id of the dropped message. */
  frameId?: number;
}

/** Options of {@link WebSocketSink}. */
export interface WebSocketSinkOptions {
  /** `ws://` or `wss://` URL of the server. */
  url: string | URL;
  /** WebSocket subprotocols. */
  protocols?: string | string[];
  /** Predictions that may wait in the queue; more drop the oldest. Default 256. */
  maxQueue?: number;
  /** Bytes the socket may buffer (`bufferedAmount`) before the sink stops handing it messages. Default 1 MiB. */
  maxBufferedAmount?: number;
  /** Milliseconds between `bufferedAmount` checks while the socket is saturated. Default 20. */
  pollIntervalMs?: number;
  /**
   * Also send each frame as a JPEG binary message after its JSON. `true` for the defaults, or:
   * `quality` 0..1 (default 0.8), `maxWidth` in pixels (downscaled to it, default: frame width),
   * `annotate` (draw boxes, default true), `render` (renderBoxes options). Default: no images.
   */
  image?: boolean | { quality?: number; maxWidth?: number; annotate?: boolean; render?: Omit<RenderBoxesOptions, 'canvas'> };
  /** Reconnection backoff (see {@link backoffDelay}). */
  reconnect?: BackoffOptions & { /** Attempts in a row before giving up (the sink then drops everything). Default Infinity. */ maxAttempts?: number };
  /** Milliseconds an attempt may stay connecting before it is abandoned and retried. Default 10000. */
  connectTimeoutMs?: number;
  /** Milliseconds {@link WebSocketSink.close} tries to flush the queue before discarding it. Default 2000. */
  closeFlushTimeoutMs?: number;
  /** Called with every status event; errors it throws are logged and ignored. */
  onStatus?: (event: WebSocketSinkEvent) => void;
  /** WebSocket constructor to use (tests, or Node's `ws`). Default: the global `WebSocket`. */
  WebSocketImpl?: typeof WebSocket;
}

interface QueueEntry {
  message: PreparedMessage;
  image?: Promise<Blob>;
}

/** Milliseconds close() waits for the server to acknowledge the closing handshake. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 5000;
const OPEN = 1;
const CONNECTING = 0;

/**
 * Sends predictions to a WebSocket server without ever blocking the pipeline (see the module documentation).
 *
 * Pass {@link WebSocketSink.onPrediction} as the pipeline's `onPrediction` (or inside `multiSink`). It returns
 * immediately. {@link WebSocketSink.close} flushes what it can and closes the socket; it is idempotent.
 *
 * Ownership: the frame is drawn synchronously (for JPEGs) and never kept; the sink owns its socket, queue and
 * one canvas, all released by `close()`.
 */
export class WebSocketSink {
  private readonly queue: BoundedQueue<QueueEntry>;
  private socket?: WebSocket;
  private stateValue: WebSocketSinkState = 'connecting';
  private readonly counters = { received: 0, sent: 0, dropped: 0, lostOnClose: 0, discarded: 0, connections: 0, attempts: 0, imageErrors: 0 };
  /** Failed attempts in a row (for maxAttempts). */
  private failedAttempts = 0;
  /** Retries scheduled since the last successful connection (the backoff exponent). */
  private retries = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private connectTimer?: ReturnType<typeof setTimeout>;
  private pollTimer?: ReturnType<typeof setTimeout>;
  private pumping = false;
  private pumpRequested = false;
  private closing?: Promise<WebSocketSinkStats>;
  /** Byte sizes of messages sent on the current socket, newest last, trimmed to what bufferedAmount can cover. */
  private recentSizes: number[] = [];
  private recentBytes = 0;
  private readonly idle = new Set<() => void>();
  private imageCanvas?: OffscreenCanvas | HTMLCanvasElement;
  private imageDraw?: (predictions: FramePredictions, frame: FrameMetadata) => void;
  private readonly imageOptions?: { quality: number; maxWidth?: number; annotate: boolean; render?: Omit<RenderBoxesOptions, 'canvas'> };
  private readonly maxBufferedAmount: number;
  private readonly pollIntervalMs: number;
  private readonly Impl: typeof WebSocket;

  /** Starts connecting at once. Throws TypeError for malformed options. */
  constructor(private readonly options: WebSocketSinkOptions) {
    const url = String(options.url);
    if (!/^wss?:\/\//i.test(url)) throw new TypeError(`WebSocketSink: url must start with ws:// or wss://, got ${JSON.stringify(url)}`);
    const maxQueue = options.maxQueue ?? 256;
    if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new TypeError(`WebSocketSink: maxQueue must be an integer ≥ 1, got ${JSON.stringify(options.maxQueue)}`);
    this.queue = new BoundedQueue(maxQueue);
    this.maxBufferedAmount = options.maxBufferedAmount ?? 1 << 20;
    this.pollIntervalMs = options.pollIntervalMs ?? 20;
    if (options.image) {
      const o = options.image === true ? {} : options.image;
      const quality = o.quality ?? 0.8;
      if (!(quality >= 0 && quality <= 1)) throw new TypeError(`WebSocketSink: image.quality must be in [0, 1], got ${JSON.stringify(o.quality)}`);
      this.imageOptions = { quality, maxWidth: o.maxWidth, annotate: o.annotate ?? true, render: o.render };
    }
    const Impl = options.WebSocketImpl ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (!Impl) throw new TypeError('WebSocketSink: no WebSocket implementation (pass options.WebSocketImpl)');
    this.Impl = Impl;
    this.connect();
  }

  /** Connection state now. */
  get state(): WebSocketSinkState {
    return this.stateValue;
  }

  /** A snapshot of the counters. */
  get stats(): WebSocketSinkStats {
    return { ...this.counters, queued: this.queue.length };
  }

  private emit(event: Omit<WebSocketSinkEvent, 'timestamp' | 'stats'>): void {
    if (!this.options.onStatus) return;
    try {
      this.options.onStatus({ timestamp: Date.now(), stats: this.stats, ...event });
    } catch (error) {
      console.error('framewise: a WebSocketSink status handler threw', error);
    }
  }

  /**
   * The sink: pass it as `onPrediction` (bound). Queues the prediction (and, with `image`, the frame drawn
   * now and encoded as JPEG in the background) and returns at once. Never throws for network reasons;
   * after {@link close} it ignores predictions (counting them as discarded).
   */
  readonly onPrediction = (predictions: FramePredictions, frame: FrameMetadata): void => {
    this.counters.received += 1;
    if (this.closing) {
      this.counters.discarded += 1;
      return;
    }
    const entry: QueueEntry = { message: serializePrediction(predictions, frame) };
    if (this.imageOptions) entry.image = this.encodeImage(predictions, frame);
    const evicted = this.queue.push(entry);
    if (evicted) this.countDrop(evicted.evicted);
    this.pump();
  };

  private countDrop(entry: QueueEntry): void {
    this.counters.dropped += 1;
    entry.image?.catch(() => undefined);
    this.emit({
      type: 'dropped',
      severity: 'warning',
      message: `queue full (${this.queue.capacity}): dropped the message of frame ${entry.message.frameId} of source ${entry.message.sourceId}; ${this.counters.dropped} dropped so far`,
      sourceId: entry.message.sourceId,
      frameId: entry.message.frameId,
    });
  }

  /** Draws the frame now (it is only valid during this call) and encodes it in the background. */
  private encodeImage(predictions: FramePredictions, frame: FrameMetadata): Promise<Blob> {
    const o = this.imageOptions!;
    try {
      if (!this.imageCanvas) {
        this.imageCanvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(2, 2) : document.createElement('canvas');
        this.imageDraw = renderBoxes({ ...o.render, canvas: this.imageCanvas });
      }
      const canvas = this.imageCanvas;
      if (o.annotate) {
        this.imageDraw!(predictions, frame);
      } else {
        const { displayWidth: w, displayHeight: h } = frame.image;
        if (canvas.width !== w || canvas.height !== h) {
          canvas.width = w;
          canvas.height = h;
        }
        (canvas.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D).drawImage(frame.image, 0, 0);
      }
      let source: OffscreenCanvas | HTMLCanvasElement = canvas;
      if (o.maxWidth && canvas.width > o.maxWidth) {
        const scaled = new OffscreenCanvas(Math.round(o.maxWidth), Math.max(1, Math.round((canvas.height * o.maxWidth) / canvas.width)));
        scaled.getContext('2d')!.drawImage(canvas, 0, 0, scaled.width, scaled.height);
        source = scaled;
      }
      // convertToBlob/toBlob copy the bitmap at call time, so the shared canvas can be redrawn right away.
      if (source instanceof OffscreenCanvas) return source.convertToBlob({ type: 'image/jpeg', quality: o.quality });
      return new Promise((resolve, reject) =>
        (source as HTMLCanvasElement).toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob gave nothing'))), 'image/jpeg', o.quality),
      );
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private connect(): void {
    if (this.closing) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.counters.attempts += 1;
    this.stateValue = 'connecting';
    this.emit({ type: 'connecting', severity: 'debug', message: `connecting to ${String(this.options.url)} (attempt ${this.counters.attempts})` });
    let socket: WebSocket;
    try {
      socket = new this.Impl(String(this.options.url), this.options.protocols);
    } catch (error) {
      this.onDisconnect(undefined, 1006, error instanceof Error ? error.message : String(error));
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.recentSizes = [];
    this.recentBytes = 0;
    const timeout = this.options.connectTimeoutMs ?? 10_000;
    this.connectTimer = setTimeout(() => {
      if (this.socket === socket && socket.readyState === CONNECTING) {
        this.onDisconnect(socket, 4000, `no connection after ${timeout} ms`);
      }
    }, timeout);
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      clearTimeout(this.connectTimer);
      this.failedAttempts = 0;
      this.retries = 0;
      this.counters.connections += 1;
      this.stateValue = 'open';
      this.emit({ type: 'open', severity: 'info', message: `connected to ${String(this.options.url)}` });
      this.pump();
    });
    socket.addEventListener('close', (event) => {
      if (this.socket === socket) this.onDisconnect(socket, event.code, event.reason, event.wasClean);
    });
    // 'error' is always followed by 'close'; nothing to do here.
    socket.addEventListener('error', () => undefined);
  }

  /** The current socket is gone: count what it took with it, then schedule a retry. */
  private onDisconnect(socket: WebSocket | undefined, code: number, reason: string, wasClean = false): void {
    clearTimeout(this.connectTimer);
    const wasOpen = this.stateValue === 'open';
    this.socket = undefined;
    if (socket) {
      // A clean close means the server acknowledged the closing handshake, which follows all data: nothing lost.
      const unsent = wasClean ? 0 : socket.bufferedAmount;
      if (unsent > 0 && wasOpen) {
        const lost = Math.min(this.counters.sent, messagesInUnsentTail(this.recentSizes, unsent));
        if (lost > 0) {
          this.counters.sent -= lost;
          this.counters.lostOnClose += lost;
          this.emit({ type: 'lost', severity: 'warning', message: `the connection closed with ${unsent} bytes unsent: about ${lost} message(s) lost` });
        }
      }
      try {
        if (socket.readyState === CONNECTING || socket.readyState === OPEN) socket.close(code >= 4000 ? code : 1000);
      } catch {
        // already closing
      }
    }
    this.recentSizes = [];
    this.recentBytes = 0;
    this.wakeIdle();
    if (this.closing) {
      this.stateValue = 'closed';
      return;
    }
    this.emit({ type: 'disconnected', severity: wasOpen ? 'warning' : 'info', message: `${wasOpen ? 'connection lost' : 'could not connect'} (code ${code}${reason ? `: ${reason}` : ''})`, code, reason });
    const maxAttempts = this.options.reconnect?.maxAttempts ?? Infinity;
    if (!wasOpen) this.failedAttempts += 1;
    if (this.failedAttempts >= maxAttempts) {
      this.stateValue = 'closed';
      for (const entry of this.queue.drain()) this.countDrop(entry);
      this.closing = Promise.resolve(this.stats);
      this.emit({ type: 'closed', severity: 'error', message: `gave up after ${this.failedAttempts} failed attempts; further predictions are discarded` });
      return;
    }
    const delayMs = backoffDelay(this.retries, this.options.reconnect);
    this.retries += 1;
    this.stateValue = 'waiting';
    this.emit({ type: 'reconnect-scheduled', severity: 'info', message: `reconnecting in ${Math.round(delayMs)} ms`, delayMs });
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  /** Sends from the queue while the socket is open and not saturated. Runs one instance at a time. */
  private pump(): void {
    if (this.pumping) {
      // The running loop may be past its last check: make it look again when it ends.
      this.pumpRequested = true;
      return;
    }
    this.pumping = true;
    this.pumpRequested = false;
    void this.pumpLoop().finally(() => {
      this.pumping = false;
      if (this.pumpRequested) this.pump();
      else this.wakeIdle();
    });
  }

  private async pumpLoop(): Promise<void> {
    for (;;) {
      const socket = this.socket;
      if (!socket || socket.readyState !== OPEN || this.queue.length === 0) return;
      if (socket.bufferedAmount > this.maxBufferedAmount) {
        clearTimeout(this.pollTimer);
        this.pollTimer = setTimeout(() => this.pump(), this.pollIntervalMs);
        return;
      }
      const entry = this.queue.shift()!;
      let image: ArrayBuffer | undefined;
      if (entry.image) {
        try {
          image = await (await entry.image).arrayBuffer();
        } catch {
          this.counters.imageErrors += 1;
        }
        if (this.socket !== socket || socket.readyState !== OPEN) {
          // The connection went away while the JPEG was being made: keep the message for the next one.
          const evicted = this.queue.unshift({ message: entry.message, image: image ? Promise.resolve(new Blob([image], { type: 'image/jpeg' })) : undefined });
          if (evicted) this.countDrop(evicted.evicted);
          return;
        }
      }
      const text = completeMessage(entry.message, new Date(), image ? { bytes: image.byteLength } : undefined);
      socket.send(text);
      if (image) socket.send(image);
      this.counters.sent += 1;
      this.remember(utf8Length(text) + (image?.byteLength ?? 0));
    }
  }

  private remember(bytes: number): void {
    this.recentSizes.push(bytes);
    this.recentBytes += bytes;
    // Keep enough history to cover whatever bufferedAmount could hold.
    const keep = this.maxBufferedAmount * 2 + 65536;
    while (this.recentSizes.length > 1 && this.recentBytes - this.recentSizes[0]! > keep) this.recentBytes -= this.recentSizes.shift()!;
  }

  private wakeIdle(): void {
    for (const wake of [...this.idle]) wake();
  }

  /**
   * True when nothing is queued and nothing is being prepared: every message was handed to the socket.
   * (`bufferedAmount` is not consulted: Chromium may keep reporting the last message as buffered long after the
   * server received it.)
   */
  private get drained(): boolean {
    return this.queue.length === 0 && !this.pumping;
  }

  /**
   * Waits until every queued message has been handed to the socket (or `timeoutMs` milliseconds passed,
   * default 5000); while disconnected, that includes waiting for the reconnection. Resolves true when drained.
   * The browser then sends what it was handed; {@link close} waits for the closing handshake, which follows
   * the data. Does not stop new predictions from arriving.
   */
  async flush(timeoutMs = 5000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.drained) return true;
      this.pump();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.idle.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(this.pollIntervalMs, Math.max(0, deadline - performance.now())));
        this.idle.add(wake);
      });
    }
    return this.drained;
  }

  /**
   * Flushes for up to `closeFlushTimeoutMs` (default 2000; 0 to skip), counts what is still queued as
   * `discarded`, closes the socket (code 1000; waits up to 5 s for the server's acknowledgement, which comes
   * after it received all data) and stops reconnecting. Idempotent: every call returns the same
   * promise, resolving with the final counters. Releases the socket, the queue, timers and the JPEG canvas.
   */
  close(): Promise<WebSocketSinkStats> {
    if (this.closing) return this.closing;
    const flushMs = this.options.closeFlushTimeoutMs ?? 2000;
    this.closing = (async () => {
      clearTimeout(this.reconnectTimer);
      if (flushMs > 0 && this.socket?.readyState === OPEN) await this.flush(flushMs);
      clearTimeout(this.connectTimer);
      clearTimeout(this.pollTimer);
      for (const entry of this.queue.drain()) {
        entry.image?.catch(() => undefined);
        this.counters.discarded += 1;
      }
      const socket = this.socket;
      if (socket && (socket.readyState === OPEN || socket.readyState === CONNECTING)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, CLOSE_HANDSHAKE_TIMEOUT_MS);
          socket.addEventListener('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.close(1000, 'sink closed');
        });
      }
      this.socket = undefined;
      this.stateValue = 'closed';
      if (this.imageCanvas) {
        this.imageCanvas.width = 1;
        this.imageCanvas.height = 1;
        this.imageCanvas = undefined;
      }
      const stats = this.stats;
      this.emit({ type: 'closed', severity: 'info', message: `closed: ${stats.sent} sent, ${stats.dropped} dropped, ${stats.lostOnClose} lost on close, ${stats.discarded} discarded` });
      return stats;
    })();
    return this.closing;
  }
}
