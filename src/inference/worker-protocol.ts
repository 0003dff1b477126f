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
  /** WebGPU frame-path settings (benchmarks, tests); the defaults are the measured best. */
  gpu?: WorkerGpuOptions;
}

/** How a WebGPU session is driven. */
export interface WorkerGpuOptions {
  /** Preprocess frames on the GPU (default true on WebGPU; false uses the canvas path and CPU tensors). */
  preprocess?: boolean;
  /** Create the session with `enableGraphCapture` (needs static output shapes; default: see inference-worker.ts). */
  graphCapture?: boolean;
}

/** Which preprocessing `preprocessOnly` runs. */
export type PreprocessPath = 'cpu' | 'gpu';

export interface WorkerLoadResult {
  backend: 'webgpu' | 'wasm';
  /** Why this backend runs (for the status event). */
  reason: string;
  inputSize: number;
  inputName: string;
  outputNames: string[];
  convention: 'native' | 'hub';
  /** Where frames are preprocessed: 'gpu' = the WebGPU frame path (preprocess-gpu.ts), 'cpu' = OffscreenCanvas. */
  preprocess?: PreprocessPath;
  /** Why the GPU frame path is off on a WebGPU session, when it is. */
  preprocessReason?: string;
  /** The session was created with graph capture. */
  graphCapture?: boolean;
  /**
   * Frames this worker accepts at once: 2 on the GPU path (the next frame is uploaded and preprocessed, and its run
   * encoded, while the previous one finishes on the GPU), 1 otherwise. On an H200 through Dawn the second frame
   * gained nothing (session.run resolves once the GPU is done); see BENCHMARKS.md, "GPU".
   */
  maxInFlight?: number;
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
  /**
   * Preprocesses one frame with the given path and returns the [1,3,S,S] tensor data (correctness tests). The worker
   * takes ownership of `frame` and closes it. 'gpu' needs a WebGPU session.
   */
  preprocessOnly(frame: VideoFrame, path: PreprocessPath): Promise<Float32Array>;
  /** Releases the session. */
  dispose(): Promise<void>;
}
