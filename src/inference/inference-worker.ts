/**
 * The inference worker: owns one onnxruntime-web session, preprocesses frames on an OffscreenCanvas,
 * runs RF-DETR and decodes its outputs into predictions in source-frame pixels.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { ModelError, describeError } from '../pipeline/errors.ts';
import type { Prediction } from '../pipeline/types.ts';
import { classNamesFor } from './coco-classes.ts';
import { CpuPreprocessor } from './preprocess-cpu.ts';
import { computeResizeTransform } from './resize-transform.ts';
import { decodeRfDetr } from './rfdetr-decode.ts';
import { checkRfDetrContract, checkRfDetrOutputs, type RfDetrContract } from './rfdetr-contract.ts';
import type { InferenceWorkerApi, WorkerDecodeOptions, WorkerLoadRequest, WorkerLoadResult, WorkerResult } from './worker-protocol.ts';

interface Loaded {
  session: ort.InferenceSession;
  contract: RfDetrContract;
  request: WorkerLoadRequest;
  preprocessor: CpuPreprocessor;
  input: Float32Array;
  className?: (id: number) => string;
}

async function webgpuAvailable(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'navigator.gpu is missing (WebGPU is not enabled in this browser or context)';
  try {
    return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() returned no adapter';
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${describeError(error)}`;
  }
}

async function createSession(request: WorkerLoadRequest): Promise<{ session: ort.InferenceSession; backend: 'webgpu' | 'wasm'; reason: string }> {
  ort.env.wasm.numThreads = request.numThreads;
  ort.env.wasm.proxy = false;
  if (request.wasmPaths) ort.env.wasm.wasmPaths = request.wasmPaths;
  ort.env.logLevel = 'error';
  const bytes = new Uint8Array(request.modelBytes);
  const create = async (ep: 'webgpu' | 'wasm') => {
    try {
      return await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new ModelError(`could not create a ${ep} session for ${request.modelLabel}: ${describeError(error)}`, { cause: error });
    }
  };
  if (request.backend === 'wasm') return { session: await create('wasm'), backend: 'wasm', reason: 'backend "wasm" was requested' };
  const unavailable = await webgpuAvailable();
  if (request.backend === 'webgpu') {
    if (unavailable) throw new ModelError(`backend "webgpu" was requested but WebGPU is unavailable: ${unavailable}`);
    return { session: await create('webgpu'), backend: 'webgpu', reason: 'backend "webgpu" was requested' };
  }
  if (unavailable) return { session: await create('wasm'), backend: 'wasm', reason: `WebGPU unavailable (${unavailable}); using WASM` };
  try {
    return { session: await create('webgpu'), backend: 'webgpu', reason: 'a WebGPU adapter is available' };
  } catch (error) {
    const session = await create('wasm');
    return { session, backend: 'wasm', reason: `the WebGPU session failed (${describeError(error)}); using WASM` };
  }
}

class InferenceWorker implements InferenceWorkerApi {
  private loaded?: Loaded;

  async load(request: WorkerLoadRequest): Promise<WorkerLoadResult> {
    const { session, backend, reason } = await createSession(request);
    let contract: RfDetrContract;
    try {
      contract = checkRfDetrContract(session, request.inputSize);
    } catch (error) {
      await session.release();
      throw error;
    }
    const preprocessor = new CpuPreprocessor(contract.inputSize, { mean: request.mean, std: request.std }, request.padGrey);
    this.loaded = { session, contract, request, preprocessor, input: new Float32Array(3 * contract.inputSize ** 2) };
    return {
      backend,
      reason,
      inputSize: contract.inputSize,
      inputName: contract.inputName,
      outputNames: [...session.outputNames],
      convention: contract.convention,
    };
  }

  private require(): Loaded {
    if (!this.loaded) throw new ModelError('the worker has no model: load() must succeed before inference');
    return this.loaded;
  }

  async infer(frame: VideoFrame, options: WorkerDecodeOptions): Promise<WorkerResult> {
    let width = 0;
    let height = 0;
    let preprocessMs = 0;
    let loaded: Loaded;
    try {
      loaded = this.require();
      const t0 = performance.now();
      width = frame.displayWidth;
      height = frame.displayHeight;
      const { request, contract } = loaded;
      const transform = computeResizeTransform(width, height, contract.inputSize, request.resize, request.staticCrop);
      loaded.preprocessor.run(frame, transform, loaded.input);
      preprocessMs = performance.now() - t0;
    } finally {
      frame.close();
    }
    const result = await this.run(loaded, loaded.input, width, height, options);
    result.timings.preprocessMs = preprocessMs;
    return result;
  }

  async inferTensor(data: Float32Array, frameWidth: number, frameHeight: number, options: WorkerDecodeOptions): Promise<WorkerResult> {
    const loaded = this.require();
    const expected = 3 * loaded.contract.inputSize ** 2;
    if (data.length !== expected) throw new RangeError(`tensor has ${data.length} values: expected ${expected} for [1,3,${loaded.contract.inputSize},${loaded.contract.inputSize}]`);
    return this.run(loaded, data, frameWidth, frameHeight, options);
  }

  private async run(loaded: Loaded, data: Float32Array, width: number, height: number, options: WorkerDecodeOptions): Promise<WorkerResult> {
    const { session, contract, request } = loaded;
    const size = contract.inputSize;
    const t1 = performance.now();
    const outputs = await session.run({ [contract.inputName]: new ort.Tensor("float32", data as Float32Array<ArrayBuffer>, [1, 3, size, size]) });
    const t2 = performance.now();
    const boxes = outputs[contract.boxesName]!;
    const logits = outputs[contract.logitsName]!;
    try {
      const { classes } = checkRfDetrOutputs(boxes.dims, logits.dims, contract);
      loaded.className ??= classNamesFor(classes, request.classNames);
      const transform = computeResizeTransform(width, height, size, request.resize, request.staticCrop);
      const decoded = decodeRfDetr(boxes.data as Float32Array, logits.data as Float32Array, classes, size, transform, options);
      const predictions: Prediction[] = decoded.map((d) => ({
        x: d.cx,
        y: d.cy,
        width: d.w,
        height: d.h,
        confidence: d.score,
        class: loaded.className!(d.classId),
        class_id: d.classId,
        detection_id: crypto.randomUUID(),
      }));
      return { predictions, timings: { preprocessMs: 0, inferenceMs: t2 - t1, decodeMs: performance.now() - t2 } };
    } finally {
      for (const tensor of Object.values(outputs)) tensor.dispose();
    }
  }

  async dispose(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await loaded?.session.release();
  }
}

Comlink.expose(new InferenceWorker());
