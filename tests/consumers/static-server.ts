/**
 * A plain static file server (Node `http`, no dependencies) standing in for a static host: it serves a built app's
 * `dist/` with the right MIME types (`.wasm` as `application/wasm`, so browsers compile it while streaming) and
 * byte ranges, and, when asked, the cross-origin-isolation headers and a Content-Security-Policy.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** The policy issue 8 asks the library to work under. */
export const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:";
/**
 * Stricter still: everything (fetch, media, images, styles) from the page's origin only, and no `blob:` workers.
 * What a same-origin deployment of framewise needs at the least.
 */
export const SAME_ORIGIN_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";

export interface StaticServerOptions {
  /** Folder to serve (a built app's `dist/`). */
  root: string;
  /** Send `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`. */
  crossOriginIsolation: boolean;
  /** A `Content-Security-Policy` header for every response; none when omitted. */
  csp?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /**
   * Extra folders served under a URL prefix (`{ '/vendor/ort/': '…/onnxruntime-web/dist' }`), like a host that
   * puts some assets somewhere else.
   */
  mounts?: Record<string, string>;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  /** Paths requested so far, in order (`/assets/x.js`). */
  requested: string[];
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

function headersFor(options: StaticServerOptions): Record<string, string> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (options.crossOriginIsolation) {
    headers['Cross-Origin-Opener-Policy'] = 'same-origin';
    headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
  }
  if (options.csp) headers['Content-Security-Policy'] = options.csp;
  return headers;
}

function handle(options: StaticServerOptions, root: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = headersFor(options);
  const reply = (status: number, text: string) => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(text);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed');
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    return reply(400, 'bad request');
  }
  let base = root;
  for (const [prefix, dir] of Object.entries(options.mounts ?? {})) {
    if (pathname.startsWith(prefix)) {
      base = resolve(dir);
      pathname = `/${pathname.slice(prefix.length)}`;
      break;
    }
  }
  let file = normalize(join(base, pathname));
  if (file !== base && !file.startsWith(base + sep)) return reply(403, 'forbidden');
  let stat;
  try {
    stat = statSync(file);
    if (stat.isDirectory()) {
      file = join(file, 'index.html');
      stat = statSync(file);
    }
  } catch {
    return reply(404, `not found: ${pathname}`);
  }
  const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const size = stat.size;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (range[1] || range[2])) {
    let start = range[1] ? Number(range[1]) : size - Number(range[2]);
    let end = range[1] && range[2] ? Number(range[2]) : size - 1;
    start = Math.max(0, start);
    end = Math.min(size - 1, end);
    if (start > end || start >= size) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
      return void res.end();
    }
    res.writeHead(206, { ...headers, 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(end - start + 1) });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': String(size) });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}

/** Starts serving `options.root`; resolves once listening. */
export function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(options.root);
  const requested: string[] = [];
  const server = createServer((req, res) => {
    requested.push(req.url ?? '/');
    try {
      handle(options, root, req, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolveStart({
        origin: `http://127.0.0.1:${port}`,
        requested,
        close: () =>
          new Promise<void>((resolveClose) => {
            server.closeAllConnections();
            server.close(() => resolveClose());
          }),
      });
    });
  });
}
