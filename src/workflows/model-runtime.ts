/**
 * Object detection models inside the workflow worker: one onnxruntime-web session per model, with the inference
 * worker's preprocessing (CpuPreprocessor), contract check and RF-DETR decoding reused as they are.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { classMappingFor, remapClasses, type ClassMapping } from '../inference/coco-classes.ts';
import { createSession } from '../inference/create-session.ts';
import { classWiseNms } from '../inference/nms.ts';
import { CpuPreprocessor } from '../inference/preprocess-cpu.ts';
import { computeResizeTransform } from '../inference/resize-transform.ts';
import { checkRfDetrContract, checkRfDetrOutputs, type RfDetrContract } from '../inference/rfdetr-contract.ts';
import { decodeRfDetr } from '../inference/rfdetr-decode.ts';
import { ModelError } from '../pipeline/errors.ts';
import type { Backend } from '../pipeline/types.ts';
import type { ModelReference, ModelSpec } from '../models/model-spec.ts';
import type { DetectOptions, WorkflowImageValue } from './blocks/block.ts';
import type { Detections } from './detections.ts';

/** One model to load in the worker: its bytes, and the input settings of its {@link ModelSpec}. */
export interface WorkflowModelLoad extends Pick<ModelSpec, 'inputSize' | 'classNames' | 'mean' | 'std' | 'resize' | 'staticCrop' | 'padGrey'> {
  /** The key steps use (see `modelKey`). */
  key: string;
  bytes: ArrayBuffer;
  label: string;
}

/** Loads a model the steps ask for after the first frame (a model_id that changes per frame): bytes and settings. */
export type ModelLoader = (reference: ModelReference, key: string) => Promise<WorkflowModelLoad>;

/** A model loaded on demand while frames run, and the sessions its arrival evicted (for status events). */
export interface ModelEvent {
  /** The model key (see `modelKey`). */
  key: string;
  /** Where the model came from (URL, credentials stripped). */
  label: string;
  /** The backend its session runs on. */
  backend: string;
  /** On-demand models released to make room (least recently used first). */
  released: { key: string; label: string }[];
}

/** How many models loaded on demand stay cached (least recently used first out). Models known before the first frame always stay. */
export const DEFAULT_DYNAMIC_MODEL_CACHE_SIZE = 2;

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

/**
 * The models of one workflow, by key. Those known before the first frame (literal or parameter `model_id`) are
 * loaded up front and stay; a `model_id` fed by a step output may name another model on any frame: it is loaded
 * then through `loader`, and the on-demand models form a small LRU cache whose evicted sessions are released.
 */
export class ModelRuntime {
  private readonly models = new Map<string, LoadedModel>();
  private readonly pinned = new Set<string>();
  /** On-demand keys, least recently used first. */
  private readonly recent: string[] = [];
  private readonly pendingLoads = new Map<string, Promise<LoadedModel>>();
  private settings?: SessionSettings;
  private events: ModelEvent[] = [];

  constructor(
    private readonly loader?: ModelLoader,
    private readonly dynamicCacheSize = DEFAULT_DYNAMIC_MODEL_CACHE_SIZE,
  ) {}

  private async createModel(request: WorkflowModelLoad, settings: SessionSettings): Promise<{ model: LoadedModel; backend: string; reason: string }> {
    const { session, backend, reason } = await createSession(request.bytes, { ...settings, label: request.label });
    let contract: RfDetrContract;
    try {
      contract = checkRfDetrContract(session, request.inputSize);
    } catch (error) {
      await session.release();
      throw error;
    }
    const preprocessor = new CpuPreprocessor(contract.inputSize, { mean: request.mean, std: request.std }, request.padGrey);
    return { model: { request, session, contract, preprocessor, input: new Float32Array(3 * contract.inputSize ** 2) }, backend, reason };
  }

  /** Creates every session; returns the backend each runs on. */
  async load(requests: readonly WorkflowModelLoad[], settings: SessionSettings): Promise<{ key: string; backend: string; reason: string; inputSize: number }[]> {
    this.settings = settings;
    const out: { key: string; backend: string; reason: string; inputSize: number }[] = [];
    for (const request of requests) {
      const { model, backend, reason } = await this.createModel(request, settings);
      this.models.set(request.key, model);
      this.pinned.add(request.key);
      out.push({ key: request.key, backend, reason, inputSize: model.contract.inputSize });
    }
    return out;
  }

  /** Models loaded or released since the last call. */
  takeEvents(): ModelEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  /** Keys of the sessions alive now. */
  loadedKeys(): string[] {
    return [...this.models.keys()];
  }

  /** The model for `key`: loaded already, or loaded now through the loader (once, even if asked twice). */
  private async modelFor(key: string, reference: ModelReference | undefined): Promise<LoadedModel> {
    const loaded = this.models.get(key);
    if (loaded) {
      this.touch(key);
      return loaded;
    }
    if (!this.loader || reference === undefined || !this.settings) {
      throw new ModelError(`model ${key} was not loaded before the first frame, and this runtime cannot load models on demand`);
    }
    let pending = this.pendingLoads.get(key);
    if (!pending) {
      const loader = this.loader;
      const settings = this.settings;
      pending = (async () => {
        const request = await loader(reference, key);
        const { model, backend } = await this.createModel({ ...request, key }, settings);
        this.models.set(key, model);
        this.touch(key);
        this.events.push({ key, label: request.label, backend, released: await this.evict() });
        return model;
      })().finally(() => this.pendingLoads.delete(key));
      this.pendingLoads.set(key, pending);
    }
    return pending;
  }

  private touch(key: string): void {
    if (this.pinned.has(key)) return;
    const at = this.recent.indexOf(key);
    if (at >= 0) this.recent.splice(at, 1);
    this.recent.push(key);
  }

  /** Releases the least recently used on-demand sessions beyond the cache size. */
  private async evict(): Promise<{ key: string; label: string }[]> {
    const released: { key: string; label: string }[] = [];
    while (this.recent.length > Math.max(1, this.dynamicCacheSize)) {
      const key = this.recent.shift()!;
      const model = this.models.get(key);
      this.models.delete(key);
      if (model) {
        released.push({ key, label: model.request.label });
        await model.session.release().catch(() => undefined);
      }
    }
    return released;
  }

  /** Runs model `key` on `image` and decodes detections in image pixels; loads the model first when a step names a new one. */
  async detect(key: string, image: WorkflowImageValue, options: DetectOptions, parentId: string, reference?: ModelReference): Promise<Detections> {
    const model = await this.modelFor(key, reference);
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
    this.recent.length = 0;
    await Promise.allSettled(models.map((m) => m.session.release()));
  }
}
