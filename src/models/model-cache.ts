/**
 * Model bytes cached in IndexedDB (idb-keyval), keyed by resolved URL, so the second load of a model reads no
 * bytes from the network. An entry whose stored size disagrees with its recorded size is dropped and refetched.
 */
import { createStore, del, get, set } from 'idb-keyval';
import { ModelError, describeError } from '../pipeline/errors.ts';

interface CacheEntry {
  url: string;
  size: number;
  storedAt: number;
  bytes: ArrayBuffer;
}

let store: ReturnType<typeof createStore> | undefined;
/** The store opens lazily so importing the library touches no storage. */
function modelStore() {
  store ??= createStore('framewise-models', 'models');
  return store;
}

export interface FetchModelResult {
  bytes: ArrayBuffer;
  fromCache: boolean;
  /** A non-fatal problem (for example the cache could not be written), for a warning event. */
  warning?: string;
}

/** Returns the model's bytes from the cache, or fetches and caches them. */
export async function fetchModelBytes(url: string): Promise<FetchModelResult> {
  const key = `model:${url}`;
  try {
    const entry = await get<CacheEntry>(key, modelStore());
    if (entry && entry.bytes.byteLength === entry.size && entry.size > 0) return { bytes: entry.bytes, fromCache: true };
    if (entry) await del(key, modelStore());
  } catch {
    // IndexedDB unavailable (private mode, blocked storage): run from the network.
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ModelError(`could not fetch the model at ${url}: ${describeError(error)} (network down, wrong host, or blocked by CORS)`);
  }
  if (!response.ok) throw new ModelError(`could not fetch the model at ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  const bytes = await response.arrayBuffer();
  if (bytes.byteLength === 0) throw new ModelError(`the model at ${url} is empty (0 bytes): expected an ONNX file`);
  try {
    await set(key, { url, size: bytes.byteLength, storedAt: Date.now(), bytes } satisfies CacheEntry, modelStore());
    return { bytes, fromCache: false };
  } catch (error) {
    return { bytes, fromCache: false, warning: `the model could not be cached in IndexedDB: ${describeError(error)}` };
  }
}
