/**
 * The executor: runs a compiled workflow on one frame, step by step in topological order, with one block
 * instance per step kept across frames (stateful blocks keep their state per video inside).
 */
import * as v from 'valibot';
import { isWorkflowImage, type BlockInstance, type BlockRuntime, type VideoMetadata, type WorkflowImageValue } from './blocks/block.ts';
import { detectionsToRootCoordinates, isDetections } from './detections.ts';
import type { CompiledWorkflow, PropertyBinding } from './compiler.ts';
import type { Selector } from './selectors.ts';
import { RuntimeInputError, StepExecutionError, WorkflowError, describeValue } from './workflow-errors.ts';
import { describeIssues } from './workflow-schema.ts';

/** Options of {@link WorkflowExecutor}. */
export interface ExecutorOptions {
  runtime: BlockRuntime;
  /** Values of `WorkflowParameter` inputs, by name (`workflowsParameters`). */
  parameters?: Readonly<Record<string, unknown>>;
  /** Name of the image input the frames feed. Default 'image'. */
  imageInputName?: string;
  /** Name of the video metadata input. Default 'video_metadata'. */
  videoMetadataInputName?: string;
  /** Called after each step with its start and end (`performance.now()` milliseconds). */
  onStep?: (step: string, type: string, startMs: number, endMs: number) => void;
}

/** The raw (typed) outputs of one frame, by output name. */
export type RawWorkflowOutputs = Record<string, unknown>;

/** Resolves every runtime input before the first frame, or throws {@link RuntimeInputError}. */
function resolveParameters(compiled: CompiledWorkflow, options: ExecutorOptions): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const given = options.parameters ?? {};
  const imageName = options.imageInputName ?? 'image';
  const metadataName = options.videoMetadataInputName ?? 'video_metadata';
  for (const input of compiled.inputs) {
    if (input.role === 'image' && input.name !== imageName) {
      throw new RuntimeInputError(`the pipeline feeds frames to the image input "${imageName}" (imageInputName), so this input would have no value`, {
        step: `input "${input.name}"`,
        property: 'name',
        value: input.name,
      });
    }
    if (input.role === 'video_metadata' && input.name !== metadataName) {
      throw new RuntimeInputError(`the pipeline feeds video metadata to "${metadataName}" (videoMetadataInputName), so this input would have no value`, {
        step: `input "${input.name}"`,
        property: 'name',
        value: input.name,
      });
    }
    if (input.role !== 'parameter') continue;
    if (Object.prototype.hasOwnProperty.call(given, input.name)) values.set(input.name, given[input.name]);
    else if (input.hasDefault) values.set(input.name, input.defaultValue);
    else {
      throw new RuntimeInputError('the parameter has no default_value and workflowsParameters does not supply it', {
        step: `input "${input.name}"`,
        property: 'default_value',
        value: undefined,
      });
    }
  }
  // Parameters feeding a property must be valid literals for it.
  for (const step of compiled.steps) {
    for (const [property, binding] of Object.entries(step.properties)) {
      const spec = step.manifest.properties[property]!;
      const check = (b: PropertyBinding, at: string) => {
        if (b.kind !== 'selector' || b.selector.kind !== 'input' || !values.has(b.selector.name) || !spec.literal) return;
        const value = values.get(b.selector.name);
        const parsed = v.safeParse(spec.literal, value);
        if (!parsed.success) {
          throw new RuntimeInputError(`parameter "${b.selector.name}" is not a valid value here: ${describeIssues(parsed.issues).message}`, { step: `"${step.name}"`, property: at, value });
        }
      };
      if (binding.kind === 'dict') for (const [k, b] of Object.entries(binding.entries)) check(b, `${property}.${k}`);
      else check(binding, property);
    }
  }
  return values;
}

/** Applies `pick` to each outputs dict inside `nesting` levels of arrays (null elements stay null). */
function project(value: unknown, nesting: number, pick: (outputs: Record<string, unknown>) => unknown): unknown {
  if (nesting === 0) return value === undefined ? undefined : value === null ? null : pick(value as Record<string, unknown>);
  return Array.isArray(value) ? value.map((v) => project(v, nesting - 1, pick)) : null;
}

function getPath(values: Record<string, unknown>, path: readonly string[]): unknown {
  const first = values[path[0]!];
  return path.length === 1 ? first : (first as Record<string, unknown> | undefined)?.[path[1]!];
}

function setPath(values: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  if (path.length === 1) return { ...values, [path[0]!]: value };
  return { ...values, [path[0]!]: { ...(values[path[0]!] as Record<string, unknown>), [path[1]!]: value } };
}

/** `coordinates_system: parent`: detections made on crops move into the frame's coordinates, wherever they sit in the value. */
function toParentCoordinates(value: unknown): unknown {
  if (isDetections(value)) return detectionsToRootCoordinates(value);
  if (Array.isArray(value)) return value.map(toParentCoordinates);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && !isWorkflowImage(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toParentCoordinates(v)]));
  }
  return value;
}

/** Runs a compiled workflow frame by frame. */
export class WorkflowExecutor {
  private readonly instances = new Map<string, BlockInstance>();
  private parameters: Map<string, unknown>;
  private given: Readonly<Record<string, unknown>>;

  /** Throws {@link RuntimeInputError} when an input can have no value. */
  constructor(
    readonly compiled: CompiledWorkflow,
    private readonly options: ExecutorOptions,
  ) {
    this.given = options.parameters ?? {};
    this.parameters = resolveParameters(compiled, options);
    for (const step of compiled.steps) this.instances.set(step.name, step.manifest.create(step.name));
  }

  /**
   * Changes parameter values from the next frame on (the others keep theirs). Checked as at construction: throws
   * {@link RuntimeInputError} naming the step and property a value does not fit, and then nothing changes. A
   * `model_id` parameter naming a new model makes the model step load it on its next frame.
   */
  updateParameters(values: Readonly<Record<string, unknown>>): void {
    for (const name of Object.keys(values)) {
      if (!this.compiled.inputs.some((i) => i.role === 'parameter' && i.name === name)) {
        const known = this.compiled.inputs.filter((i) => i.role === 'parameter').map((i) => i.name);
        throw new RuntimeInputError(`no WorkflowParameter input is named "${name}" (the workflow's parameters: ${known.join(', ') || 'none'})`, {
          step: `input "${name}"`,
          property: 'name',
          value: name,
        });
      }
    }
    const given = { ...this.given, ...values };
    this.parameters = resolveParameters(this.compiled, { ...this.options, parameters: given });
    this.given = given;
  }

  /** Runs every step on one frame and returns the workflow's outputs (typed: detections, images, numbers). */
  async run(image: WorkflowImageValue, video: VideoMetadata): Promise<RawWorkflowOutputs> {
    // Per step: its outputs dict, nested in (dimensionality - 1) levels of arrays when it ran on crops.
    const results = new Map<string, { nesting: number; value: unknown }>();
    const input = (name: string): unknown => {
      const found = this.compiled.inputs.find((i) => i.name === name);
      if (found?.role === 'image') return image;
      if (found?.role === 'video_metadata') return video;
      return this.parameters.get(name);
    };
    const select = (selector: Selector): unknown => {
      if (selector.kind === 'input') return input(selector.name);
      const stored = results.get(selector.step);
      if (!stored) return undefined;
      return project(stored.value, stored.nesting, (outputs) => (selector.kind === 'step_all' ? { ...outputs } : outputs[selector.output]));
    };
    const resolve = (binding: PropertyBinding): unknown => {
      if (binding.kind === 'literal') return binding.value;
      if (binding.kind === 'selector') return select(binding.selector);
      return Object.fromEntries(Object.entries(binding.entries).map(([k, b]) => [k, resolve(b)]));
    };
    for (const step of this.compiled.steps) {
      const inputs: Record<string, unknown> = {};
      for (const [property, binding] of Object.entries(step.properties)) inputs[property] = resolve(binding);
      const instance = this.instances.get(step.name)!;
      const context = { step: step.name, video, runtime: this.options.runtime };
      const nesting = Math.max(step.dimensionality - 1, 0);
      const runNested = async (depth: number, values: Record<string, unknown>): Promise<unknown> => {
        // An element that does not exist (an empty crop) gives no outputs, as in the reference.
        if (step.batchInputs.some((path) => getPath(values, path) == null)) return null;
        if (depth === 0) return instance.run(values, context);
        const lists = step.batchInputs.map((path) => getPath(values, path) as unknown[]);
        const length = lists[0]!.length;
        if (lists.some((l) => !Array.isArray(l) || l.length !== length)) {
          throw new TypeError(`its batch inputs (${step.batchInputs.map((p) => p.join('.')).join(', ')}) do not have one element each per crop`);
        }
        const out: unknown[] = [];
        for (let i = 0; i < length; i++) {
          let element = values;
          step.batchInputs.forEach((path, k) => (element = setPath(element, path, lists[k]![i])));
          out.push(await runNested(depth - 1, element));
        }
        return out;
      };
      const start = performance.now();
      let outputs: unknown;
      try {
        outputs = await runNested(nesting, inputs);
      } catch (error) {
        if (error instanceof WorkflowError) throw error;
        throw new StepExecutionError(`${step.type} failed on frame ${video.frame_number}: ${(error as Error)?.message ?? describeValue(error)}`, { step: `"${step.name}"`, property: 'run', value: video.frame_number }, { cause: error });
      }
      this.options.onStep?.(step.name, step.type, start, performance.now());
      results.set(step.name, { nesting, value: outputs });
    }
    const out: RawWorkflowOutputs = {};
    for (const output of this.compiled.outputs) {
      const value = select(output.selector);
      out[output.name] = output.coordinatesSystem === 'parent' ? toParentCoordinates(value) : value;
    }
    return out;
  }
}
