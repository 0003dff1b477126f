/**
 * The page the model-registry tests drive: getModel and the cache API, pipeline runs, and direct access to the
 * IndexedDB cache (to tamper with it, read it back independently, and dump everything stored).
 * Everything handed back is plain JSON.
 */
import { createStore, getMany, promisifyRequest, set } from 'idb-keyval';
import * as framewise from '../../../src/index.ts';
import type { CachedModelInfo, FramePredictions, GetModelOptions, ModelInfo, ModelProgress, ModelReference, StatusUpdate } from '../../../src/index.ts';
import type { InitModelOptions } from '../../../src/pipeline/inference-pipeline.ts';
import { MODEL_CACHE_DB, MODEL_CACHE_STORE, type BlobRecord, type ModelRecord } from '../../../src/models/model-cache.ts';

/** A reference the test can send as JSON: a normal one, `{ dataUrl }` for a `{ data: Blob }` fetched here, or `{ blobUrlFrom }` for `{ url: <blob: URL> }`. */
export type JsonReference = ModelReference | { dataUrl: string; name?: string } | { blobUrlFrom: string };

/** A listCachedModels entry, as JSON. */
export type CachedModelInfoJson = CachedModelInfo;

/** getModel options without the callbacks. */
export type JsonGetModelOptions = Omit<GetModelOptions, 'onProgress' | 'onStatus' | 'signal'>;

export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  status?: number;
}

export interface GetModelOutcome {
  info?: ModelInfo;
  error?: ErrorInfo;
  progress: ModelProgress[];
  statuses: StatusUpdate[];
}

export interface RunModelRequest {
  modelId: JsonReference;
  videoReference: string;
  apiKey?: string;
  apiUrl?: string;
  hubUrl?: string;
  dtype?: InitModelOptions['dtype'];
  backend?: InitModelOptions['backend'];
  /** Terminate after this many predictions. */
  stopAfter?: number;
}

export interface RunModelResult {
  predictions: FramePredictions[];
  statuses: StatusUpdate[];
  progress: ModelProgress[];
  error?: ErrorInfo;
}

function errorInfo(error: unknown): ErrorInfo {
  const e = error as Error & { code?: string; status?: number };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), code: e?.code, status: e?.status };
}

async function toReference(reference: JsonReference): Promise<ModelReference> {
  if (typeof reference === 'object' && reference !== null && 'dataUrl' in reference) {
    const blob = await (await fetch(reference.dataUrl)).blob();
    return { data: blob, name: reference.name };
  }
  if (typeof reference === 'object' && reference !== null && 'blobUrlFrom' in reference) {
    const blob = await (await fetch(reference.blobUrlFrom)).blob();
    return { url: URL.createObjectURL(blob) };
  }
  return reference;
}

async function getModel(reference: JsonReference, options: JsonGetModelOptions = {}): Promise<GetModelOutcome> {
  const progress: ModelProgress[] = [];
  const statuses: StatusUpdate[] = [];
  try {
    const info = await framewise.getModel(await toReference(reference), { ...options, onProgress: (p) => progress.push(p), onStatus: (s) => statuses.push(s) });
    return { info, progress, statuses };
  } catch (error) {
    return { error: errorInfo(error), progress, statuses };
  }
}

let pending: Promise<GetModelOutcome> | undefined;
/** Starts a getModel without waiting (for the reload-while-downloading test). */
function startGetModel(reference: JsonReference, options: JsonGetModelOptions = {}): void {
  pending = getModel(reference, options);
}
async function awaitPending(): Promise<GetModelOutcome | undefined> {
  return pending;
}

async function run(request: RunModelRequest): Promise<RunModelResult> {
  const predictions: FramePredictions[] = [];
  const statuses: StatusUpdate[] = [];
  const progress: ModelProgress[] = [];
  const { stopAfter, modelId, ...options } = request;
  let pipeline: framewise.InferencePipeline | undefined;
  try {
    pipeline = framewise.InferencePipeline.init({
      ...options,
      modelId: await toReference(modelId),
      sinkMode: 'sequential',
      statusUpdateHandlers: [(s) => statuses.push(s)],
      onModelProgress: (p) => progress.push(p),
      onPrediction: (p) => {
        predictions.push(p);
        if (stopAfter !== undefined && predictions.length >= stopAfter) void pipeline!.terminate();
      },
    });
    pipeline.start();
    await pipeline.join();
    return { predictions, statuses, progress };
  } catch (error) {
    return { predictions, statuses, progress, error: errorInfo(error) };
  }
}

const store = () => createStore(MODEL_CACHE_DB, MODEL_CACHE_STORE);

async function blobOf(id: string): Promise<BlobRecord> {
  const s = store();
  const blobs = await s('readonly', (os) => promisifyRequest(os.getAll(IDBKeyRange.bound(['blob'], ['blob', []])) as IDBRequest<BlobRecord[]>));
  const models = await s('readonly', (os) => promisifyRequest(os.getAll(IDBKeyRange.bound(['model'], ['model', []])) as IDBRequest<ModelRecord[]>));
  const key = models.find((m) => m.id === id || m.reference === id)?.blobKey;
  const blob = blobs.find((b) => b.key === key || b.modelId === id || b.reference === id);
  if (!blob) throw new Error(`no cached file for ${id}`);
  return blob;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Reads a cached file's chunks straight from IndexedDB (not through the library) and hashes them. */
async function cachedBytes(id: string): Promise<{ sha256: string; size: number; chunkLengths: number[]; storedChunks: number; complete: boolean }> {
  const blob = await blobOf(id);
  const values = await getMany<Blob | ArrayBuffer | undefined>(Array.from({ length: blob.storedChunks }, (_, i) => ['chunk', blob.key, i]), store());
  const chunks = await Promise.all(values.map((v) => (v instanceof Blob ? v.arrayBuffer() : v)));
  const lengths = chunks.map((c) => c?.byteLength ?? -1);
  const all = new Uint8Array(lengths.reduce((a, b) => a + Math.max(0, b), 0));
  let at = 0;
  for (const c of chunks) {
    if (!c) continue;
    all.set(new Uint8Array(c), at);
    at += c.byteLength;
  }
  return { sha256: await sha256Hex(all), size: all.length, chunkLengths: lengths, storedChunks: blob.storedChunks, complete: blob.complete };
}

/** Damages a cached file: 'truncate' cuts the last chunk in half, 'drop' deletes it, 'flip' inverts one byte. */
async function tamper(id: string, mode: 'truncate' | 'drop' | 'flip'): Promise<void> {
  const blob = await blobOf(id);
  const last = blob.storedChunks - 1;
  const key = ['chunk', blob.key, last];
  const s = store();
  const [value] = await getMany<Blob | ArrayBuffer | undefined>([key], s);
  if (!value) throw new Error('no last chunk');
  const chunk = value instanceof Blob ? await value.arrayBuffer() : value;
  if (mode === 'drop') {
    await s('readwrite', (os) => {
      os.delete(key);
      return promisifyRequest(os.transaction);
    });
  } else if (mode === 'truncate') {
    await set(key, new Blob([chunk.slice(0, Math.floor(chunk.byteLength / 2))]), s);
  } else {
    const copy = new Uint8Array(chunk.slice(0));
    copy[Math.floor(copy.length / 2)] = copy[Math.floor(copy.length / 2)]! ^ 0xff;
    await set(key, new Blob([copy]), s);
  }
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (haystack[i] !== needle[0]) continue;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Everything this origin stores: every IndexedDB database and store (keys and values), localStorage,
 * sessionStorage and Cache Storage request URLs. Returns where `secret` occurs (strings and binary values
 * alike) and a size summary.
 */
async function dumpStorage(secret: string): Promise<{ found: string[]; databases: string[]; records: number; binaryBytes: number; text: string }> {
  const needle = new TextEncoder().encode(secret);
  const found: string[] = [];
  const texts: string[] = [];
  let records = 0;
  let binaryBytes = 0;
  const blobs: Promise<void>[] = [];
  const scan = (where: string, value: unknown): void => {
    if (value instanceof Blob) {
      blobs.push(value.arrayBuffer().then((buffer) => scan(where, buffer)));
      return;
    }
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
      const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      binaryBytes += bytes.length;
      if (containsBytes(bytes, needle)) found.push(`${where} (binary)`);
      return;
    }
    if (Array.isArray(value)) return value.forEach((v, i) => scan(`${where}[${i}]`, v));
    if (value && typeof value === 'object') return Object.entries(value).forEach(([k, v]) => scan(`${where}.${k}`, v));
    const text = String(value);
    texts.push(text);
    if (text.includes(secret)) found.push(where);
  };
  const databases = (await indexedDB.databases()).map((d) => d.name!).filter(Boolean);
  for (const name of databases) {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    for (const storeName of Array.from(db.objectStoreNames)) {
      const tx = db.transaction(storeName, 'readonly');
      const os = tx.objectStore(storeName);
      const [keys, values] = await Promise.all([promisifyRequest(os.getAllKeys()), promisifyRequest(os.getAll())]);
      keys.forEach((key, i) => {
        records++;
        scan(`${name}/${storeName} key ${JSON.stringify(key)}`, key);
        scan(`${name}/${storeName} ${JSON.stringify(key)}`, values[i]);
      });
    }
    db.close();
  }
  for (const [label, storage] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]] as const) {
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i)!;
      scan(`${label} key`, k);
      scan(`${label}.${k}`, storage.getItem(k));
    }
  }
  for (const cacheName of await caches.keys()) {
    scan('CacheStorage name', cacheName);
    for (const request of await (await caches.open(cacheName)).keys()) scan(`CacheStorage ${cacheName}`, request.url);
  }
  await Promise.all(blobs);
  return { found, databases, records, binaryBytes, text: texts.join('\n') };
}

async function shaderF16(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ features: { has(f: string): boolean } } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  return Boolean(adapter?.features.has('shader-f16'));
}

const models = {
  framewise,
  getModel,
  startGetModel,
  awaitPending,
  run,
  list: () => framewise.listCachedModels(),
  remove: (id: string) => framewise.deleteCachedModel(id),
  clear: () => framewise.clearModelCache(),
  cachedBytes,
  tamper,
  dumpStorage,
  shaderF16,
};
(window as unknown as { models: typeof models }).models = models;
export type ModelsHarness = typeof models;
document.title = 'models harness ready';
