/**
 * Loading a model: resolve the reference, then read its bytes from the IndexedDB cache (verified by size and
 * SHA-256) or download them in chunks, storing each chunk as it completes and resuming broken downloads.
 * Also the public cache API: {@link getModel}, {@link listCachedModels}, {@link deleteCachedModel},
 * {@link clearModelCache}.
 */
import type { Backend, StatusSeverity, StatusUpdate } from '../pipeline/types.ts';
import { describeError } from '../pipeline/errors.ts';
import { DEFAULT_CHUNK_SIZE, LARGE_MODEL_BYTES, downloadChunked, type DownloadProgress } from './chunked-download.ts';
import * as cache from './model-cache.ts';
import type { BlobRecord } from './model-cache.ts';
import { ModelLoadError } from './model-errors.ts';
import { resolveModel, type ResolvedModel } from './model-registry.ts';
import { md5Hex, sha256Hex } from './md5.ts';
import {
  parseModelReference,
  specFromOverrides,
  type ModelDtype,
  type ModelLocation,
  type ModelReference,
  type ModelSourceKind,
  type ModelSpec,
  type ParsedReference,
} from './model-spec.ts';
import { scrubError, scrubValue } from './redaction.ts';

/** Download progress in bytes: `{ loaded, total }`. A cache hit reports once, with `loaded === total`. */
export type ModelProgress = DownloadProgress;

/** A status event about a model (`MODEL_LOADING` or `MODEL_CACHE_HIT`), the same shape the pipeline emits. */
export type ModelStatusHandler = (update: StatusUpdate) => void;

/** Options of {@link getModel}. */
export interface GetModelOptions {
  /** Roboflow API key: aliases then resolve through Roboflow (coco/38 …), and `dataset/version` needs it. Never stored or logged. */
  apiKey?: string;
  /** Roboflow API base URL. Default `https://api.roboflow.com`. */
  apiUrl?: string;
  /** Model hub base URL, for aliases without an API key. Default `https://huggingface.co`. */
  hubUrl?: string;
  /** Hub variant or registry quantization: 'fp32' (default), 'fp16' (falls back to fp32 without WebGPU `shader-f16`), 'q8'. */
  dtype?: ModelDtype;
  /** Called as bytes arrive (several times a second during a download; once for a cache hit). */
  onProgress?: (progress: ModelProgress) => void;
  /** Called with each status event: resolving, downloading, resuming, cache hits, repairs, quota warnings. */
  onStatus?: ModelStatusHandler;
  /** Aborts resolution and download; complete chunks stay stored and a later call resumes from them. */
  signal?: AbortSignal;
}

/** What {@link getModel} found or downloaded. */
export interface ModelInfo {
  /** The resolved model (identity, class names, preprocessing). */
  spec: ModelSpec;
  /** File size in bytes. */
  size: number;
  /** SHA-256 of the file, 64 hex digits. */
  sha256: string;
  /** The bytes came from IndexedDB, not the network. */
  fromCache: boolean;
  /** The bytes are in IndexedDB now (false when storing failed, e.g. over quota, or for `{ data }` models). */
  cached: boolean;
}

/** One entry of {@link listCachedModels}. */
export interface CachedModelInfo {
  /** The model identity; pass it to {@link deleteCachedModel}. */
  id: string;
  /** The model as the user named it (alias, `dataset/version`, URL); {@link deleteCachedModel} accepts it too. */
  reference: string;
  /** Where the model came from: Roboflow's API, the hub, or a URL. */
  source: ModelSourceKind;
  /** Where the bytes came from, credentials stripped. */
  url: string;
  /** File size in bytes, once known. */
  size?: number;
  /** Bytes stored so far (equals `size` when complete). */
  storedBytes: number;
  /** Every byte is stored and verified; false for a download that was interrupted and will resume. */
  complete: boolean;
  /** SHA-256 of the file (complete entries). */
  sha256?: string;
  /** The ONNX variant, for hub and registry models. */
  dtype?: ModelDtype;
  /** When the download started, in milliseconds since the Unix epoch. */
  createdAt: number;
  /** When it was last read, in milliseconds since the Unix epoch. */
  lastUsedAt?: number;
}

/** Internal options: the pipeline adds its backend (for the fp16 check) and its notify. */
export interface LoadModelOptions extends GetModelOptions {
  /** The pipeline's backend: 'wasm' makes fp16 fall back to fp32. */
  backend?: Backend;
  /** Bytes per stored chunk. Default 8 MiB. */
  chunkSize?: number;
  /** `fetch` to use (tests). */
  fetch?: typeof fetch;
}

/** The model and its bytes. */
export interface LoadedModel extends ModelInfo {
  /** The ONNX file. */
  bytes: ArrayBuffer;
}

type Emit = (severity: StatusSeverity, eventType: 'MODEL_LOADING' | 'MODEL_CACHE_HIT', message: string, payload?: Record<string, unknown>) => void;

interface GpuLike {
  requestAdapter(): Promise<{ features: { has(name: string): boolean } } | null>;
}

/** Why fp16 cannot run here, or undefined when it can (WebGPU with `shader-f16`). */
async function fp16Unavailable(backend: Backend | undefined): Promise<string | undefined> {
  if (backend === 'wasm') return 'the "wasm" backend runs fp32 only';
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GpuLike }) | undefined)?.gpu;
  if (!gpu) return 'WebGPU is unavailable';
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'no WebGPU adapter was found';
    return adapter.features.has('shader-f16') ? undefined : "the WebGPU adapter lacks the 'shader-f16' feature";
  } catch (error) {
    return `requestAdapter() failed (${describeError(error)})`;
  }
}

const inPageLocks = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding the Web Lock for `key`, so tabs and workers that load the same model at once download it once.
 * `fn` learns whether it had to wait (someone else may have stored the file meanwhile).
 */
async function withLock<T>(key: string, emit: Emit, signal: AbortSignal | undefined, fn: (waited: boolean) => Promise<T>): Promise<T> {
  const name = `framewise-model ${key}`;
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks) {
    let done: { value: T } | undefined;
    await locks.request(name, { ifAvailable: true }, async (lock) => {
      if (lock) done = { value: await fn(false) };
    });
    if (done) return done.value;
    emit('info', 'MODEL_LOADING', 'another tab or worker is downloading this model: waiting for it instead of downloading it twice', { stage: 'lock-wait' });
    return locks.request(name, signal ? { signal } : {}, () => fn(true));
  }
  const previous = inPageLocks.get(name);
  const run = (previous ?? Promise.resolve()).catch(() => undefined).then(() => fn(previous !== undefined));
  inPageLocks.set(name, run);
  try {
    return await run;
  } finally {
    if (inPageLocks.get(name) === run) inPageLocks.delete(name);
  }
}

function expectedChunks(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Reads and verifies a complete file: every chunk present with the right length, then the SHA-256. */
async function readVerified(blob: BlobRecord): Promise<{ bytes: ArrayBuffer } | { problem: string }> {
  const size = blob.size ?? 0;
  const count = expectedChunks(size, blob.chunkSize);
  const chunks = await cache.readChunks(blob.key, count);
  let stored = 0;
  for (const [i, chunk] of chunks.entries()) {
    const want = i < count - 1 ? blob.chunkSize : size - (count - 1) * blob.chunkSize;
    if (!chunk) return { problem: `truncated: chunk ${i + 1} of ${count} is missing (${stored} of ${size} bytes before it)` };
    if (chunk.size !== want) return { problem: `truncated: chunk ${i + 1} of ${count} holds ${chunk.size} bytes instead of ${want}` };
    stored += chunk.size;
  }
  // One read into one contiguous buffer: the chunks are files, joined without a copy in JavaScript.
  let bytes: ArrayBuffer;
  try {
    bytes = await new Blob(chunks as Blob[]).arrayBuffer();
  } catch (error) {
    return { problem: `unreadable (${describeError(error)})` };
  }
  if (bytes.byteLength !== size) return { problem: `truncated: ${bytes.byteLength} of ${size} bytes could be read` };
  if (blob.sha256) {
    const sha = await sha256Hex(bytes);
    if (sha !== blob.sha256) return { problem: `corrupt: its SHA-256 is ${sha.slice(0, 12)}… instead of ${blob.sha256.slice(0, 12)}…` };
  }
  return { bytes };
}

function formatBytes(n: number | undefined): string {
  if (n === undefined) return 'unknown size';
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'QuotaExceededError' || /quota/i.test(error.message));
}

/**
 * Resolves `reference` and returns its bytes: from IndexedDB when a verified copy is there (no request at all),
 * else downloaded in chunks with progress, stored chunk by chunk, resumed where an earlier attempt stopped.
 * A cache that cannot be written (quota, private mode) is a warning, never a failure.
 * Throws TypeError for a malformed reference, {@link ModelLoadError} for resolution and download problems.
 */
export async function loadModel(reference: ModelReference, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const secret = options.apiKey;
  const emit: Emit = (severity, eventType, message, payload) => {
    const update = scrubValue({ severity, eventType, message, ...(payload ? { payload } : {}) }, secret);
    options.onStatus?.({ timestamp: Date.now(), ...update });
  };
  try {
    return await load(reference, options, emit);
  } catch (error) {
    throw error instanceof Error ? scrubError(error, secret) : error;
  }
}

async function load(reference: ModelReference, options: LoadModelOptions, emit: Emit): Promise<LoadedModel> {
  const location: ModelLocation = { apiKey: options.apiKey, apiUrl: options.apiUrl, hubUrl: options.hubUrl, dtype: options.dtype };
  let parsed = parseModelReference(reference, location);
  if (parsed.kind === 'hub' && parsed.dtype === 'fp16') {
    const why = await fp16Unavailable(options.backend);
    if (why) {
      emit('warning', 'MODEL_LOADING', `dtype "fp16" needs WebGPU with the 'shader-f16' feature, but ${why}: using fp32 (onnx/model.onnx) instead`, {
        stage: 'dtype-fallback',
        requested: 'fp16',
        used: 'fp32',
      });
      parsed = parseModelReference(reference, { ...location, dtype: 'fp32' });
    }
  }
  if (parsed.kind === 'local') return loadLocal(parsed, options, emit);

  emit('info', 'MODEL_LOADING', `loading model ${parsed.reference}`, { stage: 'resolve', id: parsed.id });
  // blob: and data: URLs are bytes the page already holds: caching them would only fill the disk.
  const inPage = parsed.kind === 'url' && /^(blob|data):/i.test(parsed.url);
  let cacheUsable = typeof indexedDB !== 'undefined' && !inPage;
  if (!cacheUsable && !inPage) emit('warning', 'MODEL_LOADING', 'IndexedDB is not available here: the model is downloaded on every load', { stage: 'cache-unavailable' });

  if (cacheUsable) {
    try {
      const hit = await readCachedModel(parsed.id, options, emit);
      if (hit) return hit;
    } catch (error) {
      cacheUsable = false;
      emit('warning', 'MODEL_LOADING', `the model cache could not be read (${describeError(error)}): downloading without it`, { stage: 'cache-unavailable' });
    }
  }

  const resolved = await resolveModel(parsed, { apiKey: options.apiKey, signal: options.signal, fetch: options.fetch });
  for (const notice of resolved.notices) emit(notice.severity, 'MODEL_LOADING', notice.message, notice.payload);
  if (!cacheUsable) return download(resolved, options, emit, undefined, false);
  return withLock(resolved.download.cacheKey, emit, options.signal, async (waited) => {
    const existing = await cache.getBlobRecord(resolved.download.cacheKey).catch(() => undefined);
    if (existing?.complete) {
      const verified = await readVerified(existing);
      if ('bytes' in verified) {
        await cache
          .putModelRecord({ id: resolved.spec.id, reference: resolved.spec.reference, spec: resolved.spec, blobKey: existing.key, savedAt: Date.now() })
          .catch(() => undefined);
        emit('info', 'MODEL_CACHE_HIT', `model read from the IndexedDB cache (${formatBytes(existing.size)}, SHA-256 verified)${waited ? ' after another tab downloaded it' : ''}`, {
          id: resolved.spec.id,
          size: existing.size,
        });
        options.onProgress?.({ loaded: existing.size ?? 0, total: existing.size });
        return { bytes: verified.bytes, spec: resolved.spec, size: existing.size ?? 0, sha256: existing.sha256 ?? '', fromCache: true, cached: true };
      }
      await repair(existing, resolved.spec.reference, verified.problem, emit);
      return download(resolved, options, emit, undefined, true);
    }
    return download(resolved, options, emit, existing, true);
  });
}

async function loadLocal(parsed: Extract<ParsedReference, { kind: 'local' }>, options: LoadModelOptions, emit: Emit): Promise<LoadedModel> {
  const data = parsed.data;
  let bytes: ArrayBuffer;
  if (typeof Blob !== 'undefined' && data instanceof Blob) bytes = await data.arrayBuffer();
  else if (data instanceof ArrayBuffer) bytes = data;
  else {
    const view = data as ArrayBufferView;
    bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer;
  }
  if (bytes.byteLength === 0) throw new ModelLoadError('malformed', `the model "${parsed.reference}" is empty (0 bytes): expected an ONNX file`);
  const spec = specFromOverrides({ id: parsed.id, reference: parsed.reference, source: 'local', url: parsed.reference }, parsed.overrides);
  emit('info', 'MODEL_LOADING', `loading model ${parsed.reference} from memory (${formatBytes(bytes.byteLength)}, not cached)`, { stage: 'local', id: parsed.id, size: bytes.byteLength });
  options.onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
  return { bytes, spec, size: bytes.byteLength, sha256: await sha256Hex(bytes), fromCache: false, cached: false };
}

/** The cached model `id` when its record and a complete, verified file exist; repairs (deletes) a bad file. */
async function readCachedModel(id: string, options: LoadModelOptions, emit: Emit): Promise<LoadedModel | undefined> {
  const record = await cache.getModelRecord(id);
  if (!record) return undefined;
  const blob = await cache.getBlobRecord(record.blobKey);
  if (!blob?.complete) return undefined;
  const verified = await readVerified(blob);
  if ('problem' in verified) {
    await repair(blob, record.reference, verified.problem, emit);
    return undefined;
  }
  cache.putBlobRecord({ ...blob, lastUsedAt: Date.now() }).catch(() => undefined);
  emit('info', 'MODEL_CACHE_HIT', `model read from the IndexedDB cache (${formatBytes(blob.size)}, SHA-256 verified)`, { id, size: blob.size });
  options.onProgress?.({ loaded: blob.size ?? 0, total: blob.size });
  return { bytes: verified.bytes, spec: record.spec, size: blob.size ?? 0, sha256: blob.sha256 ?? '', fromCache: true, cached: true };
}

async function repair(blob: BlobRecord, reference: string, problem: string, emit: Emit): Promise<void> {
  await cache.deleteBlob(blob.key).catch(() => undefined);
  emit('warning', 'MODEL_LOADING', `the cached copy of ${reference} is ${problem}: deleted it and downloading it again`, {
    stage: 'cache-repair',
    id: blob.modelId,
    size: blob.size,
  });
}

/** Downloads (resuming from `existing` when it is a usable partial file) and stores the file when `useCache`. */
async function download(resolved: ResolvedModel, options: LoadModelOptions, emit: Emit, existing: BlobRecord | undefined, useCache: boolean): Promise<LoadedModel> {
  const { spec, download: source } = resolved;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const key = source.cacheKey;
  let caching = useCache;
  let resume: { chunks: ArrayBuffer[]; total?: number; etag?: string } | undefined;
  const fresh = (): BlobRecord => ({
    key,
    url: spec.url,
    version: source.version,
    modelId: spec.id,
    reference: spec.reference,
    source: spec.source,
    chunkSize,
    storedChunks: 0,
    complete: false,
    md5: source.md5,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  });
  let record = fresh();

  if (caching && existing && !existing.complete) {
    let usable = existing.chunkSize === chunkSize && existing.version === source.version && existing.storedChunks > 0;
    if (usable) {
      const chunks = await cache.readChunks(key, existing.storedChunks).catch(() => []);
      usable = chunks.length === existing.storedChunks && chunks.every((c) => c?.size === chunkSize);
      const buffers = usable ? await Promise.all(chunks.map((c) => c!.arrayBuffer())).catch(() => undefined) : undefined;
      usable = buffers !== undefined;
      if (buffers) {
        resume = { chunks: buffers, total: existing.size, etag: existing.etag };
        record = { ...existing, updatedAt: Date.now() };
        emit('info', 'MODEL_LOADING', `resuming the download of ${spec.reference} at byte ${existing.storedChunks * chunkSize} of ${existing.size ?? 'unknown'} (${existing.storedChunks} chunks kept from an earlier attempt)`, {
          stage: 'resume',
          offset: existing.storedChunks * chunkSize,
          total: existing.size,
        });
      }
    }
    if (!usable) await cache.deleteBlob(key).catch(() => undefined);
  }

  const stopCaching = (message: string, stage: string) => {
    if (!caching) return;
    caching = false;
    emit('warning', 'MODEL_LOADING', message, { stage, id: spec.id });
    cache.deleteBlob(key).catch(() => undefined);
  };

  let nextReport = 0;
  const result = await downloadChunked({
    url: source.url,
    context: resolved.context,
    chunkSize,
    resume,
    signal: options.signal,
    fetch: options.fetch,
    onStart: async (start) => {
      record.size = start.total;
      record.etag = start.etag;
      emit(
        'info',
        'MODEL_LOADING',
        start.resumedFrom > 0
          ? `downloading ${spec.url} from byte ${start.resumedFrom} of ${start.total ?? 'unknown'} (HTTP Range)`
          : `downloading ${spec.url} (${formatBytes(start.total)}${caching ? `, stored in chunks of ${formatBytes(chunkSize)}` : ''})`,
        { stage: 'download', url: spec.url, total: start.total, resumedFrom: start.resumedFrom },
      );
      if (!caching || start.total === undefined || start.total < LARGE_MODEL_BYTES) return;
      const storage = (globalThis.navigator as Navigator | undefined)?.storage;
      try {
        const estimate = await storage?.estimate();
        const free = estimate?.quota !== undefined ? estimate.quota - (estimate.usage ?? 0) : undefined;
        const needed = start.total - start.resumedFrom;
        if (free !== undefined && free < needed) {
          stopCaching(
            `not enough storage quota to cache ${spec.reference} (${formatBytes(needed)} needed, ${formatBytes(Math.max(0, free))} free): it runs from the network bytes and will be downloaded again next time`,
            'cache-quota',
          );
          return;
        }
        const persisted = (await storage?.persisted?.()) || (await storage?.persist?.());
        emit('info', 'MODEL_LOADING', persisted ? 'persistent storage granted: the browser will not evict the cached model under storage pressure' : 'persistent storage was not granted: the browser may evict the cached model under storage pressure', {
          stage: 'persist',
          persisted: Boolean(persisted),
        });
      } catch {
        // StorageManager unavailable: just try to store.
      }
    },
    onChunk: async (index, bytes) => {
      if (!caching) return;
      record = { ...record, storedChunks: index + 1, updatedAt: Date.now() };
      await cache.putChunk(record, index, bytes);
    },
    onChunkError: (error) => {
      stopCaching(
        `the model could not be cached in IndexedDB (${isQuotaError(error) ? 'QuotaExceededError: storage quota exceeded' : describeError(error)}): it runs from the network bytes and will be downloaded again next time`,
        isQuotaError(error) ? 'cache-quota' : 'cache-write-failed',
      );
    },
    onRestart: async (reason) => {
      emit('warning', 'MODEL_LOADING', `${spec.reference}: ${reason}`, { stage: 'restart' });
      nextReport = 0;
      if (caching) {
        await cache.deleteBlob(key).catch(() => undefined);
        record = fresh();
      }
    },
    onProgress: (progress) => {
      options.onProgress?.(progress);
      if (progress.loaded >= nextReport) {
        emit('debug', 'MODEL_LOADING', `downloaded ${formatBytes(progress.loaded)} of ${formatBytes(progress.total)}`, { stage: 'progress', loaded: progress.loaded, total: progress.total });
        nextReport = progress.loaded + Math.max(1024 * 1024, Math.floor((progress.total ?? 0) / 10));
      }
    },
    onRetry: ({ offset, reason }) => {
      emit('warning', 'MODEL_LOADING', `the download of ${spec.reference} broke (${reason}): retrying from byte ${offset} with an HTTP Range request`, { stage: 'retry', offset });
    },
  });

  const bytes = new Uint8Array(result.bytes);
  if (result.size === 0) {
    await cache.deleteBlob(key).catch(() => undefined);
    throw new ModelLoadError('malformed', `the model at ${spec.url} is empty (0 bytes): expected an ONNX file`);
  }
  const md5 = source.md5;
  if (md5 && md5Hex(bytes) !== md5) {
    await cache.deleteBlob(key).catch(() => undefined);
    throw new ModelLoadError('integrity', `the download of ${spec.reference} does not match its published MD5 ${md5}: the file is corrupt or was changed; it was not cached`);
  }
  const sha256 = await sha256Hex(bytes);
  const expectedSha = source.sha256 ?? result.sha256;
  if (expectedSha && sha256 !== expectedSha) {
    await cache.deleteBlob(key).catch(() => undefined);
    throw new ModelLoadError('integrity', `the download of ${spec.reference} does not match its published SHA-256 ${expectedSha}: the file is corrupt or was changed; it was not cached`);
  }
  let cached = false;
  if (caching && result.allChunksStored) {
    try {
      record = { ...record, size: result.size, storedChunks: result.chunkCount, complete: true, sha256, completedAt: Date.now(), updatedAt: Date.now(), lastUsedAt: Date.now() };
      await cache.putBlobRecord(record);
      await cache.putModelRecord({ id: spec.id, reference: spec.reference, spec, blobKey: key, savedAt: Date.now() });
      cached = true;
      emit('info', 'MODEL_LOADING', `downloaded and cached ${spec.reference}: ${formatBytes(result.size)} in ${result.chunkCount} chunk(s), ${result.requests} request(s)`, {
        stage: 'cached',
        size: result.size,
        chunks: result.chunkCount,
        requests: result.requests,
      });
    } catch (error) {
      stopCaching(`the model could not be cached in IndexedDB (${describeError(error)}): it will be downloaded again next time`, isQuotaError(error) ? 'cache-quota' : 'cache-write-failed');
    }
  }
  return { bytes: result.bytes, spec, size: result.size, sha256, fromCache: false, cached };
}

/**
 * Downloads and caches a model ahead of time (the reference's `get_model`), so a later pipeline starts without
 * network. Resolves with what was found or stored; throws a `ModelLoadError` (or `ModelError`) naming what went wrong. Does not keep the bytes.
 */
export async function getModel(id: ModelReference, options: GetModelOptions = {}): Promise<ModelInfo> {
  const { bytes: _bytes, ...info } = await loadModel(id, options);
  return info;
}

/** Every model in the IndexedDB cache, complete or partly downloaded, newest first. Reads no model bytes. */
export async function listCachedModels(): Promise<CachedModelInfo[]> {
  if (typeof indexedDB === 'undefined') return [];
  const [blobs, models] = await Promise.all([cache.listBlobRecords(), cache.listModelRecords()]);
  return blobs
    .map((b): CachedModelInfo => {
      const model = models.find((m) => m.blobKey === b.key);
      const stored = b.complete ? (b.size ?? 0) : Math.min(b.storedChunks * b.chunkSize, b.size ?? Infinity);
      return {
        id: model?.id ?? b.modelId,
        reference: model?.reference ?? b.reference,
        source: b.source,
        url: b.url,
        size: b.size,
        storedBytes: stored,
        complete: b.complete,
        sha256: b.sha256,
        dtype: model?.spec.dtype,
        createdAt: b.createdAt,
        lastUsedAt: b.lastUsedAt,
      };
    })
    .sort((a, b) => b.createdAt - a.createdAt);
}

/**
 * Deletes the cached model whose `id` or `reference` (as {@link listCachedModels} shows them) is `id`, partial
 * downloads included. Resolves true when something was deleted.
 */
export async function deleteCachedModel(id: string): Promise<boolean> {
  if (typeof indexedDB === 'undefined') return false;
  const [blobs, models] = await Promise.all([cache.listBlobRecords(), cache.listModelRecords()]);
  const matchedModels = models.filter((m) => m.id === id || m.reference === id);
  const keys = new Set([...blobs.filter((b) => b.modelId === id || b.reference === id || b.key === id).map((b) => b.key), ...matchedModels.map((m) => m.blobKey)]);
  for (const key of keys) await cache.deleteBlob(key);
  await cache.deleteModelRecords(matchedModels.map((m) => m.id));
  return keys.size > 0 || matchedModels.length > 0;
}

/** Deletes every cached model (and the first cache format's database, if present). */
export async function clearModelCache(): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  await cache.clearAll();
}
