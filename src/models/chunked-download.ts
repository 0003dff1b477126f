/**
 * Downloads a model as one streamed response, handing it over in fixed-size chunks as they complete (so the cache
 * can store them one by one), and resumes with an HTTP Range request from the last complete chunk when the
 * connection breaks or when a previous page load left complete chunks behind.
 *
 * One request per download (not one per chunk) keeps round trips down and works with servers that ignore Range;
 * such servers just cost a restart from byte 0 when resuming.
 */
import { abortedError, networkError, statusError, type RequestContext } from './model-errors.ts';

/** Bytes per stored chunk: 8 MiB (14 chunks for a 108 MB RF-DETR-Nano). Small enough to lose little on a cut, big enough to keep IndexedDB transactions few. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
/** From this size on (100 MiB) a model counts as large: persistent storage is requested and the quota is checked before downloading. */
export const LARGE_MODEL_BYTES = 100 * 1024 * 1024;
/** Milliseconds without a single byte before a download counts as broken and is retried. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Download progress in bytes. `total` is undefined while the server has not said (no Content-Length). */
export interface DownloadProgress {
  /** Bytes available so far, including chunks resumed from the cache. */
  loaded: number;
  /** The file size in bytes, when known. */
  total: number | undefined;
}

/** What the response to a download request said. */
export interface DownloadStart {
  /** File size in bytes, when known. */
  total?: number;
  /** The validator of the file (ETag), when exposed, to detect a file that changed between two attempts. */
  etag?: string;
  /** A SHA-256 published in the headers (`X-Linked-ETag` on Hugging Face), 64 hex digits. */
  sha256?: string;
  /** Byte offset this response starts at (0, or where a resumed download continues). */
  resumedFrom: number;
}

/** Options of {@link downloadChunked}. */
export interface ChunkedDownloadOptions {
  /** What to fetch (may be signed; used for the request only). */
  url: string;
  /** Names the service and model in errors. */
  context: RequestContext;
  /** Bytes per chunk. Default {@link DEFAULT_CHUNK_SIZE}. */
  chunkSize?: number;
  /** Complete chunks kept from an earlier attempt (each `chunkSize` bytes), plus what that attempt learnt. */
  resume?: { chunks: ArrayBuffer[]; total?: number; etag?: string };
  signal?: AbortSignal;
  /** `fetch` to use (tests). Default: the global one. */
  fetch?: typeof fetch;
  /** Called when a response starts, before its body is read (await it to check quotas). */
  onStart?: (start: DownloadStart) => void | Promise<void>;
  /** Called with each complete chunk, in order. If it throws, no further chunks are offered and `onChunkError` is called once. */
  onChunk?: (index: number, bytes: ArrayBuffer, start: DownloadStart) => Promise<void>;
  /** Called once when `onChunk` throws (for example QuotaExceededError); the download goes on in memory. */
  onChunkError?: (error: unknown) => void;
  /** Called when chunks already handed over (or resumed) are no longer valid: the file changed or Range is not supported. */
  onRestart?: (reason: string) => void | Promise<void>;
  /** Called as bytes arrive. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Called before each retry. */
  onRetry?: (info: { attempt: number; offset: number; reason: string }) => void;
  /** Consecutive attempts that add no complete chunk before giving up. Default 3. */
  maxStalledAttempts?: number;
  /** First retry delay in milliseconds, doubled per consecutive failure. Default 250. */
  retryDelayMs?: number;
  /** Milliseconds without data before an attempt counts as broken. Default {@link DEFAULT_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs?: number;
}

/** What {@link downloadChunked} returns. */
export interface ChunkedDownloadResult {
  /** The whole file. */
  bytes: ArrayBuffer;
  /** Its size in bytes. */
  size: number;
  etag?: string;
  sha256?: string;
  /** HTTP requests made (1 for an uninterrupted download). */
  requests: number;
  /** Byte offset the first request started at (non-zero when resumed from the cache). */
  resumedFrom: number;
  /** Number of chunks the file was split into. */
  chunkCount: number;
  /** Whether every chunk was handed to `onChunk` without error. */
  allChunksStored: boolean;
}

/** Parses `Content-Range: bytes 100-199/1000` (total may be `*`). */
export function parseContentRange(header: string | null): { start: number; end: number; total?: number } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/**
 * A 64-hex SHA-256 from `X-Linked-ETag`, which Hugging Face sets to the SHA-256 of LFS files. (A plain `ETag` is
 * not trusted: servers put all sorts of hashes there.)
 */
export function sha256FromHeaders(headers: Headers): string | undefined {
  const m = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(headers.get('X-Linked-ETag')?.trim() ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

class RetryableError extends Error {}

/** Accumulates the file: one buffer when the size is known, else a list of chunks joined at the end. */
class Bytes {
  private target?: Uint8Array;
  private parts: Uint8Array[] = [];
  length = 0;

  reset(total: number | undefined): void {
    this.target = total !== undefined ? new Uint8Array(total) : undefined;
    this.parts = [];
    this.length = 0;
  }

  /** Drops everything after `length`. */
  truncate(length: number): void {
    if (!this.target) {
      let kept = 0;
      const parts: Uint8Array[] = [];
      for (const p of this.parts) {
        if (kept >= length) break;
        const take = Math.min(p.length, length - kept);
        parts.push(take === p.length ? p : p.slice(0, take));
        kept += take;
      }
      this.parts = parts;
    }
    this.length = length;
  }

  append(bytes: Uint8Array): void {
    if (this.target) {
      if (this.length + bytes.length > this.target.length) throw new RetryableError(`the server sent more than the ${this.target.length} bytes it announced`);
      this.target.set(bytes, this.length);
    } else {
      this.parts.push(bytes.slice());
    }
    this.length += bytes.length;
  }

  /** A copy of bytes [start, end). */
  slice(start: number, end: number): ArrayBuffer {
    if (this.target) return this.target.slice(start, end).buffer;
    const out = new Uint8Array(end - start);
    let at = 0;
    for (const p of this.parts) {
      const pStart = at;
      const pEnd = at + p.length;
      at = pEnd;
      if (pEnd <= start || pStart >= end) continue;
      const from = Math.max(start, pStart);
      const to = Math.min(end, pEnd);
      out.set(p.subarray(from - pStart, to - pStart), from - start);
    }
    return out.buffer;
  }

  finish(): ArrayBuffer {
    if (this.target) {
      return this.length === this.target.length ? this.target.buffer as ArrayBuffer : this.target.slice(0, this.length).buffer;
    }
    return this.slice(0, this.length);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Downloads `url`, handing complete chunks to `onChunk` as they arrive, retrying broken connections from the
 * last complete chunk with `Range: bytes=<offset>-`. Resolves with the whole file. Rejects with a
 * {@link ModelLoadError}: the HTTP status mapped to its code, `network` after `maxStalledAttempts` failed
 * attempts in a row, `aborted` when `signal` fires.
 */
export async function downloadChunked(options: ChunkedDownloadOptions): Promise<ChunkedDownloadResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const doFetch = options.fetch ?? fetch;
  const { context, signal } = options;
  const maxStalled = options.maxStalledAttempts ?? 3;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const bytes = new Bytes();

  let total = options.resume?.total;
  let etag = options.resume?.etag;
  let sha256: string | undefined;
  let chunksDone = 0;
  let storing = options.onChunk !== undefined;
  const resumed = options.resume?.chunks ?? [];
  bytes.reset(total);
  for (const chunk of resumed) {
    if (chunk.byteLength !== chunkSize) break;
    bytes.append(new Uint8Array(chunk));
    chunksDone++;
  }
  if (chunksDone === 0 || (total !== undefined && chunksDone * chunkSize >= total)) {
    // Nothing usable to resume (or a resume that claims to be complete): start clean.
    chunksDone = 0;
    total = undefined;
    etag = undefined;
    bytes.reset(undefined);
  }
  const resumedFrom = chunksDone * chunkSize;
  let requests = 0;
  let stalled = 0;
  let lastError = '';

  const restart = async (reason: string) => {
    chunksDone = 0;
    total = undefined;
    etag = undefined;
    bytes.reset(undefined);
    await options.onRestart?.(reason);
  };

  const storeChunk = async (index: number, start: DownloadStart) => {
    if (!storing || !options.onChunk) return;
    try {
      await options.onChunk(index, bytes.slice(index * chunkSize, Math.min((index + 1) * chunkSize, bytes.length)), start);
    } catch (error) {
      storing = false;
      options.onChunkError?.(error);
    }
  };

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(`"${context.model}"`);
    const offset = chunksDone * chunkSize;
    bytes.truncate(offset);
    const chunksBefore = chunksDone;
    try {
      requests++;
      let response: Response;
      try {
        response = await doFetch(options.url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : undefined, signal, cache: 'no-store', credentials: 'omit' });
      } catch (error) {
        if (signal?.aborted) throw abortedError(`"${context.model}"`);
        throw new RetryableError(error instanceof Error ? error.message : String(error));
      }
      const length = response.headers.get('Content-Encoding') ? undefined : numberHeader(response.headers.get('Content-Length'));
      let startAt = 0;
      if (offset > 0 && response.status === 206) {
        const range = parseContentRange(response.headers.get('Content-Range'));
        const announced = range?.total ?? (length !== undefined ? offset + length : undefined);
        const newEtag = response.headers.get('ETag') ?? undefined;
        if ((range && range.start !== offset) || (total !== undefined && announced !== undefined && announced !== total) || (etag && newEtag && etag !== newEtag)) {
          await response.body?.cancel();
          await restart('the file changed since the partial download (size, ETag or range differ); downloading it again from byte 0');
          continue;
        }
        total ??= announced;
        startAt = offset;
      } else if (offset > 0 && response.status === 200) {
        await restart('the server ignored the Range request (answered 200, not 206); downloading again from byte 0');
        total = length;
      } else if (offset > 0 && response.status === 416) {
        await response.body?.cancel();
        await restart('the server could not satisfy the Range request (416); downloading again from byte 0');
        continue;
      } else if (!response.ok) {
        if ([408, 429, 500, 502, 503, 504].includes(response.status)) {
          await response.body?.cancel();
          throw new RetryableError(`HTTP ${response.status}`);
        }
        throw statusError(response.status, response.statusText, context);
      } else {
        total = length;
      }
      if (startAt === 0) {
        etag = response.headers.get('ETag') ?? undefined;
        bytes.reset(total);
      }
      sha256 = sha256FromHeaders(response.headers) ?? sha256;
      const start: DownloadStart = { total, etag, sha256, resumedFrom: startAt };
      if (!response.body) throw new RetryableError('the response has no body');
      await options.onStart?.(start);
      options.onProgress?.({ loaded: bytes.length, total });
      await readBody(response.body, idleMs, signal, async (piece) => {
        let rest = piece;
        while (rest.length > 0) {
          const room = (chunksDone + 1) * chunkSize - bytes.length;
          const take = Math.min(room, rest.length);
          bytes.append(take === rest.length ? rest : rest.subarray(0, take));
          rest = rest.subarray(take);
          if (bytes.length === (chunksDone + 1) * chunkSize) {
            chunksDone++;
            await storeChunk(chunksDone - 1, start);
          }
        }
        options.onProgress?.({ loaded: bytes.length, total });
      });
      if (total !== undefined && bytes.length < total) throw new RetryableError(`the connection closed at byte ${bytes.length} of ${total}`);
      if (total === undefined) total = bytes.length;
      if (bytes.length > chunksDone * chunkSize || chunksDone === 0) {
        chunksDone++;
        await storeChunk(chunksDone - 1, start);
      }
      return {
        bytes: bytes.finish(),
        size: total,
        etag,
        sha256,
        requests,
        resumedFrom,
        chunkCount: chunksDone,
        allChunksStored: storing,
      };
    } catch (error) {
      if (signal?.aborted) throw abortedError(`"${context.model}"`);
      if (!(error instanceof RetryableError)) throw error;
      lastError = error.message;
      stalled = chunksDone > chunksBefore ? 1 : stalled + 1;
      if (stalled > maxStalled) {
        throw networkError(context, new Error(`the download broke at byte ${chunksDone * chunkSize}${total !== undefined ? ` of ${total}` : ''} and ${maxStalled} retries in a row added nothing (${lastError})`));
      }
      options.onRetry?.({ attempt, offset: chunksDone * chunkSize, reason: lastError });
      try {
        await sleep((options.retryDelayMs ?? 250) * 2 ** (stalled - 1), signal);
      } catch {
        throw abortedError(`"${context.model}"`);
      }
    }
  }
}

function numberHeader(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** Reads a body, calling `onPiece` for each piece; a read that waits longer than `idleMs` cancels the body. */
async function readBody(body: ReadableStream<Uint8Array>, idleMs: number, signal: AbortSignal | undefined, onPiece: (piece: Uint8Array) => Promise<void>): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RetryableError(`no data for ${idleMs} ms`)), idleMs);
      });
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await Promise.race([reader.read(), idle]);
      } catch (error) {
        if (signal?.aborted) throw error;
        throw error instanceof RetryableError ? error : new RetryableError(error instanceof Error ? error.message : String(error));
      } finally {
        clearTimeout(timer);
      }
      if (result.done) return;
      await onPiece(result.value);
    }
  } finally {
    reader.cancel().catch(() => undefined);
    try {
      reader.releaseLock();
    } catch {
      // already released
    }
  }
}

