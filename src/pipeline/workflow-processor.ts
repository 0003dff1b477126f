/**
 * Runs a workflow in a module worker that holds the compiled graph and the model sessions, so frames and
 * detections never cross threads between steps. One frame at a time (stateful blocks need frame order).
 */
import * as Comlink from 'comlink';
import { loadModel, type ModelProgress } from '../models/get-model.ts';
import type { ModelDtype, ModelReference } from '../models/model-spec.ts';
import { modelKey, type VideoMetadata } from '../workflows/blocks/block.ts';
import { compileWorkflow, type CompiledWorkflow } from '../workflows/compiler.ts';
import { WorkflowExecutor } from '../workflows/executor.ts';
import type { WorkflowModelLoad } from '../workflows/model-runtime.ts';
import { WorkflowProfiler } from '../workflows/profiler.ts';
import { fetchRegisteredWorkflow } from '../workflows/registered-workflow.ts';
import type { WorkflowResult } from '../workflows/serialize.ts';
import { RuntimeInputError, deserializeWorkflowError } from '../workflows/workflow-errors.ts';
import type { WorkflowWorkerApi, WorkflowWorkerFrameResult, WorkflowWorkerLoadResult, WorkflowWorkerUpdateResult } from '../workflows/workflow-worker.ts';
import { ModelError, WorkerError } from './errors.ts';
import { FpsMeter } from './fps-meter.ts';
import type { FrameProcessor, Notify, ProcessingSlot } from './frame-processor.ts';
import { Semaphore } from './semaphore.ts';
import { GuardedWorker } from '../inference/guarded-worker.ts';
import type { Backend } from './types.ts';

/** Options of {@link WorkflowProcessor}. */
export interface WorkflowProcessorOptions {
  /** The specification (object or JSON text); absent for a registered workflow. */
  specification?: unknown;
  /** A registered workflow to fetch instead. */
  registered?: { workspaceName: string; workflowId: string };
  parameters: Record<string, unknown>;
  imageInputName: string;
  videoMetadataInputName: string;
  serializeResults: boolean;
  profiling: boolean;
  profilerBufferSize: number;
  backend: Backend;
  threads?: number;
  wasmPaths?: string;
  mediapipeWasmPath?: string;
  apiKey?: string;
  apiUrl?: string;
  hubUrl?: string;
  dtype?: ModelDtype;
  onModelProgress?: (progress: ModelProgress) => void;
  inferenceTimeoutMs: number;
  modelLoadTimeoutMs: number;
}

const noRuntime = {
  detect: () => Promise.reject(new Error('not running')),
  newId: () => '',
};

/** Checks a specification and its runtime inputs without running anything: throws the typed workflow errors. */
export function checkWorkflow(specification: unknown, parameters: Record<string, unknown>, imageInputName: string, videoMetadataInputName: string): CompiledWorkflow {
  const compiled = compileWorkflow(specification);
  new WorkflowExecutor(compiled, { runtime: noRuntime, parameters, imageInputName, videoMetadataInputName });
  return compiled;
}

/** The models the steps need, resolved from literals or parameters. */
function requiredModels(compiled: CompiledWorkflow, parameters: Record<string, unknown>): ModelReference[] {
  const found = new Map<string, ModelReference>();
  for (const step of compiled.steps) {
    if (!step.manifest.modelOf) continue;
    const binding = step.properties.model_id;
    let value: unknown;
    if (binding?.kind === 'literal') value = binding.value;
    else if (binding?.kind === 'selector' && binding.selector.kind === 'input') {
      const input = compiled.inputs.find((i) => i.name === (binding.selector as { name: string }).name);
      value = input && Object.prototype.hasOwnProperty.call(parameters, input.name) ? parameters[input.name] : input?.defaultValue;
    } else if (binding?.kind === 'selector') continue; // a step output: known per frame, loaded on demand in the worker
    const reference = step.manifest.modelOf({ model_id: value });
    if (reference === undefined || (typeof reference !== 'string' && typeof reference !== 'object')) {
      throw new RuntimeInputError('model_id must be a model id or { url }: a literal, a workflow parameter or a step output', { step: `"${step.name}"`, property: 'model_id', value });
    }
    found.set(modelKey(reference), reference);
  }
  return [...found.values()];
}

function chooseThreads(requested: number | undefined): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!isolated) return 1;
  return requested ?? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

/** The {@link FrameProcessor} of `InferencePipeline.initWithWorkflow`. */
export class WorkflowProcessor implements FrameProcessor {
  readonly concurrency = 1;
  private readonly turn = new Semaphore(1);
  private worker?: GuardedWorker<WorkflowWorkerApi>;
  private readonly loading = new AbortController();
  private readonly fps = new Map<number, FpsMeter>();
  private notify?: Notify;
  /** Step timings of the last frames (when profiling). */
  readonly profiler: WorkflowProfiler;

  constructor(private readonly options: WorkflowProcessorOptions) {
    this.profiler = new WorkflowProfiler(options.profilerBufferSize);
  }

  async start(notify: Notify): Promise<void> {
    const o = this.options;
    let specification = o.specification;
    if (specification === undefined && o.registered) {
      notify({ severity: 'info', eventType: 'MODEL_LOADING', context: 'model', message: `fetching workflow ${o.registered.workspaceName}/${o.registered.workflowId}` });
      specification = await fetchRegisteredWorkflow({ ...o.registered, apiKey: o.apiKey ?? '', apiUrl: o.apiUrl, signal: this.loading.signal });
    }
    const compiled = checkWorkflow(specification, o.parameters, o.imageInputName, o.videoMetadataInputName);
    const models: WorkflowModelLoad[] = [];
    const transfer: ArrayBuffer[] = [];
    const fetchModel = async (reference: ModelReference): Promise<WorkflowModelLoad> => {
      const model = await loadModel(reference, {
        apiKey: o.apiKey,
        apiUrl: o.apiUrl,
        hubUrl: o.hubUrl,
        dtype: o.dtype,
        backend: o.backend,
        signal: this.loading.signal,
        onProgress: o.onModelProgress,
        onStatus: ({ timestamp: _t, ...update }) => notify(update),
      });
      const s = model.spec;
      return { key: modelKey(reference), bytes: model.bytes, label: s.url, inputSize: s.inputSize, classNames: s.classNames, mean: s.mean, std: s.std, resize: s.resize, staticCrop: s.staticCrop, padGrey: s.padGrey };
    };
    for (const reference of requiredModels(compiled, o.parameters)) {
      const model = await fetchModel(reference);
      models.push(model);
      transfer.push(model.bytes);
    }
    // Models a step names after the first frame (model_id fed by a step output or an updated parameter).
    const loader = Comlink.proxy(async (reference: ModelReference): Promise<WorkflowModelLoad> => {
      const model = await fetchModel(reference);
      return Comlink.transfer(model, [model.bytes]);
    });
    this.notify = notify;
    if (this.loading.signal.aborted) return;
    const worker = new GuardedWorker<WorkflowWorkerApi>(new Worker(new URL('../workflows/workflow-worker.ts', import.meta.url), { type: 'module', name: 'framewise-workflow' }), 'the workflow worker');
    this.worker = worker;
    const result = await worker.call<WorkflowWorkerLoadResult>('workflow load', o.modelLoadTimeoutMs, (api) =>
      api.load(
        Comlink.transfer(
          {
            specification: compiled.specification,
            models,
            parameters: o.parameters,
            imageInputName: o.imageInputName,
            videoMetadataInputName: o.videoMetadataInputName,
            serializeResults: o.serializeResults,
            profiling: o.profiling,
            backend: o.backend,
            numThreads: chooseThreads(o.threads),
            wasmPaths: o.wasmPaths,
            mediapipeWasmPath: o.mediapipeWasmPath,
          },
          transfer,
        ),
        loader,
      ),
    ).catch((error: unknown) => {
      throw error instanceof Error && error.name === 'ModelError' ? new ModelError(error.message) : error;
    });
    if (!result.ok) throw deserializeWorkflowError(result.error);
    for (const m of result.models) {
      notify({ severity: 'info', eventType: 'BACKEND_SELECTED', message: `workflow model on ${m.backend}: ${m.reason}`, payload: { backend: m.backend, reason: m.reason } });
    }
    notify({
      severity: 'info',
      eventType: 'MODEL_LOADED',
      message: `workflow compiled: ${compiled.steps.length} step(s) [${compiled.steps.map((s) => s.name).join(' → ')}], ${result.models.length} model(s)`,
      payload: { steps: compiled.steps.map((s) => s.name), models: result.models.map((m) => m.inputSize) },
    });
  }

  async acquire(): Promise<ProcessingSlot> {
    await this.turn.acquire();
    const worker = this.worker;
    return {
      run: async (frame, meta): Promise<WorkflowResult> => {
        if (!worker) {
          frame.close();
          throw new ModelError('the workflow is not loaded');
        }
        let meter = this.fps.get(meta.sourceId);
        if (!meter) this.fps.set(meta.sourceId, (meter = new FpsMeter()));
        const video: VideoMetadata = {
          video_identifier: String(meta.sourceId),
          frame_number: meta.frameId,
          frame_timestamp: meta.frameTimestamp,
          fps: meta.fps,
          measured_fps: meter.tick(),
          comes_from_video_file: meta.comesFromVideoFile,
        };
        if (worker.dead) {
          frame.close();
          throw new WorkerError(worker.dead);
        }
        const result = await worker.call<WorkflowWorkerFrameResult>('a frame', this.options.inferenceTimeoutMs, (api) => api.run(Comlink.transfer(frame, [frame as unknown as Transferable]), video));
        for (const m of result.models ?? []) {
          const released = m.released.length ? `; released ${m.released.map((r) => r.label).join(', ')}` : '';
          this.notify?.({ severity: 'info', eventType: 'MODEL_LOADED', context: 'model', message: `workflow model loaded on demand: ${m.label} on ${m.backend}${released}`, payload: { onDemand: true, key: m.key, backend: m.backend, released: m.released.map((r) => r.key) } });
        }
        if (!result.ok) throw deserializeWorkflowError(result.error);
        if (result.profile) this.profiler.add({ videoIdentifier: video.video_identifier, frameNumber: video.frame_number, steps: result.profile });
        return result.outputs;
      },
      release: () => this.turn.release(),
    };
  }

  /** Changes workflow parameter values from the next frame on; throws the typed workflow error when one does not fit. */
  async updateParameters(values: Record<string, unknown>): Promise<void> {
    const worker = this.worker;
    if (!worker) throw new ModelError('the workflow is not loaded');
    const result = await worker.call<WorkflowWorkerUpdateResult>('updateParameters', this.options.inferenceTimeoutMs, (api) => api.updateParameters(values));
    if (!result.ok) throw deserializeWorkflowError(result.error);
  }

  async close(): Promise<void> {
    this.loading.abort();
    this.turn.close(new Error('the pipeline was terminated'));
    if (this.worker && !this.worker.dead) await this.worker.call('dispose', 2000, (api) => api.dispose()).catch(() => undefined);
    this.worker?.kill('the pipeline was terminated');
  }
}
