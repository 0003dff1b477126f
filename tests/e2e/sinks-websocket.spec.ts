import { createServer, type Server, type Socket } from 'node:net';
import { expect, test } from '@playwright/test';
import { FRAME_COUNT, HEIGHT, WIDTH } from '../fixtures/ground-truth.ts';
import { startReceiver, type ReceivedPrediction, type Receiver } from '../../tools/ws-receiver.ts';
import { callHarness, openSinksHarness } from './sinks-helpers.ts';

const ALL_FRAME_IDS = Array.from({ length: FRAME_COUNT }, (_, i) => i + 1);

/** Width and height from a JPEG's SOF marker. */
function jpegSize(bytes: Buffer): [number, number] | null {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1]!;
    if (marker >= 0xc0 && marker <= 0xc3) return [bytes.readUInt16BE(offset + 7), bytes.readUInt16BE(offset + 5)];
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return null;
}

const frameIdOf = (m: ReceivedPrediction): number => m.inference_metadata!.frame_id!;

let receivers: Receiver[] = [];
let stalls: Server[] = [];
test.beforeEach(async ({ page }) => openSinksHarness(page));
test.afterEach(async () => {
  await Promise.all(receivers.map((r) => r.kill()));
  await Promise.all(stalls.map((s) => new Promise((resolve) => s.close(resolve))));
  receivers = [];
  stalls = [];
});

test('a local ws server receives one JSON message per frame, in order, with the reference metadata, and a JPEG after each', async ({ page }) => {
  const received: { message: ReceivedPrediction; text: string }[] = [];
  const images: { bytes: Buffer; owner?: number }[] = [];
  const receiver = await startReceiver({
    port: 0,
    onPrediction: (message, text) => received.push({ message, text }),
    onImage: (bytes, owner) => images.push({ bytes, owner: owner ? frameIdOf(owner) : undefined }),
  });
  receivers.push(receiver);
  const result = await callHarness(page, 'websocket', {
    url: `ws://127.0.0.1:${receiver.port}`,
    ws: { image: { quality: 0.7 } },
    useModel: true,
    throttleMs: 0,
    flushMs: 10_000,
  });
  console.log(`stats ${JSON.stringify(result.stats)}; events ${result.events.map((e) => e.type).join(',')}; server has ${received.length} + ${images.length}`);
  expect(result.error).toBeUndefined();
  expect(result.leakedFrames).toBe(0);
  expect(result.returnedPromise).toBe(false);
  expect(result.flushed).toBe(true);
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  await expect.poll(() => received.length).toBe(FRAME_COUNT);
  await expect.poll(() => images.length).toBe(FRAME_COUNT);
  console.log(`longest sink call ${result.longestSinkCallMs.toFixed(1)} ms; stats ${JSON.stringify(result.closeStats)}; JPEG sizes ${Math.min(...images.map((i) => i.bytes.length))}..${Math.max(...images.map((i) => i.bytes.length))} bytes`);

  expect(received.map((r) => frameIdOf(r.message))).toEqual(ALL_FRAME_IDS);
  received.forEach(({ message, text }, i) => {
    const sent = result.predictions[i]!;
    const { inference_metadata: meta, ...body } = message;
    expect(body).toEqual(JSON.parse(JSON.stringify(sent)));
    expect(meta).toMatchObject({ source_id: 0, frame_id: sent.frame_id });
    expect(Object.keys(meta!).sort()).toEqual(['emission_time', 'frame_decoding_time', 'frame_id', 'image', 'source_id']);
    expect(Date.parse(meta!.frame_decoding_time!)).toBe(Math.round(sent.frame_timestamp * 1000));
    expect(meta!.frame_decoding_time).toBe(new Date(Math.round(sent.frame_timestamp * 1000)).toISOString());
    expect(Date.parse(meta!.emission_time!)).toBeGreaterThanOrEqual(Date.parse(meta!.frame_decoding_time!));
    expect(meta!.image).toEqual({ type: 'image/jpeg', bytes: images[i]!.bytes.length });
    expect(text.endsWith('}}')).toBe(true);
  });
  images.forEach((image, i) => {
    expect(image.owner).toBe(i + 1);
    expect(jpegSize(image.bytes), `JPEG ${i + 1}`).toEqual([WIDTH, HEIGHT]);
  });
  expect(result.closeStats).toMatchObject({ received: FRAME_COUNT, sent: FRAME_COUNT, dropped: 0, lostOnClose: 0, discarded: 0, queued: 0, connections: 1, attempts: 1, imageErrors: 0 });
  expect(result.secondCloseStats).toEqual(result.closeStats);
  expect(result.events.filter((e) => e.type === 'closed')).toHaveLength(1);
});

test('a server that accepts TCP but never completes the handshake: the oldest messages are dropped and counted, attempts repeat, the pipeline finishes', async ({ page }) => {
  const sockets: Socket[] = [];
  let tcpConnections = 0;
  const stall = createServer((socket) => {
    tcpConnections += 1;
    sockets.push(socket); // never answers, never reads
    socket.pause();
  });
  stalls.push(stall);
  await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
  const port = (stall.address() as { port: number }).port;
  const maxQueue = 10;
  const result = await callHarness(page, 'websocket', {
    url: `ws://127.0.0.1:${port}`,
    ws: { maxQueue, connectTimeoutMs: 300, reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 }, closeFlushTimeoutMs: 500 },
    throttleMs: 30,
    useModel: false,
    flushMs: 0,
  });
  for (const s of sockets) s.destroy();
  console.log(`stalled: ${JSON.stringify(result.closeStats)}; ${tcpConnections} TCP connections; pipeline ${(result.elapsedMs / 1000).toFixed(2)} s`);
  expect(result.error).toBeUndefined();
  expect(result.leakedFrames).toBe(0);
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expect(result.returnedPromise).toBe(false);
  // Nothing could be sent: all but the last maxQueue were dropped, oldest first; close() discarded the rest.
  expect(result.stats).toMatchObject({ received: FRAME_COUNT, sent: 0, dropped: FRAME_COUNT - maxQueue, queued: maxQueue, connections: 0 });
  expect(result.closeStats).toMatchObject({ received: FRAME_COUNT, sent: 0, dropped: FRAME_COUNT - maxQueue, discarded: maxQueue, queued: 0 });
  const dropEvents = result.events.filter((e) => e.type === 'dropped');
  expect(dropEvents.map((e) => e.frameId)).toEqual(ALL_FRAME_IDS.slice(0, FRAME_COUNT - maxQueue));
  expect(result.stats.attempts).toBeGreaterThanOrEqual(2);
  expect(result.events.filter((e) => e.type === 'reconnect-scheduled').length).toBeGreaterThanOrEqual(1);
  expect(tcpConnections).toBeGreaterThanOrEqual(2);
});

test('the server is killed mid-run and restarted: messages resume in order, every lost message is counted, the pipeline finishes', async ({ page }) => {
  const received: number[] = [];
  const perServer: number[][] = [[], []];
  const killAt = 20;
  let restarted: Promise<void> | undefined;
  const first = await startReceiver({
    port: 0,
    onPrediction: (message) => {
      const id = frameIdOf(message);
      received.push(id);
      perServer[0]!.push(id);
      if (id === killAt && !restarted) {
        // Crash: drop the connection without a closing handshake, stop listening, come back 700 ms later.
        restarted = first.kill().then(
          () =>
            new Promise<void>((resolve) =>
              setTimeout(() => {
                void startReceiver({
                  port: first.port,
                  onPrediction: (m) => {
                    received.push(frameIdOf(m));
                    perServer[1]!.push(frameIdOf(m));
                  },
                }).then((second) => {
                  receivers.push(second);
                  resolve();
                });
              }, 700),
            ),
        );
      }
    },
  });
  receivers.push(first);
  const result = await callHarness(page, 'websocket', {
    url: `ws://127.0.0.1:${first.port}`,
    ws: { maxQueue: 5, reconnect: { initialDelayMs: 100, maxDelayMs: 300, jitter: 0 } },
    throttleMs: 50,
    useModel: false,
    flushMs: 10_000,
  });
  await restarted;
  const stats = result.closeStats;
  await expect.poll(() => received.length).toBe(stats.sent);
  const missing = ALL_FRAME_IDS.filter((id) => !received.includes(id));
  console.log(
    `killed at ${killAt}: stats ${JSON.stringify(stats)}; first server got ${perServer[0]!.length}, second ${perServer[1]!.length}; missing ${JSON.stringify(missing)}; ` +
      `events ${result.events.map((e) => e.type).join(',')}`,
  );
  expect(result.error).toBeUndefined();
  expect(result.leakedFrames).toBe(0);
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expect(result.flushed).toBe(true);
  // In order, no duplicates, across both servers.
  expect(received).toEqual([...new Set(received)].sort((a, b) => a - b));
  expect(perServer[0]).toEqual(ALL_FRAME_IDS.slice(0, killAt));
  // Resumed: the second server got messages, up to the last frame.
  expect(perServer[1]!.length).toBeGreaterThan(0);
  expect(perServer[1]!.at(-1)).toBe(FRAME_COUNT);
  // Lost messages are exactly the counted ones, and every prediction is accounted for.
  expect(stats.dropped).toBeGreaterThan(0);
  expect(missing.length).toBe(stats.dropped + stats.lostOnClose);
  expect(stats.sent + stats.dropped + stats.lostOnClose + stats.discarded).toBe(FRAME_COUNT);
  expect(result.events.filter((e) => e.type === 'dropped')).toHaveLength(stats.dropped);
  expect(stats.connections).toBe(2);
  expect(stats.attempts).toBeGreaterThanOrEqual(3);
  expect(result.events.filter((e) => e.type === 'disconnected').length).toBeGreaterThanOrEqual(2);
});
