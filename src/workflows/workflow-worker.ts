/**
 * The workflow worker (a module worker): compiles the specification, creates the model sessions, and runs the
 * whole graph on every frame, so frames and detections never cross threads between steps.
 */
import * as Comlink from 'comlink';
import type { BlockRuntime, VideoMetadata, WorkflowImageValue } from './blocks/block.ts';
import { compileWorkflow } from './compiler.ts';
import { WorkflowExecutor } from './executor.ts';
import { ModelRuntime, type ModelEvent, type ModelLoader, type SessionSettings, type WorkflowModelLoad } from './model-runtime.ts';
import type { StepTiming } from './profiler.ts';
import { prepareOutputs, type WorkflowResult } from './serialize.ts';
import { WorkflowError, serializeWorkflowError, type SerializedWorkflowError } from './workflow-errors.ts';

/** Everything the worker needs before the first frame. */
export interface WorkflowWorkerLoad extends SessionSettings {
  specification: unknown;
  /** Default WASM fileset location for MediaPipe blocks. */
  mediapipeWasmPath?: string;
  models: WorkflowModelLoad[];
  parameters: Record<string, unknown>;
  imageInputName: string;
  videoMetadataInputName: string;
  serializeResults: boolean;
  profiling: boolean;
  /** How many models loaded on demand (model_id fed by a step output) stay cached. Default 2. */
  dynamicModelCacheSize?: number;
}

/** What loading reports: each model's backend, or the workflow error. */
export type WorkflowWorkerLoadResult = { ok: true; models: { key: string; backend: string; reason: string; inputSize: number }[] } | { ok: false; error: SerializedWorkflowError };

/** One frame's result: the outputs and, when profiling, each step's timing. */
export type WorkflowWorkerFrameResult =
  | { ok: true; outputs: WorkflowResult; profile?: StepTiming[]; models?: ModelEvent[] }
  | { ok: false; error: SerializedWorkflowError; models?: ModelEvent[] };

/** What a parameter update reports. */
export type WorkflowWorkerUpdateResult = { ok: true } | { ok: false; error: SerializedWorkflowError };

/** The worker's API, called through comlink. */
export interface WorkflowWorkerApi {
  /** Compiles and loads; `loader` (a Comlink proxy) loads models steps name after the first frame. */
  load(request: WorkflowWorkerLoad, loader?: ModelLoader): Promise<WorkflowWorkerLoadResult>;
  /** Changes workflow parameter values from the next frame on (checked like workflowsParameters). */
  updateParameters(values: Record<string, unknown>): Promise<WorkflowWorkerUpdateResult>;
  /** Runs one frame (the worker takes ownership of `frame` and closes it). */
  run(frame: VideoFrame, video: VideoMetadata): Promise<WorkflowWorkerFrameResult>;
  dispose(): Promise<void>;
}

class WorkflowWorker implements WorkflowWorkerApi {
  private models = new ModelRuntime();
  private executor?: WorkflowExecutor;
  private request?: WorkflowWorkerLoad;
  private timings: StepTiming[] = [];

  async load(request: WorkflowWorkerLoad, loader?: ModelLoader): Promise<WorkflowWorkerLoadResult> {
    try {
      this.models = new ModelRuntime(loader ? (reference, key) => loader(reference, key) : undefined, request.dynamicModelCacheSize);
      const compiled = compileWorkflow(request.specification);
      const runtime: BlockRuntime = {
        detect: (key, image, options, reference) => this.models.detect(key, image, options, image.parentId, reference),
        newId: () => crypto.randomUUID(),
        mediapipeWasmPath: request.mediapipeWasmPath,
      };
      const origin = performance.timeOrigin;
      this.executor = new WorkflowExecutor(compiled, {
        runtime,
        parameters: request.parameters,
        imageInputName: request.imageInputName,
        videoMetadataInputName: request.videoMetadataInputName,
        onStep: request.profiling ? (step, type, start, end) => this.timings.push({ step, type, startUs: (origin + start) * 1000, durationUs: (end - start) * 1000 }) : undefined,
      });
      this.request = request;
      const models = await this.models.load(request.models, request);
      return { ok: true, models };
    } catch (error) {
      if (error instanceof WorkflowError) return { ok: false, error: serializeWorkflowError(error) };
      throw error;
    }
  }

  async run(frame: VideoFrame, video: VideoMetadata): Promise<WorkflowWorkerFrameResult> {
    const executor = this.executor;
    try {
      if (!executor || !this.request) throw new Error('the workflow worker has no workflow: load() must succeed first');
      this.timings = [];
      const image: WorkflowImageValue = {
        workflowImage: true,
        source: frame,
        width: frame.displayWidth,
        height: frame.displayHeight,
        parentId: `${video.video_identifier}:${video.frame_number}`,
        videoMetadata: video,
      };
      const raw = await executor.run(image, video);
      const transfer: Transferable[] = [];
      const outputs = await prepareOutputs(raw, this.request.serializeResults, transfer);
      const models = this.models.takeEvents();
      const result: WorkflowWorkerFrameResult = { ok: true, outputs, profile: this.request.profiling ? this.timings : undefined, models: models.length ? models : undefined };
      return Comlink.transfer(result, transfer);
    } catch (error) {
      if (error instanceof WorkflowError) return { ok: false, error: serializeWorkflowError(error), models: this.models.takeEvents() };
      throw error;
    } finally {
      frame.close();
    }
  }

  async updateParameters(values: Record<string, unknown>): Promise<WorkflowWorkerUpdateResult> {
    try {
      if (!this.executor) throw new Error('the workflow worker has no workflow: load() must succeed first');
      this.executor.updateParameters(values);
      return { ok: true };
    } catch (error) {
      if (error instanceof WorkflowError) return { ok: false, error: serializeWorkflowError(error) };
      throw error;
    }
  }

  async dispose(): Promise<void> {
    this.executor = undefined;
    await this.models.dispose();
  }
}

Comlink.expose(new WorkflowWorker());
