import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FrameMetadata, FramePredictions } from '../../src/pipeline/types.ts';
import { bufferSink } from '../../src/sinks/buffer-sink.ts';
import { MultiSinkError, multiSink } from '../../src/sinks/multi-sink.ts';
import { codecStringCandidates, fitRect, liveMimeCandidates } from '../../src/sinks/video-file-sink.ts';
import {
  BoundedQueue,
  WebSocketSink,
  backoffDelay,
  completeMessage,
  messagesInUnsentTail,
  serializePrediction,
  utf8Length,
  type WebSocketSinkEvent,
} from '../../src/sinks/websocket-sink.ts';

function prediction(frameId: number, sourceId = 0): FramePredictions {
  return {
    image: { width: 640, height: 360 },
    predictions: [{ x: 10, y: 20, width: 30, height: 40, confidence: 0.5, class: 'person', class_id: 1, detection_id: `d${frameId}` }],
    frame_id: frameId,
    source_id: sourceId,
    frame_timestamp: 1_700_000_000 + frameId / 30,
  };
}

/** Frame metadata with a stand-in image (these sinks never touch it unless asked to keep or draw it). */
function meta(frameId: number, sourceId = 0): FrameMetadata {
  const image = { closed: false, close() {}, clone() {} } as unknown as VideoFrame;
  return { image, frameId, frameTimestamp: 1_700_000_000 + frameId / 30, mediaTimestamp: (frameId - 1) / 30, sourceId, fps: 30, measuredFps: 30, comesFromVideoFile: true, latencyMs: 5, droppedFrames: 0 };
}

describe('BoundedQueue (drop-oldest policy)', () => {
  it('keeps FIFO order and evicts the oldest item when full', () => {
    const q = new BoundedQueue<number>(3);
    expect([q.push(1), q.push(2), q.push(3)]).toEqual([undefined, undefined, undefined]);
    expect(q.push(4)).toEqual({ evicted: 1 });
    expect(q.push(5)).toEqual({ evicted: 2 });
    expect(q.length).toBe(3);
    expect(q.peek()).toBe(3);
    expect(q.drain()).toEqual([3, 4, 5]);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
  it('wraps around many times without losing order', () => {
    const q = new BoundedQueue<number>(4);
    const evicted: number[] = [];
    for (let i = 0; i < 100; i++) {
      const e = q.push(i);
      if (e) evicted.push(e.evicted);
      if (i % 3 === 0) q.shift();
    }
    const kept = q.drain();
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(kept.at(-1)).toBe(99);
    expect(evicted).toEqual([...evicted].sort((a, b) => a - b));
  });
  it('unshift puts an item back in front, evicting the newest when full', () => {
    const q = new BoundedQueue<string>(2);
    q.push('b');
    expect(q.unshift('a')).toBeUndefined();
    expect(q.unshift('z')).toEqual({ evicted: 'b' });
    expect(q.drain()).toEqual(['z', 'a']);
  });
  it('rejects a capacity below 1', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
    expect(() => new BoundedQueue(1.5)).toThrow(RangeError);
  });
});

describe('backoffDelay', () => {
  it('grows by the factor from the initial delay and stops at the maximum', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });
  it('has documented defaults: 250 ms, ×2, 10 s cap, 20 % jitter', () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(250);
    expect(backoffDelay(0, {}, () => 0.5)).toBeCloseTo(225);
    expect(backoffDelay(10, {}, () => 0)).toBe(10_000);
  });
  it('jitter only shortens, within [1 - jitter, 1] of the base', () => {
    for (const r of [0, 0.25, 0.999]) {
      const d = backoffDelay(2, { initialDelayMs: 100, jitter: 0.5 }, () => r);
      expect(d).toBeLessThanOrEqual(400);
      expect(d).toBeGreaterThanOrEqual(200);
    }
  });
});

describe('message format', () => {
  it('keeps the prediction keys and appends inference_metadata last, with ISO times', () => {
    const p = prediction(12);
    const prepared = serializePrediction(p, { sourceId: 0, frameId: 12, frameTimestamp: 1_700_000_000.25 });
    const text = completeMessage(prepared, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), { bytes: 99 });
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual([...Object.keys(p), 'inference_metadata']);
    expect(parsed.predictions).toEqual(p.predictions);
    expect(parsed.inference_metadata).toEqual({
      source_id: 0,
      frame_id: 12,
      frame_decoding_time: '2023-11-14T22:13:20.250Z',
      emission_time: '2024-01-02T03:04:05.678Z',
      image: { type: 'image/jpeg', bytes: 99 },
    });
  });
  it('replaces an inference_metadata key already in the result and handles an empty object', () => {
    const odd = { ...prediction(1), inference_metadata: 'stale' } as unknown as FramePredictions;
    const parsed = JSON.parse(completeMessage(serializePrediction(odd, { sourceId: 2, frameId: 1, frameTimestamp: 0 }), new Date(0)));
    expect(parsed.inference_metadata.source_id).toBe(2);
    expect(parsed.inference_metadata.image).toBeUndefined();
    const empty = JSON.parse(completeMessage(serializePrediction({} as FramePredictions, { sourceId: 0, frameId: 1, frameTimestamp: 0 }), new Date(0)));
    expect(Object.keys(empty)).toEqual(['inference_metadata']);
  });
  it('counts UTF-8 bytes', () => {
    expect(utf8Length('abc')).toBe(3);
    expect(utf8Length('é')).toBe(2);
    expect(utf8Length('€')).toBe(3);
    expect(utf8Length('😀')).toBe(4);
    expect(utf8Length('a😀é')).toBe(new TextEncoder().encode('a😀é').length);
  });
  it('estimates the messages lost in the unsent tail from their sizes', () => {
    expect(messagesInUnsentTail([100, 100, 100], 0)).toBe(0);
    expect(messagesInUnsentTail([100, 100, 100], 1)).toBe(1);
    expect(messagesInUnsentTail([100, 100, 100], 100)).toBe(1);
    expect(messagesInUnsentTail([100, 100, 100], 101)).toBe(2);
    expect(messagesInUnsentTail([100, 100, 100], 10_000)).toBe(3);
  });
});

/** A scriptable stand-in for the browser's WebSocket. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  bufferedAmount = 0;
  binaryType = 'blob';
  sent: unknown[] = [];
  private listeners = new Map<string, Array<(event: unknown) => void>>();
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  addEventListener(type: string, fn: (event: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  private fire(type: string, event: unknown): void {
    for (const fn of this.listeners.get(type) ?? []) fn(event);
  }
  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
  }
  close(): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    queueMicrotask(() => this.fire('close', { code: 1000, reason: '', wasClean: true }));
  }
  // Test controls:
  open(): void {
    this.readyState = 1;
    this.fire('open', {});
  }
  drop(bufferedAmount = 0): void {
    this.bufferedAmount = bufferedAmount;
    this.readyState = 3;
    this.fire('close', { code: 1006, reason: '', wasClean: false });
  }
}

function frameIdsSent(socket: FakeSocket): number[] {
  return socket.sent.map((m) => JSON.parse(m as string).inference_metadata.frame_id as number);
}

describe('WebSocketSink with a fake socket', () => {
  beforeEach(() => {
    FakeSocket.instances = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  function make(options: Partial<ConstructorParameters<typeof WebSocketSink>[0]> = {}): { sink: WebSocketSink; events: WebSocketSinkEvent[] } {
    const events: WebSocketSinkEvent[] = [];
    const sink = new WebSocketSink({
      url: 'ws://127.0.0.1:1',
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      reconnect: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0 },
      onStatus: (e) => events.push(e),
      closeFlushTimeoutMs: 0,
      ...options,
    });
    return { sink, events };
  }

  it('returns at once, drops the oldest when the queue is full and reports each drop', async () => {
    const { sink, events } = make({ maxQueue: 3 });
    for (let i = 1; i <= 5; i++) expect(sink.onPrediction(prediction(i), meta(i))).toBeUndefined();
    expect(sink.stats).toMatchObject({ received: 5, dropped: 2, queued: 3, sent: 0 });
    expect(events.filter((e) => e.type === 'dropped').map((e) => [e.frameId, e.stats.dropped])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    FakeSocket.instances[0]!.open();
    await vi.runAllTimersAsync();
    expect(frameIdsSent(FakeSocket.instances[0]!)).toEqual([3, 4, 5]);
    expect(sink.stats).toMatchObject({ sent: 3, queued: 0 });
    await sink.close();
  });

  it('holds messages while bufferedAmount is above the limit, then sends them in order', async () => {
    const { sink } = make({ maxBufferedAmount: 1000, pollIntervalMs: 10 });
    const socket = FakeSocket.instances[0]!;
    socket.open();
    socket.bufferedAmount = 5000;
    for (let i = 1; i <= 4; i++) sink.onPrediction(prediction(i), meta(i));
    await vi.advanceTimersByTimeAsync(50);
    expect(socket.sent).toHaveLength(0);
    expect(sink.stats.queued).toBe(4);
    socket.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(20);
    expect(frameIdsSent(socket)).toEqual([1, 2, 3, 4]);
    await sink.close();
  });

  it('reconnects on the backoff schedule, resets it after a success, and counts messages lost with the socket', async () => {
    const { sink, events } = make();
    const first = FakeSocket.instances[0]!;
    first.open();
    sink.onPrediction(prediction(1), meta(1));
    sink.onPrediction(prediction(2), meta(2));
    await vi.advanceTimersByTimeAsync(0);
    expect(frameIdsSent(first)).toEqual([1, 2]);
    // The connection dies with the bytes of the last message still buffered: that one is counted as lost.
    first.drop(10);
    expect(sink.stats).toMatchObject({ sent: 1, lostOnClose: 1 });
    const delays: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const scheduled = events.filter((e) => e.type === 'reconnect-scheduled');
      delays.push(scheduled.at(-1)!.delayMs!);
      await vi.advanceTimersByTimeAsync(scheduled.at(-1)!.delayMs!);
      const socket = FakeSocket.instances.at(-1)!;
      if (attempt < 3) socket.drop(); // refused
      else socket.open();
    }
    // The first retry after a lost connection waits the initial delay; then ×2 per failed attempt, capped at 400.
    expect(delays).toEqual([100, 200, 400, 400]);
    expect(sink.state).toBe('open');
    expect(sink.stats.connections).toBe(2);
    expect(sink.stats.attempts).toBe(5);
    sink.onPrediction(prediction(3), meta(3));
    await vi.advanceTimersByTimeAsync(0);
    expect(frameIdsSent(FakeSocket.instances.at(-1)!)).toEqual([3]);
    FakeSocket.instances.at(-1)!.drop();
    expect(events.filter((e) => e.type === 'reconnect-scheduled').at(-1)!.delayMs).toBe(100);
    await sink.close();
  });

  it('gives up after maxAttempts, dropping what is queued', async () => {
    const { sink, events } = make({ reconnect: { initialDelayMs: 10, jitter: 0, maxAttempts: 2 } });
    sink.onPrediction(prediction(1), meta(1));
    FakeSocket.instances[0]!.drop();
    await vi.advanceTimersByTimeAsync(10);
    FakeSocket.instances[1]!.drop();
    expect(sink.state).toBe('closed');
    expect(sink.stats).toMatchObject({ dropped: 1, queued: 0 });
    expect(events.at(-1)!.type).toBe('closed');
    sink.onPrediction(prediction(2), meta(2));
    expect(sink.stats.discarded).toBe(1);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('close() is idempotent, discards what could not be sent and stops reconnecting', async () => {
    const { sink, events } = make();
    sink.onPrediction(prediction(1), meta(1));
    const a = sink.close();
    const b = sink.close();
    expect(a).toBe(b);
    const stats = await a;
    expect(stats).toMatchObject({ received: 1, sent: 0, discarded: 1, queued: 0 });
    expect(sink.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(events.filter((e) => e.type === 'closed')).toHaveLength(1);
    sink.onPrediction(prediction(2), meta(2));
    expect(sink.stats).toMatchObject({ received: 2, discarded: 2 });
  });

  it('rejects malformed options', () => {
    expect(() => make({ url: 'http://x' })).toThrow(TypeError);
    expect(() => make({ maxQueue: 0 })).toThrow(TypeError);
    expect(() => make({ image: { quality: 2 } })).toThrow(TypeError);
  });
});

describe('multiSink', () => {
  it('gives every result to every sink and throws one error naming the failed ones afterwards', () => {
    const seen: string[] = [];
    const sink = multiSink<FramePredictions>(
      () => void seen.push('a'),
      function broken() {
        seen.push('b');
        throw new Error('boom');
      },
      { name: 'named', onPrediction: () => void seen.push('c') },
    );
    let error: unknown;
    try {
      sink(prediction(4, 1), meta(4, 1));
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(error).toBeInstanceOf(MultiSinkError);
    expect((error as MultiSinkError).message).toBe('1 of 3 sinks failed on frame 4 of source 1: sink #1 (broken): boom');
    expect((error as MultiSinkError).failures.map((f) => f.index)).toEqual([1]);
  });
  it('is synchronous when every sink is, and waits for async sinks otherwise', async () => {
    const sync = multiSink(() => undefined, () => undefined);
    expect(sync(prediction(1), meta(1))).toBeUndefined();
    let done = false;
    const mixed = multiSink(
      () => undefined,
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        done = true;
      },
    );
    const out = mixed(prediction(1), meta(1));
    expect(out).toBeInstanceOf(Promise);
    expect(done).toBe(false);
    await out;
    expect(done).toBe(true);
  });
  it('collects async rejections and sync throws, in argument order', async () => {
    const sink = multiSink(
      async () => {
        throw new Error('late');
      },
      () => {
        throw new Error('early');
      },
    );
    await expect(sink(prediction(2), meta(2))).rejects.toThrow('2 of 2 sinks failed on frame 2 of source 0: sink #0 (sink 0): late; sink #1 (sink 1): early');
  });
  it('rejects arguments that are not sinks', () => {
    expect(() => multiSink(42 as unknown as () => void)).toThrow(TypeError);
    expect(() => multiSink({} as unknown as () => void)).toThrow(TypeError);
  });
});

describe('bufferSink', () => {
  it('keeps the last N results in arrival order and counts evictions', () => {
    const buffer = bufferSink({ size: 3 });
    expect(buffer.empty).toBe(true);
    for (let i = 1; i <= 5; i++) buffer.onPrediction(prediction(i), meta(i));
    expect(buffer.results().map((r) => r.frame_id)).toEqual([3, 4, 5]);
    expect(buffer.items().map((b) => b.frame.frameId)).toEqual([3, 4, 5]);
    expect(buffer.items()[0]!.image).toBeNull();
    expect('image' in buffer.items()[0]!.frame).toBe(false);
    expect([buffer.length, buffer.received, buffer.evicted]).toEqual([3, 5, 2]);
    expect(buffer.latest()!.result.frame_id).toBe(5);
    expect(buffer.consume()!.result.frame_id).toBe(3);
    expect([...buffer].map((b) => b.result.frame_id)).toEqual([4, 5]);
    buffer.clear();
    expect(buffer.empty).toBe(true);
    buffer.close();
    buffer.onPrediction(prediction(6), meta(6));
    expect(buffer.length).toBe(0);
  });
  it('rejects a size that is not an integer ≥ 1', () => {
    expect(() => bufferSink({ size: 0 })).toThrow(TypeError);
    expect(() => bufferSink({ size: 2.5 })).toThrow(TypeError);
  });
});

describe('VideoFileSink helpers', () => {
  it('fits a picture inside a region, letterboxed or stretched', () => {
    const region = { x: 0, y: 0, width: 640, height: 360 };
    expect(fitRect(640, 360, region, 'contain')).toEqual(region);
    expect(fitRect(320, 320, region, 'contain')).toEqual({ x: 140, y: 0, width: 360, height: 360 });
    expect(fitRect(320, 320, region, 'stretch')).toEqual(region);
    expect(fitRect(1280, 360, { x: 640, y: 0, width: 640, height: 360 }, 'contain')).toEqual({ x: 640, y: 90, width: 640, height: 180 });
  });
  it('builds codec strings whose level fits the size and rate', () => {
    expect(codecStringCandidates('avc', 640, 360, 30, 1_400_000)[0]).toBe('avc1.64001e'); // level 3.0
    expect(codecStringCandidates('avc', 1920, 1080, 30, 8_000_000)[0]).toBe('avc1.640028'); // level 4.0
    expect(codecStringCandidates('avc', 1920, 1080, 60, 8_000_000)[0]).toBe('avc1.64002a'); // level 4.2
    expect(codecStringCandidates('vp9', 640, 360, 30, 1_400_000)).toEqual(['vp09.00.30.08']);
    expect(codecStringCandidates('vp8', 640, 360, 30, 1_400_000)).toEqual(['vp8']);
    expect(codecStringCandidates('av1', 3840, 2160, 30, 20_000_000)).toEqual(['av01.0.12M.08']);
  });
  it('lists MediaRecorder types, WebM first unless MP4 is asked for', () => {
    expect(liveMimeCandidates()[0]).toBe('video/webm;codecs=vp9');
    expect(liveMimeCandidates(undefined, 'mp4')[0]).toBe('video/mp4;codecs=avc1');
    expect(liveMimeCandidates('avc', 'mp4')).toEqual(['video/mp4;codecs=avc1']);
    expect(liveMimeCandidates('vp8')).toEqual(['video/webm;codecs=vp8']);
  });
});
