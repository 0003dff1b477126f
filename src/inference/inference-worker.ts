/**
 * The inference worker: owns one onnxruntime-web session, preprocesses frames, runs RF-DETR and decodes its outputs
 * into predictions in source-frame pixels.
 *
 * On WASM frames are preprocessed on an OffscreenCanvas (preprocess-cpu.ts). On WebGPU they take the GPU frame path
 * (preprocess-gpu.ts): uploaded to a texture, resized and normalised by a compute shader into a buffer on
 * onnxruntime-web's own device, fed with `Tensor.fromGpuBuffer`, with GPU-resident outputs of which only what the
 * decoder needs is read back. On that path the worker accepts a second frame while one is in flight.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { ModelError, describeError } from '../pipeline/errors.ts';
import type { Prediction } from '../pipeline/types.ts';
import { classMappingFor, remapClasses, type ClassMapping } from './coco-classes.ts';
import { createSession } from './create-session.ts';
import { CpuPreprocessor } from './preprocess-cpu.ts';
import { GpuFramePath, readGpuBuffer } from './preprocess-gpu.ts';
import { computeResizeTransform, type ResizeTransform } from './resize-transform.ts';
import { decodeRfDetr } from './rfdetr-decode.ts';
import { checkRfDetrContract, checkRfDetrOutputs, type RfDetrContract } from './rfdetr-contract.ts';
import type {
  InferenceWorkerApi,
  PreprocessPath,
  WorkerDecodeOptions,
  WorkerLoadRequest,
  WorkerLoadResult,
  WorkerResult,
} from './worker-protocol.ts';

/**
 * Graph capture (`gpu.graphCapture`) is off by default: on an H200 it cut a frame from about 21 ms to 7 ms, but its
 * replays returned the previous frame's results and onnxruntime-web 1.30 threw in most capture sessions
 * (BENCHMARKS.md, "GPU"). When asked for, it needs static output shapes; the session is created before those are
 * known, so a model with dynamic outputs is reloaded without it.
 */
const GRAPH_CAPTURE_DEFAULT = false;

interface Loaded {
  session: ort.InferenceSession;
  contract: RfDetrContract;
  request: WorkerLoadRequest;
  preprocessor: CpuPreprocessor;
  input: Float32Array;
  classes?: ClassMapping;
  /** The GPU frame path, on WebGPU sessions. */
  gpu?: GpuFramePath;
}

async function createWorkerSession(request: WorkerLoadRequest, graphCapture: boolean) {
  return createSession(request.modelBytes, {
    backend: request.backend,
    numThreads: request.numThreads,
    wasmPaths: request.wasmPaths,
    label: request.modelLabel,
    // Outputs stay on the GPU: the frame path reads back only what decoding needs.
    webgpuOptions: { preferredOutputLocation: 'gpu-buffer', enableGraphCapture: graphCapture },
  });
}

/** Static [1,Q,4] / [1,Q,C] output dims from the session's metadata, when the model declares them. */
function staticOutputDims(session: ort.InferenceSession, contract: RfDetrContract): { queries: number; classes: number } | undefined {
  const shape = (name: string) => {
    const meta = session.outputMetadata.find((m) => m.name === name);
    return meta && meta.isTensor ? meta.shape : undefined;
  };
  const boxes = shape(contract.boxesName);
  const logits = shape(contract.logitsName);
  if (!boxes || !logits || boxes.length !== 3 || logits.length !== 3) return undefined;
  const [b0, q, four] = boxes;
  const [l0, q2, classes] = logits;
  if (b0 !== 1 || l0 !== 1 || four !== 4 || typeof q !== 'number' || q !== q2 || typeof classes !== 'number') return undefined;
  return { queries: q, classes };
}

/** The tensor's values on the CPU (downloads GPU outputs). */
async function cpuData(tensor: ort.Tensor): Promise<Float32Array> {
  return (tensor.location === 'cpu' ? tensor.data : await tensor.getData()) as Float32Array;
}

class InferenceWorker implements InferenceWorkerApi {
  private loaded?: Loaded;

  async load(request: WorkerLoadRequest): Promise<WorkerLoadResult> {
    const wantGpu = request.gpu?.preprocess ?? true;
    let graphCapture = wantGpu && (request.gpu?.graphCapture ?? GRAPH_CAPTURE_DEFAULT);
    let { session, backend, reason } = await createWorkerSession(request, graphCapture);
    let contract: RfDetrContract;
    let gpu: GpuFramePath | undefined;
    let preprocessReason: string | undefined;
    try {
      contract = checkRfDetrContract(session, request.inputSize);
      if (backend === 'webgpu' && wantGpu) {
        let outputDims = staticOutputDims(session, contract);
        if (graphCapture && !outputDims) {
          // Graph capture needs fixed output buffers; this model's outputs have dynamic shapes.
          await session.release();
          graphCapture = false;
          ({ session } = await createWorkerSession({ ...request, backend: 'webgpu' }, false));
          contract = checkRfDetrContract(session, request.inputSize);
          outputDims = staticOutputDims(session, contract);
        }
        // A resolved promise once a WebGPU session exists (older releases returned the device itself).
        const device = (await (ort.env.webgpu.device as unknown as Promise<GPUDevice | undefined>)) ?? undefined;
        if (!device) {
          preprocessReason = 'onnxruntime-web exposes no WebGPU device (ort.env.webgpu.device)';
        } else {
          gpu = new GpuFramePath(device, session, ort.Tensor, { mean: request.mean, std: request.std }, {
            inputName: contract.inputName,
            boxesName: contract.boxesName,
            logitsName: contract.logitsName,
            inputSize: contract.inputSize,
            outputDims,
            graphCapture,
          }, { padGrey: request.padGrey });
        }
      } else if (backend === 'webgpu') {
        preprocessReason = 'GPU preprocessing was turned off (gpu.preprocess: false)';
      }
    } catch (error) {
      gpu?.destroy();
      await session.release();
      throw error;
    }
    if (!gpu) graphCapture = false;
    const preprocessor = new CpuPreprocessor(contract.inputSize, { mean: request.mean, std: request.std }, request.padGrey);
    this.loaded = { session, contract, request, preprocessor, input: new Float32Array(3 * contract.inputSize ** 2), gpu };
    return {
      backend,
      reason,
      inputSize: contract.inputSize,
      inputName: contract.inputName,
      outputNames: [...session.outputNames],
      convention: contract.convention,
      preprocess: gpu ? 'gpu' : 'cpu',
      ...(preprocessReason ? { preprocessReason } : {}),
      graphCapture,
      maxInFlight: gpu ? 2 : 1,
    };
  }

  private require(): Loaded {
    if (!this.loaded) throw new ModelError('the worker has no model: load() must succeed before inference');
    return this.loaded;
  }

  private transformFor(loaded: Loaded, width: number, height: number): ResizeTransform {
    return computeResizeTransform(width, height, loaded.contract.inputSize, loaded.request.resize, loaded.request.staticCrop);
  }

  async infer(frame: VideoFrame, options: WorkerDecodeOptions): Promise<WorkerResult> {
    let loaded: Loaded;
    try {
      loaded = this.require();
    } catch (error) {
      frame.close();
      throw error;
    }
    return loaded.gpu ? this.inferGpu(loaded, loaded.gpu, frame, options) : this.inferCpu(loaded, frame, options);
  }

  private async inferCpu(loaded: Loaded, frame: VideoFrame, options: WorkerDecodeOptions): Promise<WorkerResult> {
    let width = 0;
    let height = 0;
    let preprocessMs = 0;
    try {
      const t0 = performance.now();
      width = frame.displayWidth;
      height = frame.displayHeight;
      loaded.preprocessor.run(frame, this.transformFor(loaded, width, height), loaded.input);
      preprocessMs = performance.now() - t0;
    } finally {
      frame.close();
    }
    const result = await this.run(loaded, loaded.input, width, height, options);
    result.timings.preprocessMs = preprocessMs;
    return result;
  }

  /** Upload + preprocess at once (into a free slot), then run and read back after the previous frame's run. */
  private async inferGpu(loaded: Loaded, gpu: GpuFramePath, frame: VideoFrame, options: WorkerDecodeOptions): Promise<WorkerResult> {
    let slot: number;
    let width: number;
    let height: number;
    let preprocessMs: number;
    try {
      slot = await gpu.acquire();
      const t0 = performance.now();
      width = frame.displayWidth;
      height = frame.displayHeight;
      try {
        await gpu.prepareFrame(slot, frame, this.transformFor(loaded, width, height));
      } catch (error) {
        gpu.release(slot);
        throw error;
      }
      preprocessMs = performance.now() - t0;
    } finally {
      // copyExternalImageToTexture (or createImageBitmap) has taken its copy.
      frame.close();
    }
    const result = await this.runGpu(loaded, gpu, slot, width, height, options);
    result.timings.preprocessMs = preprocessMs;
    return result;
  }

  private async runGpu(loaded: Loaded, gpu: GpuFramePath, slot: number, width: number, height: number, options: WorkerDecodeOptions): Promise<WorkerResult> {
    try {
      const out = await gpu.run(slot, options.confidence);
      const t = performance.now();
      const predictions = this.decode(loaded, out.boxes, out.logits, [1, out.queries, 4], [1, out.queries, out.classes], width, height, options);
      return {
        predictions,
        timings: { preprocessMs: 0, inferenceMs: out.timings.waitMs + out.timings.runMs, decodeMs: out.timings.readMs + performance.now() - t },
      };
    } finally {
      gpu.release(slot);
    }
  }

  async inferTensor(data: Float32Array, frameWidth: number, frameHeight: number, options: WorkerDecodeOptions): Promise<WorkerResult> {
    const loaded = this.require();
    const expected = 3 * loaded.contract.inputSize ** 2;
    if (data.length !== expected) throw new RangeError(`tensor has ${data.length} values: expected ${expected} for [1,3,${loaded.contract.inputSize},${loaded.contract.inputSize}]`);
    const gpu = loaded.gpu;
    if (!gpu) return this.run(loaded, data, frameWidth, frameHeight, options);
    const slot = await gpu.acquire();
    try {
      gpu.prepareTensor(slot, data);
    } catch (error) {
      gpu.release(slot);
      throw error;
    }
    return this.runGpu(loaded, gpu, slot, frameWidth, frameHeight, options);
  }

  async preprocessOnly(frame: VideoFrame, path: PreprocessPath): Promise<Float32Array> {
    let loaded: Loaded;
    try {
      loaded = this.require();
    } catch (error) {
      frame.close();
      throw error;
    }
    const transform = this.transformFor(loaded, frame.displayWidth, frame.displayHeight);
    if (path === 'cpu') {
      try {
        return loaded.preprocessor.run(frame, transform);
      } finally {
        frame.close();
      }
    }
    const gpu = loaded.gpu;
    if (!gpu) {
      frame.close();
      throw new ModelError('preprocessOnly("gpu") needs the GPU frame path: load the model with backend "webgpu"');
    }
    let slot: number;
    try {
      slot = await gpu.acquire();
      try {
        await gpu.prepareFrame(slot, frame, transform);
      } catch (error) {
        gpu.release(slot);
        throw error;
      }
    } finally {
      frame.close();
    }
    try {
      return new Float32Array(await readGpuBuffer(gpu.device, gpu.inputBuffer(slot), 3 * loaded.contract.inputSize ** 2 * 4));
    } finally {
      gpu.release(slot);
    }
  }

  /** CPU tensor in, session.run, outputs to the CPU (WASM, or WebGPU without the GPU frame path). */
  private async run(loaded: Loaded, data: Float32Array, width: number, height: number, options: WorkerDecodeOptions): Promise<WorkerResult> {
    const { session, contract } = loaded;
    const size = contract.inputSize;
    const t1 = performance.now();
    const outputs = await session.run({ [contract.inputName]: new ort.Tensor('float32', data as Float32Array<ArrayBuffer>, [1, 3, size, size]) });
    const t2 = performance.now();
    const boxes = outputs[contract.boxesName]!;
    const logits = outputs[contract.logitsName]!;
    try {
      const boxData = await cpuData(boxes);
      const logitData = await cpuData(logits);
      const t3 = performance.now();
      const predictions = this.decode(loaded, boxData, logitData, boxes.dims, logits.dims, width, height, options);
      return { predictions, timings: { preprocessMs: 0, inferenceMs: t3 - t1, decodeMs: performance.now() - t3 } };
    } finally {
      for (const tensor of Object.values(outputs)) tensor.dispose();
    }
  }

  private decode(
    loaded: Loaded,
    boxes: Float32Array,
    logits: Float32Array,
    boxesDims: readonly number[],
    logitsDims: readonly number[],
    width: number,
    height: number,
    options: WorkerDecodeOptions,
  ): Prediction[] {
    const { contract, request } = loaded;
    const { classes } = checkRfDetrOutputs(boxesDims, logitsDims, contract);
    const mapping = (loaded.classes ??= classMappingFor(classes, request.classNames));
    const decoded = remapClasses(decodeRfDetr(boxes, logits, classes, contract.inputSize, this.transformFor(loaded, width, height), options), mapping);
    return decoded.map((d) => ({
      x: d.cx,
      y: d.cy,
      width: d.w,
      height: d.h,
      confidence: d.score,
      class: mapping.name(d.classId),
      class_id: d.classId,
      detection_id: crypto.randomUUID(),
    }));
  }

  async dispose(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    loaded?.gpu?.destroy();
    await loaded?.session.release();
  }
}

Comlink.expose(new InferenceWorker());
