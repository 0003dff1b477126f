/**
 * Creating an onnxruntime-web session with the backend choice: WebGPU when an adapter exists and the session can
 * be created, WASM otherwise, with the reason for the status event. Shared by the inference worker and the
 * workflow worker; free of side effects on import.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { ModelError, describeError } from '../pipeline/errors.ts';
import type { Backend } from '../pipeline/types.ts';

export type SessionBackend = 'webgpu' | 'wasm';

/** What a session needs besides the bytes. */
export interface CreateSessionOptions {
  backend: Backend;
  /** WASM threads (onnxruntime-web's global setting, so the last caller in a worker wins). */
  numThreads: number;
  /** Where onnxruntime-web's .wasm files are served; undefined lets it resolve them itself. */
  wasmPaths?: string;
  /** Named in error messages. */
  label: string;
  /** Extra options for a WebGPU session (output location, graph capture). */
  webgpuOptions?: Partial<ort.InferenceSession.SessionOptions>;
}

/** Why WebGPU can't be used here, or null when an adapter exists. */
export async function webgpuUnavailableReason(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'navigator.gpu is missing (WebGPU is not enabled in this browser or context)';
  try {
    return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() returned no adapter';
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${describeError(error)}`;
  }
}

/**
 * Creates the session. `backend: 'auto'` falls back to WASM when WebGPU is unavailable or its session fails;
 * `'webgpu'` and `'wasm'` don't fall back. Throws ModelError naming the model and the cause.
 */
export async function createSession(bytes: ArrayBuffer | Uint8Array, options: CreateSessionOptions): Promise<{ session: ort.InferenceSession; backend: SessionBackend; reason: string }> {
  ort.env.wasm.numThreads = options.numThreads;
  ort.env.wasm.proxy = false;
  if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
  ort.env.logLevel = 'error';
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const create = async (ep: SessionBackend) => {
    const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [ep], graphOptimizationLevel: 'all' };
    if (ep === 'webgpu') Object.assign(sessionOptions, options.webgpuOptions);
    try {
      return await ort.InferenceSession.create(data, sessionOptions);
    } catch (error) {
      throw new ModelError(`could not create a ${ep} session for ${options.label}: ${describeError(error)}`, { cause: error });
    }
  };
  if (options.backend === 'wasm') return { session: await create('wasm'), backend: 'wasm', reason: 'backend "wasm" was requested' };
  const unavailable = await webgpuUnavailableReason();
  if (options.backend === 'webgpu') {
    if (unavailable) throw new ModelError(`backend "webgpu" was requested but WebGPU is unavailable: ${unavailable}`);
    return { session: await create('webgpu'), backend: 'webgpu', reason: 'backend "webgpu" was requested' };
  }
  if (unavailable) return { session: await create('wasm'), backend: 'wasm', reason: `WebGPU unavailable (${unavailable}); using WASM` };
  try {
    return { session: await create('webgpu'), backend: 'webgpu', reason: 'a WebGPU adapter is available' };
  } catch (error) {
    return { session: await create('wasm'), backend: 'wasm', reason: `the WebGPU session failed (${describeError(error)}); using WASM` };
  }
}
