/**
 * A small RTSP → WebRTC (WHEP) relay for development and tests, with MediaMTX's URL scheme and status codes,
 * listening on 127.0.0.1 only.
 *
 * - `POST /{name}/whep` with an SDP offer (`application/sdp`) → 201, the answer, `Location: /{name}/whep/{id}`;
 *   400 for a malformed offer or one without H.264 (packetization-mode 1); 404 while the camera has no stream
 *   (with `Retry-After`); 415 for another content type.
 * - `PATCH /{name}/whep/{id}` (trickle ICE, `application/trickle-ice-sdpfrag`) → 204; candidates are not needed
 *   on loopback and are ignored.
 * - `DELETE /{name}/whep/{id}` → 200; 404 for an unknown session.
 * - `OPTIONS` → 204. Every response carries CORS headers and `Cross-Origin-Resource-Policy: cross-origin`, so a
 *   cross-origin-isolated page on another port can use it.
 *
 * Each camera is pulled by one child ffmpeg (see camera-feed.ts); each viewer gets its own werift peer connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CameraFeed } from './camera-feed.ts';
import { OfferError, WhepSession } from './whep-session.ts';

/** How to start a relay. */
export interface RelayOptions {
  /** Cameras by name: `{ cam1: 'rtsp://127.0.0.1:8554/cam1' }` serves `/cam1/whep`. */
  cameras: Readonly<Record<string, string>>;
  /** TCP port on 127.0.0.1. Default 8889 (MediaMTX's WebRTC port); 0 picks a free one. */
  port?: number;
  /** The ffmpeg binary. Default `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** Diagnostics (one line each). Default: none. */
  log?: (line: string) => void;
  /**
   * How long a POST for a camera whose stream is still starting waits for it before answering 404, in
   * milliseconds. Default 2000.
   */
  startWaitMs?: number;
}

/** A running relay. */
export interface Relay {
  /** The port it listens on (on 127.0.0.1). */
  readonly port: number;
  /** The WHEP endpoint of camera `name`: `http://127.0.0.1:{port}/{name}/whep`. */
  url(name: string): string;
  /** Open WHEP sessions (viewers), over all cameras. */
  sessions(): number;
  /** Stops everything gracefully: closes every session and ffmpeg, then the listener. Idempotent. */
  close(): Promise<void>;
  /**
   * For tests: dies as a crash would. Connections are dropped, peers vanish without any goodbye, ffmpeg is
   * killed. {@link restart} brings it back on the same port.
   */
  kill(): Promise<void>;
  /** For tests: starts again after {@link kill}, on the same port, with fresh ffmpeg processes. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
/** SDP offers are a few kilobytes; anything far larger is not an offer. */
const MAX_BODY_BYTES = 256 * 1024;
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'OPTIONS, GET, POST, PATCH, DELETE',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, If-Match',
  'Access-Control-Expose-Headers': 'Link, Location, ETag, ID, Accept-Patch, Retry-After',
  'Cross-Origin-Resource-Policy': 'cross-origin',
} as const;

/** Checks a camera name: URL path segments of letters, digits and `_.~-`. */
function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.~-]+(?:\/[A-Za-z0-9_.~-]+)*$/.test(name) || name.endsWith('/whep') || name === 'whep') {
    throw new TypeError(`camera name ${JSON.stringify(name)} must be URL path segments of letters, digits and _.~- (not "whep")`);
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new OfferError(413, 'the body is too large for an SDP offer'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, headers: Record<string, string> = {}, body = ''): void {
  if (response.headersSent) return;
  response.writeHead(status, { ...CORS_HEADERS, ...headers });
  response.end(body);
}

/** MediaMTX answers errors as JSON `{ "error": "…" }`. */
function sendError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  send(response, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify({ error: message }));
}

/** Starts a relay on 127.0.0.1 and its ffmpeg processes. Resolves once it listens. */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const names = Object.keys(options.cameras);
  if (names.length === 0) throw new TypeError('cameras must name at least one camera: { name: "rtsp://…" }');
  for (const name of names) {
    checkName(name);
    const url = options.cameras[name]!;
    if (!/^rtsps?:\/\//i.test(url)) throw new TypeError(`cameras.${name} must be an rtsp:// URL, got ${JSON.stringify(url)}`);
  }
  const log = options.log ?? (() => undefined);
  const startWaitMs = options.startWaitMs ?? 2000;

  let feeds = new Map<string, CameraFeed>();
  const sessions = new Map<string, WhepSession>();
  const sockets = new Set<Socket>();
  let port = options.port ?? 8889;
  let server: Server | undefined;
  let closing: Promise<void> | undefined;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(request.url ?? '/', `http://${HOST}`).pathname);
    const match = /^\/(.+?)\/whep(?:\/([^/]+))?\/?$/.exec(path);
    const feed = match ? feeds.get(match[1]!) : undefined;
    if (!match || !feed) return sendError(response, 404, `no path ${JSON.stringify(path)}: expected /{name}/whep with one of ${names.join(', ')}`);
    const [, name, sessionId] = match as unknown as [string, string, string | undefined];
    if (request.method === 'OPTIONS') return send(response, 204);

    if (sessionId === undefined) {
      if (request.method !== 'POST') return sendError(response, 405, `${request.method} is not allowed on a WHEP endpoint: POST an offer`, { Allow: 'OPTIONS, POST' });
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/sdp') return sendError(response, 415, `Content-Type must be application/sdp, got ${JSON.stringify(type)}`);
      const offer = await readBody(request);
      // The viewer may give up (abort its fetch) while we wait for the stream or answer: don't keep a session then.
      let gone = false;
      response.on('close', () => {
        if (!response.writableFinished) gone = true;
      });
      if (!(await feed.waitReady(startWaitMs))) {
        return sendError(response, 404, `no stream is available on path '${name}'`, { 'Retry-After': '1' });
      }
      const { session, answer } = await WhepSession.create(name, feed, offer, (s) => sessions.delete(s.id));
      if (gone || response.destroyed || closing || !server) {
        await session.close();
        return;
      }
      sessions.set(session.id, session);
      log(`${name}: session ${session.id} created (${sessions.size} open)`);
      return send(
        response,
        201,
        {
          'Content-Type': 'application/sdp',
          Location: `/${name}/whep/${session.id}`,
          ETag: '"*"',
          ID: session.id,
          'Accept-Patch': 'application/trickle-ice-sdpfrag',
        },
        answer,
      );
    }

    const session = sessions.get(sessionId);
    if (!session || session.camera !== name) return sendError(response, 404, `no session ${sessionId} on path '${name}'`);
    if (request.method === 'PATCH') {
      await readBody(request);
      return send(response, 204);
    }
    if (request.method === 'DELETE') {
      await session.close();
      log(`${name}: session ${session.id} deleted (${sessions.size} open)`);
      return send(response, 200);
    }
    return sendError(response, 405, `${request.method} is not allowed on a WHEP session: PATCH or DELETE`, { Allow: 'OPTIONS, PATCH, DELETE' });
  }

  async function up(): Promise<void> {
    feeds = new Map(names.map((name) => [name, new CameraFeed({ name, rtspUrl: options.cameras[name]!, ffmpegPath: options.ffmpegPath, log })]));
    const created = createServer((request, response) => {
      handle(request, response).catch((error: unknown) => {
        if (error instanceof OfferError) sendError(response, error.status, error.message);
        else sendError(response, 500, error instanceof Error ? error.message : String(error));
      });
    });
    created.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, HOST, () => {
        created.off('error', reject);
        resolve();
      });
    });
    const address = created.address();
    if (address && typeof address === 'object') port = address.port;
    server = created;
    try {
      await Promise.all([...feeds.values()].map((feed) => feed.start()));
    } catch (error) {
      await down(true);
      throw error;
    }
  }

  async function down(abrupt: boolean): Promise<void> {
    const listening = server;
    server = undefined;
    for (const feed of feeds.values()) feed.stop();
    await Promise.all([...sessions.values()].map((session) => session.close()));
    sessions.clear();
    if (!listening) return;
    const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
    if (abrupt) for (const socket of sockets) socket.destroy();
    else listening.closeIdleConnections();
    await closed;
  }

  await up();
  log(`relay listening on http://${HOST}:${port}`);

  return {
    get port() {
      return port;
    },
    url(name: string): string {
      if (!names.includes(name)) throw new RangeError(`no camera ${JSON.stringify(name)}: expected one of ${names.join(', ')}`);
      return `http://${HOST}:${port}/${name}/whep`;
    },
    sessions: () => sessions.size,
    close(): Promise<void> {
      closing ??= down(false);
      return closing;
    },
    async kill(): Promise<void> {
      if (closing) return;
      await down(true);
      log('relay killed');
    },
    async restart(): Promise<void> {
      if (closing) throw new Error('restart() after close()');
      if (server) return;
      await up();
      log(`relay restarted on http://${HOST}:${port}`);
    },
  };
}
