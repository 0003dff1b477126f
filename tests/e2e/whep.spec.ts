/**
 * Live RTSP cameras through a WHEP relay, end to end: GStreamer RTSP camera (the looping fixture video) →
 * tools/relay (ffmpeg + werift) → WebRTC → Chromium → WhepSource → pipeline. Plus the WHEP protocol's corners
 * against small fake servers. Every server runs on 127.0.0.1 and is started and stopped here.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { MediaStreamTrack, RTCPeerConnection } from 'werift';
import { CameraFeed } from '../../tools/relay/camera-feed.ts';
import { startRelay, type Relay } from '../../tools/relay/relay.ts';
import { keepLoopbackCandidates } from '../../tools/relay/sdp.ts';
import { loopbackConfig } from '../../tools/relay/whep-session.ts';
import { whepUrlForRtsp } from '../../src/sources/rtsp-relay.ts';
import { parseRetryAfter, preferredReceiveCodecs } from '../../src/sources/whep-client.ts';
import { backoffDelayMs } from '../../src/sources/whep-source.ts';
import { startRtspCamera, type RtspCamera } from '../fixtures/rtsp-camera.ts';
import { COLOUR_BOX, bestGroundTruthError } from './helpers.ts';
import type { LiveRunRequest, LiveSnapshot, SeenPrediction, SourceRunRequest, SourceRunResult, StopResult, WhepHarness } from './pages/whep-harness.ts';

const HARNESS = '/tests/e2e/pages/whep-harness.html';

async function openWhepHarness(page: Page): Promise<void> {
  // Camera and microphone permission make Chromium offer a plain 127.0.0.1 host candidate instead of mDNS only.
  await page.context().grantPermissions(['camera', 'microphone']);
  // Keep Vite's HMR socket to ourselves: an edit anywhere in src/ (others work on it meanwhile) would otherwise
  // reload the page in the middle of a long live run.
  await page.routeWebSocket(/.*/, () => undefined);
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  await page.goto(HARNESS);
  await page.waitForFunction(() => document.title === 'whep harness ready');
}

const harness = {
  startRun: (page: Page, r: LiveRunRequest) => page.evaluate((req) => (window as unknown as { whepHarness: WhepHarness }).whepHarness.startRun(req), r),
  snapshot: (page: Page, since = 0): Promise<LiveSnapshot> => page.evaluate((s) => (window as unknown as { whepHarness: WhepHarness }).whepHarness.snapshot(s), since),
  stopRun: (page: Page): Promise<StopResult> => page.evaluate(() => (window as unknown as { whepHarness: WhepHarness }).whepHarness.stopRun()),
  sourceRun: (page: Page, r: SourceRunRequest): Promise<SourceRunResult> => page.evaluate((req) => (window as unknown as { whepHarness: WhepHarness }).whepHarness.sourceRun(req), r),
};

/** Polls the page's run until `done` says so. */
async function waitForRun(page: Page, done: (s: LiveSnapshot) => boolean, timeout: number, what: string): Promise<LiveSnapshot> {
  let last: LiveSnapshot | undefined;
  try {
    await expect
      .poll(
        async () => {
          last = await harness.snapshot(page);
          return done(last);
        },
        { timeout, intervals: [250], message: what },
      )
      .toBe(true);
  } catch (error) {
    // Say where the run was: the prediction count per source and the last events above debug.
    const perSource = new Map<number, number>();
    for (const p of last?.predictions ?? []) perSource.set(p.sourceId, (perSource.get(p.sourceId) ?? 0) + 1);
    const events = (last?.statuses ?? []).filter((e) => e.severity !== 'debug' && !e.eventType.startsWith('FRAME_')).slice(-12);
    console.log(
      `${what}: not reached; predictions per source ${JSON.stringify([...perSource])}, error ${last?.error ?? 'none'}; last events:\n` +
        events.map((e) => `  ${new Date(e.timestamp).toISOString()} ${e.eventType}[${e.sourceId ?? '-'}] ${e.message}`).join('\n'),
    );
    throw error;
  }
  return last!;
}

/** A relay on a free port whose diagnostics go to the test output. */
function startTestRelay(cameras: Record<string, string>): Promise<Relay> {
  return startRelay({ cameras, port: 0, log: (line) => console.log(`[relay] ${line}`) });
}

let camera: RtspCamera;
test.beforeAll(async () => {
  camera = await startRtspCamera();
});
test.afterAll(async () => {
  await camera?.close();
});

test('a WhepSource plays the relayed RTSP camera: 640×360 frames with ids counting up', async ({ page }) => {
  const relay = await startTestRelay({ cam1: camera.url });
  try {
    await openWhepHarness(page);
    // The first viewer also waits for the relay's ffmpeg to start; the second finds the stream running.
    const cold = await harness.sourceRun(page, { url: relay.url('cam1'), frames: 1, timeoutMs: 30_000 });
    expect(cold.error).toBeUndefined();
    const result = await harness.sourceRun(page, { url: relay.url('cam1'), frames: 30, timeoutMs: 30_000 });
    console.log(`time to first frame: ${cold.firstFrameMs?.toFixed(0)} ms with a cold relay, ${result.firstFrameMs?.toFixed(0)} ms with a warm one`);
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(30);
    expect(result.info).toMatchObject({ width: 640, height: 360 });
    for (const f of result.frames) expect([f.width, f.height]).toEqual([640, 360]);
    const ids = result.frames.map((f) => f.frameId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(result.states.map((s) => s.state)).toEqual(['connecting', 'live', 'ended']);
    expect(result.leaks.openFrames).toBe(0);
    expect(result.leaks.liveTracks).toBe(0);
    await expect.poll(() => relay.sessions(), { message: 'the session is DELETEd on close' }).toBe(0);
  } finally {
    await relay.close();
  }
});

test('the full chain RTSP → relay → WebRTC → pipeline: every prediction is within 2 px of a ground-truth frame', async ({ page }) => {
  const relay = await startTestRelay({ cam1: camera.url });
  try {
    await openWhepHarness(page);
    await harness.startRun(page, { modelId: COLOUR_BOX, backend: 'wasm', videoReference: { whep: relay.url('cam1') } });
    await waitForRun(page, (s) => s.total >= 60 || s.error !== undefined, 90_000, 'predictions from the relayed camera');
    const run = await harness.stopRun(page);
    expect(run.error).toBeUndefined();
    expect(run.predictions.length).toBeGreaterThanOrEqual(60);
    for (const p of run.predictions) {
      expect([p.width, p.height]).toEqual([640, 360]);
      expect(bestGroundTruthError(p.boxes), `frame ${p.frameId}: ${JSON.stringify(p.boxes)}`).toBeLessThanOrEqual(2);
    }
    // The boxes move on every frame of the loop: many different pictures were identified, not one frozen frame.
    expect(new Set(run.predictions.map((p) => JSON.stringify(p.boxes))).size).toBeGreaterThan(20);
    const ids = run.predictions.map((p) => p.frameId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(run.statuses.filter((s) => s.eventType === 'SOURCE_STATE_UPDATE').map((s) => s.state)).toEqual(expect.arrayContaining(['connecting', 'live']));
    expect(run.leaks).toMatchObject({ openFrames: 0, liveTracks: 0, openPeerConnections: 0 });
    expect(run.leaks.framesSeen).toBeGreaterThan(0);
    await expect.poll(() => relay.sessions(), { message: 'the WHEP session is DELETEd' }).toBe(0);
  } finally {
    await relay.close();
  }
});

test('killing the relay mid-stream: connection lost, reconnecting, the webcam goes on, predictions resume within 10 s of the restart', async ({ page }) => {
  const relay = await startTestRelay({ cam1: camera.url });
  try {
    await openWhepHarness(page);
    await harness.startRun(page, {
      modelId: COLOUR_BOX,
      backend: 'wasm',
      videoReference: [{ whep: relay.url('cam1') }, 0], // source 1: Chromium's fake webcam
    });
    await waitForRun(page, (s) => s.error !== undefined || [0, 1].every((id) => s.predictions.filter((p) => p.sourceId === id).length >= 10), 90_000, 'both sources predicting');

    const killedAt = Date.now();
    await relay.kill();
    const lost = await waitForRun(
      page,
      (s) => s.statuses.some((e) => e.sourceId === 0 && e.eventType === 'SOURCE_CONNECTION_LOST' && e.timestamp >= killedAt) &&
        s.statuses.some((e) => e.sourceId === 0 && e.eventType === 'SOURCE_STATE_UPDATE' && e.state === 'reconnecting' && e.timestamp >= killedAt),
      60_000,
      'SOURCE_CONNECTION_LOST and a reconnecting state',
    );
    const lostAt = lost.statuses.find((e) => e.sourceId === 0 && e.eventType === 'SOURCE_CONNECTION_LOST')!.timestamp;
    // The other source keeps running while this one is down.
    await waitForRun(page, (s) => s.predictions.filter((p) => p.sourceId === 1 && p.at > lostAt).length >= 5, 30_000, 'webcam predictions during the outage');
    const before = await harness.snapshot(page);
    expect(before.predictions.filter((p) => p.sourceId === 0 && p.at > lostAt + 1000)).toEqual([]);

    const restartedAt = Date.now();
    await relay.restart();
    const resumed = await waitForRun(page, (s) => s.predictions.some((p) => p.sourceId === 0 && p.at > restartedAt), 10_000, 'predictions from the relay within 10 s of its restart');
    const first = resumed.predictions.find((p) => p.sourceId === 0 && p.at > restartedAt)!;
    console.log(
      `relay killed → connection lost after ${lostAt - killedAt} ms; relay restarted → first prediction after ${first.at - restartedAt} ms ` +
        `(frame ${first.frameId}); downtime seen by the source ${first.at - lostAt} ms`,
    );
    expect(resumed.statuses.some((e) => e.sourceId === 0 && e.eventType === 'SOURCE_RECONNECTED')).toBe(true);
    expect(bestGroundTruthError(first.boxes)).toBeLessThanOrEqual(2);

    const run = await harness.stopRun(page);
    expect(run.error, 'join() after the outage').toBeUndefined();
    const ids = run.predictions.filter((p) => p.sourceId === 0).map((p) => p.frameId);
    expect(ids, 'frame ids keep counting across the reconnection').toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of run.predictions.filter((q) => q.sourceId === 0)) expect(bestGroundTruthError(p.boxes), `frame ${p.frameId}`).toBeLessThanOrEqual(2);
    expect(run.leaks).toMatchObject({ openFrames: 0, liveTracks: 0, openPeerConnections: 0 });
    await expect.poll(() => relay.sessions()).toBe(0);
  } finally {
    await relay.close();
  }
});

test('terminate() during a reconnect loop stops at once: no live track, no open VideoFrame, no session left on the relay', async ({ page }) => {
  const nowhere = `rtsp://127.0.0.1:${await freePortForTest()}/nothing`; // a camera that is never there
  const relay = await startTestRelay({ cam1: camera.url, ghost: nowhere });
  try {
    await openWhepHarness(page);
    await harness.startRun(page, { modelId: COLOUR_BOX, backend: 'wasm', videoReference: [{ whep: relay.url('cam1') }, { whep: relay.url('ghost') }] });
    // Source 1 gets 404 "no stream" (after the relay's 2 s wait) again and again: a reconnect loop with a POST
    // often in flight.
    const looping = await waitForRun(
      page,
      (s) => s.predictions.filter((p) => p.sourceId === 0).length >= 5 && s.statuses.filter((e) => e.sourceId === 1 && e.state === 'reconnecting').length >= 2,
      60_000,
      'source 0 live and source 1 in its reconnect loop',
    );
    expect(looping.statuses.filter((e) => e.sourceId === 1 && e.state === 'reconnecting')[0]!.message).toMatch(/404.*no stream is available/);
    expect(relay.sessions()).toBe(1);
    const run = await harness.stopRun(page);
    console.log(`terminate() during the reconnect loop took ${run.terminateMs.toFixed(0)} ms`);
    expect(run.error).toBeUndefined();
    expect(run.statuses.filter((e) => e.sourceId === 1 && e.eventType === 'SOURCE_STATE_UPDATE' && e.message.startsWith('WHEP ')).at(-1)?.state).toBe('ended');
    expect(run.leaks).toMatchObject({ openFrames: 0, liveTracks: 0, openPeerConnections: 0 });
    expect(run.leaks.framesSeen).toBeGreaterThan(0);
    await expect.poll(() => relay.sessions(), { message: 'the live session is DELETEd and no new one appears' }).toBe(0);
  } finally {
    await relay.close();
  }
});

test('an rtsp:// reference with rtspRelay plays through the relay (MediaMTX URL scheme)', async ({ page }) => {
  const relay = await startTestRelay({ cam1: camera.url });
  try {
    await openWhepHarness(page);
    // The stream's name on the relay is the RTSP URL's path: the camera's own URL maps to /cam1/whep.
    const result = await page.evaluate(
      ([rtsp, url]) => (window as unknown as { whepHarness: WhepHarness }).whepHarness.openRtsp(rtsp, { url, kind: 'mediamtx' }),
      [camera.url, `http://127.0.0.1:${relay.port}`] as const,
    );
    expect(result.error).toBeUndefined();
    expect(result.description).toBe(`WHEP ${relay.url('cam1')}`);
    expect(result.width).toBe(640);
    expect(result.frameId).toBeGreaterThanOrEqual(1);
    expect(result.events).toEqual(['SOURCE_STATE_UPDATE:connecting', 'SOURCE_STATE_UPDATE:live', 'SOURCE_STATE_UPDATE:ended']);
    await expect.poll(() => relay.sessions()).toBe(0);
  } finally {
    await relay.close();
  }
});

// --- the protocol's corners, against fake WHEP servers -----------------------------------------------------------

interface Recorded {
  method: string;
  path: string;
  contentType?: string;
  body: string;
  at: number;
}

/** A tiny HTTP server on 127.0.0.1 with the CORS headers a cross-origin-isolated page needs. */
async function fakeServer(handle: (request: IncomingMessage, body: string, response: ServerResponse) => Promise<void>): Promise<{ server: Server; base: string; log: Recorded[] }> {
  const log: Recorded[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      response.setHeader('Access-Control-Allow-Origin', '*');
      response.setHeader('Access-Control-Allow-Methods', 'OPTIONS, POST, PATCH, DELETE');
      response.setHeader('Access-Control-Allow-Headers', 'Content-Type');
      response.setHeader('Access-Control-Expose-Headers', 'Location, Retry-After');
      response.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      if (request.method === 'OPTIONS') return void response.writeHead(204).end();
      log.push({ method: request.method!, path: request.url!, contentType: request.headers['content-type'], body, at: Date.now() });
      handle(request, body, response).catch((error: unknown) => response.writeHead(500).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, base: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, log };
}

async function freePortForTest(): Promise<number> {
  const { server, base } = await fakeServer(async () => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return Number(new URL(base).port);
}

test('503 with Retry-After is retried after the wait it asks for; DELETE goes to the Location on close', async ({ page }) => {
  const relay = await startTestRelay({ cam1: camera.url });
  // In front of the real relay: the first POST gets 503 Retry-After: 2, later ones are passed through.
  let posts = 0;
  const sessions = new Map<string, string>();
  const fake = await fakeServer(async (request, body, response) => {
    if (request.method === 'POST') {
      posts += 1;
      if (posts === 1) return void response.writeHead(503, { 'Retry-After': '2' }).end('busy');
      const upstream = await fetch(relay.url('cam1'), { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body });
      const id = String(posts);
      sessions.set(id, new URL(upstream.headers.get('Location')!, relay.url('cam1')).href);
      return void response.writeHead(upstream.status, { 'Content-Type': 'application/sdp', Location: `/session/${id}` }).end(await upstream.text());
    }
    if (request.method === 'DELETE') {
      const upstream = sessions.get(request.url!.split('/').pop()!);
      if (!upstream) return void response.writeHead(404).end();
      return void response.writeHead((await fetch(upstream, { method: 'DELETE' })).status).end();
    }
    response.writeHead(405).end();
  });
  try {
    await openWhepHarness(page);
    const result = await harness.sourceRun(page, { url: `${fake.base}/cam1/whep`, frames: 10, timeoutMs: 30_000 });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(10);
    expect(result.states.map((s) => s.state)).toEqual(['connecting', 'reconnecting', 'live', 'ended']);
    expect(result.states[1]!.detail).toMatch(/503.*retrying in 2\.0 s \(Retry-After\)/);
    const postsSeen = fake.log.filter((r) => r.method === 'POST');
    expect(postsSeen).toHaveLength(2);
    for (const post of postsSeen) {
      expect(post.contentType).toBe('application/sdp');
      expect(post.body).toMatch(/^v=0/);
      expect(post.body, 'a complete offer: ICE gathering finished before the POST').toMatch(/a=candidate:\S+ \d \S+ \d+ 127\.0\.0\.1 /);
      expect(post.body).toMatch(/a=recvonly/);
    }
    expect(postsSeen[1]!.at - postsSeen[0]!.at, 'the retry waited for Retry-After').toBeGreaterThanOrEqual(1900);
    // H.264 packetization-mode 1 is the first video codec offered.
    const offered = /^m=video \S+ \S+ (\d+)/m.exec(postsSeen[0]!.body)![1];
    expect(postsSeen[0]!.body).toMatch(new RegExp(`a=rtpmap:${offered} H264/90000`));
    expect(postsSeen[0]!.body).toMatch(new RegExp(`a=fmtp:${offered} .*packetization-mode=1`));
    await expect.poll(() => fake.log.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/session/2']);
    await expect.poll(() => relay.sessions()).toBe(0);
  } finally {
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
    await relay.close();
  }
});

test('406 with a counter-offer: the source answers it with PATCH (application/sdp) and plays', async ({ page }) => {
  const feed = new CameraFeed({ name: 'cam1', rtspUrl: camera.url, log: () => undefined });
  await feed.start();
  expect(await feed.waitReady(15_000)).toBe(true);
  let server: { pc: RTCPeerConnection; unsubscribe?: () => void } | undefined;
  const fake = await fakeServer(async (request, body, response) => {
    if (request.method === 'POST') {
      // The server insists on offering: a sendonly H.264 offer, complete with candidates.
      const pc = new RTCPeerConnection(loopbackConfig());
      const track = new MediaStreamTrack({ kind: 'video' });
      pc.addTransceiver(track, { direction: 'sendonly' });
      server = { pc };
      pc.connectionStateChange.subscribe((state) => {
        if (state !== 'connected' || !server || server.unsubscribe) return;
        const subscription = feed.subscribe((packet) => track.writeRtp(packet));
        server.unsubscribe = subscription.unsubscribe;
        for (const packet of subscription.replay) track.writeRtp(packet);
      });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((resolve) => setTimeout(resolve, 300));
      const offer = keepLoopbackCandidates(pc.localDescription!.sdp).replace(
        /a=rtpmap:(\d+) H264\/90000/,
        (line, pt: string) => `${line}\r\na=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`,
      );
      return void response.writeHead(406, { 'Content-Type': 'application/sdp', Location: '/session/1' }).end(offer);
    }
    if (request.method === 'PATCH') {
      await server!.pc.setRemoteDescription({ type: 'answer', sdp: body });
      return void response.writeHead(204).end();
    }
    if (request.method === 'DELETE') {
      server?.unsubscribe?.();
      await server?.pc.close();
      return void response.writeHead(200).end();
    }
    response.writeHead(405).end();
  });
  try {
    await openWhepHarness(page);
    const result = await harness.sourceRun(page, { url: `${fake.base}/cam1/whep`, frames: 10, timeoutMs: 30_000 });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(10);
    expect(result.states.map((s) => s.state)).toEqual(['connecting', 'live', 'ended']);
    const [post, patch] = fake.log;
    expect(post).toMatchObject({ method: 'POST', path: '/cam1/whep', contentType: 'application/sdp' });
    expect(patch).toMatchObject({ method: 'PATCH', path: '/session/1', contentType: 'application/sdp' });
    expect(patch!.body).toMatch(/^v=0/);
    expect(patch!.body).toMatch(/a=recvonly/);
    await expect.poll(() => fake.log.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /cam1/whep', 'PATCH /session/1', 'DELETE /session/1']);
    expect(result.leaks).toMatchObject({ openFrames: 0, liveTracks: 0 });
  } finally {
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
    await server?.pc.close();
    feed.stop();
  }
});

test('a permanent HTTP error (401) ends the source with a SourceError instead of retrying', async ({ page }) => {
  const fake = await fakeServer(async (_request, _body, response) => {
    response.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'authentication error' }));
  });
  try {
    await openWhepHarness(page);
    const result = await harness.sourceRun(page, { url: `${fake.base}/cam1/whep`, frames: 1, timeoutMs: 30_000 });
    expect(result.error).toMatch(/^SourceError: source 0: WHEP .*401 Unauthorized: authentication error/);
    expect(result.states.map((s) => s.state)).toEqual(['connecting', 'ended']);
    expect(fake.log.filter((r) => r.method === 'POST')).toHaveLength(1);
  } finally {
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  }
});

// --- the relay as a command ----------------------------------------------------------------------------------------

/** Child process ids of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Whether `pid` still runs (a zombie waiting to be reaped doesn't). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('npm run relay: prints the URLs, answers with MediaMTX status codes and CORS, and its ffmpeg dies with it', async () => {
  const port = await freePortForTest();
  const relay = spawn(process.execPath, ['--import', 'tsx', 'tools/relay/main.ts', '--port', String(port), `cam1=${camera.url}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  relay.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  relay.stderr!.on('data', () => undefined);
  try {
    await expect.poll(() => out, { timeout: 30_000 }).toContain(`cam1: http://127.0.0.1:${port}/cam1/whep`);
    const endpoint = `http://127.0.0.1:${port}/cam1/whep`;
    const options = await fetch(endpoint, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-origin')).toBe('*');
    expect(options.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(options.headers.get('access-control-expose-headers')).toMatch(/Location/);
    expect((await fetch(`http://127.0.0.1:${port}/nocam/whep`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0' })).status).toBe(404);
    expect((await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'v=0' })).status).toBe(415);
    const noVideo = await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\n' });
    expect(noVideo.status).toBe(400);
    expect(await noVideo.json()).toEqual({ error: 'the offer has no video section' });
    expect((await fetch(`${endpoint}/no-such-session`, { method: 'DELETE' })).status).toBe(404);

    let ffmpeg: number | undefined;
    await expect
      .poll(() => (ffmpeg = childrenOf(relay.pid!).find((pid) => running(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ffmpeg'))), { timeout: 10_000 })
      .toBeDefined();
    relay.kill('SIGKILL'); // a crash: no chance to clean up
    await expect.poll(() => running(ffmpeg!), { timeout: 10_000, message: 'ffmpeg exits when the relay dies' }).toBe(false);
  } finally {
    if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
  }
});

// --- pure pieces ----------------------------------------------------------------------------------------------------

test('URL mapping, Retry-After, backoff and codec order', () => {
  expect(whepUrlForRtsp('rtsp://127.0.0.1:8554/cam1', { url: 'http://127.0.0.1:8889/', kind: 'mediamtx' })).toBe('http://127.0.0.1:8889/cam1/whep');
  expect(whepUrlForRtsp('rtsp://u:p@10.0.0.2/floor/2?x=1', { url: 'http://relay:8889', kind: 'mediamtx' })).toBe('http://relay:8889/floor/2/whep');
  expect(whepUrlForRtsp('rtsp://10.0.0.2:8554/front door', { url: 'http://relay:1984', kind: 'go2rtc' })).toBe('http://relay:1984/api/webrtc?src=front%20door');
  expect(() => whepUrlForRtsp('http://10.0.0.2/cam1', { url: 'http://relay:8889', kind: 'mediamtx' })).toThrow(TypeError);
  expect(() => whepUrlForRtsp('rtsp://10.0.0.2/', { url: 'http://relay:8889', kind: 'mediamtx' })).toThrow(/stream path/);
  expect(() => whepUrlForRtsp('rtsp://10.0.0.2/cam1', { url: 'http://relay:8889', kind: 'janus' as 'go2rtc' })).toThrow(/mediamtx, go2rtc/);

  expect(parseRetryAfter('3')).toBe(3000);
  expect(parseRetryAfter(null)).toBeUndefined();
  expect(parseRetryAfter('Thu, 26 Nov 2026 10:00:05 GMT', Date.parse('Thu, 26 Nov 2026 10:00:00 GMT'))).toBe(5000);
  expect(parseRetryAfter('soon')).toBeUndefined();

  // 1 s doubling to 30 s, ±25 % jitter.
  expect([0, 1, 2, 3, 4, 5, 9].map((n) => backoffDelayMs(n, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  expect(backoffDelayMs(0, () => 0)).toBe(750);
  expect(backoffDelayMs(0, () => 1)).toBe(1250);
  expect(backoffDelayMs(4, () => 1)).toBe(20000);
  expect(backoffDelayMs(5, () => 1)).toBe(30000);

  const codecs = [
    { mimeType: 'video/VP9', clockRate: 90000 },
    { mimeType: 'video/rtx', clockRate: 90000 },
    { mimeType: 'video/VP8', clockRate: 90000 },
    { mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f' },
    { mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f' },
    { mimeType: 'video/H264', clockRate: 90000, sdpFmtpLine: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
  ];
  expect(preferredReceiveCodecs(codecs).map((c) => `${c.mimeType} ${c.sdpFmtpLine ?? ''}`.trim())).toEqual([
    'video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    'video/H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f',
    'video/VP8',
    'video/VP9',
    'video/rtx',
    'video/H264 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  ]);
});
