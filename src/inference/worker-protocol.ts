/** The messages between the pipeline and an inference worker (types only; behaviour lives in the worker). */
import type { Backend, Prediction } from '../pipeline/types.ts';
import type { ResizeMode, StaticCrop } from './resize-transform.ts';
import type { DecodeOptions } from './rfdetr-decode.ts';

/** Everything a worker needs to create its session. */
export interface WorkerLoadRequest {
  /** The ONNX bytes (copied into each worker). */
  modelBytes: ArrayBuffer;
  /** Where the model came from, for messages only. */
  modelLabel: string;
  inputSize?: number;
  classNames?: string[];
  mean: [number, number, number];
  std: [number, number, number];
  resize: ResizeMode;
  staticCrop?: StaticCrop;
  /** Letterbox padding grey level 0..255. */
  padGrey: number;
  backend: Backend;
  /** onnxruntime-web WASM threads for this worker. */
  numThreads: number;
  /** Where onnxruntime-web's .wasm/.mjs files are served; undefined lets onnxruntime-web resolve them itself. */
  wasmPaths?: string;
}

export interface WorkerLoadResult {
  backend: 'webgpu' | 'wasm';
  /** Why this backend runs (for the status event). */
  reason: string;
  inputSize: number;
  inputName: string;
  outputNames: string[];
  convention: 'native' | 'hub';
}

export type WorkerDecodeOptions = DecodeOptions;

/** What a worker returns for one frame. */
export interface WorkerResult {
  predictions: Prediction[];
  /** Milliseconds spent in each stage inside the worker. */
  timings: { preprocessMs: number; inferenceMs: number; decodeMs: number };
}

/** The worker's API, called through comlink. */
export interface InferenceWorkerApi {
  load(request: WorkerLoadRequest): Promise<WorkerLoadResult>;
  /** Runs one frame; the worker takes ownership of `frame` and closes it. */
  infer(frame: VideoFrame, options: WorkerDecodeOptions): Promise<WorkerResult>;
  /** Runs a prepared [1,3,S,S] tensor as if it came from a frame of the given size (parity tests, benchmarks). */
  inferTensor(data: Float32Array, frameWidth: number, frameHeight: number, options: WorkerDecodeOptions): Promise<WorkerResult>;
  /** Releases the session. */
  dispose(): Promise<void>;
}
