/**
 * Object detection models inside the workflow worker: one onnxruntime-web session per model, with the inference
 * worker's preprocessing (CpuPreprocessor), contract check and RF-DETR decoding reused as they are.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { classMappingFor, remapClasses, type ClassMapping } from '../inference/coco-classes.ts';
import { createSession } from '../inference/create-session.ts';
import { classWiseNms } from '../inference/nms.ts';
import { CpuPreprocessor } from '../inference/preprocess-cpu.ts';
import { computeResizeTransform, type ResizeMode, type StaticCrop } from '../inference/resize-transform.ts';
import { checkRfDetrContract, checkRfDetrOutputs, type RfDetrContract } from '../inference/rfdetr-contract.ts';
import { decodeRfDetr } from '../inference/rfdetr-decode.ts';
import { ModelError } from '../pipeline/errors.ts';
import type { Backend } from '../pipeline/types.ts';
import type { DetectOptions, WorkflowImageValue } from './blocks/block.ts';
import type { Detections } from './detections.ts';

/** One model to load in the worker. */
export interface WorkflowModelLoad {
  /** The key steps use (see `modelKey`). */
  key: string;
  bytes: ArrayBuffer;
  label: string;
  inputSize?: number;
  classNames?: string[];
  mean: [number, number, number];
  std: [number, number, number];
  resize: ResizeMode;
  staticCrop?: StaticCrop;
  padGrey: number;
}

/** Session settings shared by the models. */
export interface SessionSettings {
  backend: Backend;
  numThreads: number;
  wasmPaths?: string;
}

interface LoadedModel {
  request: WorkflowModelLoad;
  session: ort.InferenceSession;
  contract: RfDetrContract;
  preprocessor: CpuPreprocessor;
  input: Float32Array;
  classes?: ClassMapping;
}

/** The models of one workflow, by key. */
export class ModelRuntime {
  private readonly models = new Map<string, LoadedModel>();

  /** Creates every session; returns the backend each runs on. */
  async load(requests: readonly WorkflowModelLoad[], settings: SessionSettings): Promise<{ key: string; backend: string; reason: string; inputSize: number }[]> {
    const out: { key: string; backend: string; reason: string; inputSize: number }[] = [];
    for (const request of requests) {
      const { session, backend, reason } = await createSession(request.bytes, { ...settings, label: request.label });
      let contract: RfDetrContract;
      try {
        contract = checkRfDetrContract(session, request.inputSize);
      } catch (error) {
        await session.release();
        throw error;
      }
      const preprocessor = new CpuPreprocessor(contract.inputSize, { mean: request.mean, std: request.std }, request.padGrey);
      this.models.set(request.key, { request, session, contract, preprocessor, input: new Float32Array(3 * contract.inputSize ** 2) });
      out.push({ key: request.key, backend, reason, inputSize: contract.inputSize });
    }
    return out;
  }

  /** Runs model `key` on `image` and decodes detections in image pixels. */
  async detect(key: string, image: WorkflowImageValue, options: DetectOptions, parentId: string): Promise<Detections> {
    const model = this.models.get(key);
    if (!model) throw new ModelError(`model ${key} was not loaded before the first frame (a model_id that changes per frame is not supported)`);
    if (!image.source) throw new TypeError('the image has no pixels');
    const { request, contract, session } = model;
    const size = contract.inputSize;
    const transform = computeResizeTransform(image.width, image.height, size, request.resize, request.staticCrop);
    model.preprocessor.run(image.source, transform, model.input);
    const outputs = await session.run({ [contract.inputName]: new ort.Tensor('float32', model.input as Float32Array<ArrayBuffer>, [1, 3, size, size]) });
    try {
      const boxes = outputs[contract.boxesName]!;
      const logits = outputs[contract.logitsName]!;
      const { classes } = checkRfDetrOutputs(boxes.dims, logits.dims, contract);
      const mapping = (model.classes ??= classMappingFor(classes, request.classNames));
      let decoded = remapClasses(
        decodeRfDetr(boxes.data as Float32Array, logits.data as Float32Array, classes, size, transform, {
          confidence: options.confidence,
          maxDetections: options.maxDetections,
          iouThreshold: options.classAgnosticNms ? undefined : options.iouThreshold,
        }),
        mapping,
      );
      if (options.classAgnosticNms) {
        const kept = new Set(classWiseNms(decoded.map((d, i) => ({ ...d, classId: 0, index: i })), options.iouThreshold).map((d) => d.index));
        decoded = decoded.filter((_, i) => kept.has(i));
      }
      const names = decoded.map((d) => mapping.name(d.classId));
      const keep = options.classFilter ? decoded.map((_, i) => i).filter((i) => options.classFilter!.includes(names[i]!)) : decoded.map((_, i) => i);
      const xyxy = new Float32Array(keep.length * 4);
      keep.forEach((i, k) => xyxy.set([decoded[i]!.x0, decoded[i]!.y0, decoded[i]!.x1, decoded[i]!.y1], k * 4));
      return {
        xyxy,
        confidence: Float32Array.from(keep, (i) => decoded[i]!.score),
        classId: Int32Array.from(keep, (i) => decoded[i]!.classId),
        data: { class_name: keep.map((i) => names[i]!), detection_id: keep.map(() => crypto.randomUUID()), parent_id: keep.map(() => parentId) },
        image: { width: image.width, height: image.height },
      };
    } finally {
      for (const tensor of Object.values(outputs)) tensor.dispose();
    }
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    const models = [...this.models.values()];
    this.models.clear();
    await Promise.allSettled(models.map((m) => m.session.release()));
  }
}
