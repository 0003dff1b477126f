import { describe, expect, it } from 'vitest';
import { downloadChunked, parseContentRange, sha256FromHeaders, type ChunkedDownloadOptions, type DownloadProgress } from '../../src/models/chunked-download.ts';
import { ModelLoadError } from '../../src/models/model-errors.ts';

const CHUNK = 1000;
const context = { service: 'model server' as const, model: 'm', endpoint: 'http://x/m.onnx', expected: 'an ONNX file' };

function file(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

interface FakeOptions {
  /** Absolute offsets at which successive responses break (one per response, in order). */
  cutAt?: number[];
  noRange?: boolean;
  /** ETag per response (default "v1"). */
  etags?: string[];
  /** Statuses to answer before serving (e.g. [503]). */
  failWith?: number[];
  /** Omit Content-Length. */
  noLength?: boolean;
  piece?: number;
}

/** A fetch that serves `bytes` with Range support and scripted failures; records each request's Range header. */
function fakeFetch(bytes: Uint8Array, o: FakeOptions = {}) {
  const ranges: (string | undefined)[] = [];
  const f = (async (_url: RequestInfo | URL, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('Range') ?? undefined;
    ranges.push(range);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const fail = o.failWith?.shift();
    if (fail) return new Response('nope', { status: fail });
    let start = 0;
    let status = 200;
    const headers = new Headers({ ETag: o.etags?.shift() ?? '"v1"' });
    if (range && !o.noRange) {
      start = Number(/^bytes=(\d+)-$/.exec(range)![1]);
      status = 206;
      headers.set('Content-Range', `bytes ${start}-${bytes.length - 1}/${bytes.length}`);
    }
    if (!o.noLength) headers.set('Content-Length', String(bytes.length - start));
    const cut = o.cutAt?.shift();
    const piece = o.piece ?? 300;
    let at = start;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (cut !== undefined && at >= cut) return controller.error(new TypeError('network error'));
        if (at >= bytes.length) return controller.close();
        const end = Math.min(at + piece, bytes.length, cut ?? Infinity);
        controller.enqueue(bytes.slice(at, end));
        at = end;
      },
    });
    return new Response(body, { status, headers });
  }) as typeof fetch;
  return { fetch: f, ranges };
}

async function run(bytes: Uint8Array, fake: ReturnType<typeof fakeFetch>, extra: Partial<ChunkedDownloadOptions> = {}) {
  const chunks: [number, number][] = [];
  const progress: DownloadProgress[] = [];
  const restarts: string[] = [];
  const retries: number[] = [];
  const result = await downloadChunked({
    url: 'http://x/m.onnx',
    context,
    chunkSize: CHUNK,
    fetch: fake.fetch,
    retryDelayMs: 1,
    onChunk: async (index, chunk) => void chunks.push([index, chunk.byteLength]),
    onProgress: (p) => progress.push(p),
    onRestart: (reason) => void restarts.push(reason),
    onRetry: ({ offset }) => void retries.push(offset),
    ...extra,
  });
  expect(new Uint8Array(result.bytes)).toEqual(bytes);
  return { result, chunks, progress, restarts, retries };
}

describe('downloadChunked', () => {
  it('streams one request, hands over fixed-size chunks in order, and progress adds up to the size', async () => {
    const bytes = file(3500);
    const fake = fakeFetch(bytes);
    const { result, chunks, progress } = await run(bytes, fake);
    expect(fake.ranges).toEqual([undefined]);
    expect(chunks).toEqual([[0, 1000], [1, 1000], [2, 1000], [3, 500]]);
    expect(result).toMatchObject({ size: 3500, requests: 1, resumedFrom: 0, chunkCount: 4, allChunksStored: true });
    expect(progress[0]).toEqual({ loaded: 0, total: 3500 });
    expect(progress.at(-1)).toEqual({ loaded: 3500, total: 3500 });
    const steps = progress.slice(1).map((p, i) => p.loaded - progress[i]!.loaded);
    expect(steps.every((s) => s >= 0)).toBe(true);
    expect(steps.reduce((a, b) => a + b, 0)).toBe(3500);
  });

  it('a connection cut mid-chunk is retried with Range from the last complete chunk', async () => {
    const bytes = file(3500);
    const fake = fakeFetch(bytes, { cutAt: [2500] });
    const { result, chunks, retries } = await run(bytes, fake);
    expect(fake.ranges).toEqual([undefined, 'bytes=2000-']);
    expect(retries).toEqual([2000]);
    expect(chunks.map((c) => c[0])).toEqual([0, 1, 2, 3]);
    expect(result.requests).toBe(2);
  });

  it('resumes from chunks an earlier page load stored', async () => {
    const bytes = file(3500);
    const fake = fakeFetch(bytes);
    const resume = { chunks: [bytes.slice(0, 1000).buffer, bytes.slice(1000, 2000).buffer], total: 3500, etag: '"v1"' };
    const { result, chunks, progress } = await run(bytes, fake, { resume });
    expect(fake.ranges).toEqual(['bytes=2000-']);
    expect(chunks).toEqual([[2, 1000], [3, 500]]);
    expect(progress[0]).toEqual({ loaded: 2000, total: 3500 });
    expect(result.resumedFrom).toBe(2000);
  });

  it('a server that ignores Range costs a restart from byte 0, announced through onRestart', async () => {
    const bytes = file(2500);
    const fake = fakeFetch(bytes, { noRange: true });
    const { chunks, restarts } = await run(bytes, fake, { resume: { chunks: [bytes.slice(0, 1000).buffer], total: 2500 } });
    expect(restarts).toEqual(['the server ignored the Range request (answered 200, not 206); downloading again from byte 0']);
    expect(chunks.map((c) => c[0])).toEqual([0, 1, 2]);
  });

  it('a file that changed (ETag) since the partial download is downloaded again from byte 0', async () => {
    const bytes = file(2500);
    const fake = fakeFetch(bytes, { etags: ['"v2"', '"v2"'] });
    const { restarts } = await run(bytes, fake, { resume: { chunks: [bytes.slice(0, 1000).buffer], total: 2500, etag: '"v1"' } });
    expect(fake.ranges).toEqual(['bytes=1000-', undefined]);
    expect(restarts[0]).toContain('the file changed since the partial download');
  });

  it('gives up with code "network" after three attempts in a row that add no chunk', async () => {
    const bytes = file(3500);
    const fake = fakeFetch(bytes, { cutAt: [1500, 1500, 1500, 1500] });
    const error = await run(bytes, fake).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).code).toBe('network');
    expect((error as Error).message).toContain('the download broke at byte 1000 of 3500 and 3 retries in a row added nothing');
    expect(fake.ranges).toEqual([undefined, 'bytes=1000-', 'bytes=1000-', 'bytes=1000-']);
  });

  it('maps HTTP errors to codes without retrying, and retries 503', async () => {
    const bytes = file(100);
    const notFound = await run(bytes, fakeFetch(bytes, { failWith: [404] })).catch((e: unknown) => e as ModelLoadError);
    expect(notFound).toMatchObject({ code: 'not-found', status: 404 });
    expect((notFound as Error).message).toBe('could not fetch the model at http://x/m.onnx: HTTP 404 Not Found — unknown model "m": expected an ONNX file');
    const flaky = fakeFetch(bytes, { failWith: [503] });
    await run(bytes, flaky);
    expect(flaky.ranges).toEqual([undefined, undefined]);
  });

  it('when storing a chunk fails (quota), the download goes on in memory and says so once', async () => {
    const bytes = file(3500);
    const errors: unknown[] = [];
    let calls = 0;
    const { result } = await run(bytes, fakeFetch(bytes), {
      onChunk: async () => {
        calls++;
        throw new DOMException('full', 'QuotaExceededError');
      },
      onChunkError: (e) => void errors.push(e),
    });
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    expect(result.allChunksStored).toBe(false);
  });

  it('works without Content-Length; total is unknown until the end', async () => {
    const bytes = file(2200);
    const { progress, result } = await run(bytes, fakeFetch(bytes, { noLength: true }));
    expect(progress[0]).toEqual({ loaded: 0, total: undefined });
    expect(result.size).toBe(2200);
  });

  it('an aborted signal rejects with code "aborted"', async () => {
    const bytes = file(2200);
    const controller = new AbortController();
    controller.abort();
    const error = await run(bytes, fakeFetch(bytes), { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as ModelLoadError).code).toBe('aborted');
  });
});

describe('headers', () => {
  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, end: 9, total: undefined });
    expect(parseContentRange('items 0-9/10')).toBeUndefined();
    expect(parseContentRange(null)).toBeUndefined();
  });

  it('reads a SHA-256 from X-Linked-ETag only', () => {
    const sha = 'a'.repeat(64);
    expect(sha256FromHeaders(new Headers({ 'X-Linked-ETag': `"${sha}"` }))).toBe(sha);
    expect(sha256FromHeaders(new Headers({ ETag: `"${sha}"` }))).toBeUndefined();
    expect(sha256FromHeaders(new Headers({ 'X-Linked-ETag': '"abc"' }))).toBeUndefined();
  });
});
