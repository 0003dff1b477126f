/**
 * The executor: runs a compiled workflow on one frame, step by step in topological order, with one block
 * instance per step kept across frames (stateful blocks keep their state per video inside).
 */
import * as v from 'valibot';
import type { BlockInstance, BlockRuntime, VideoMetadata, WorkflowImageValue } from './blocks/block.ts';
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

/** Runs a compiled workflow frame by frame. */
export class WorkflowExecutor {
  private readonly instances = new Map<string, BlockInstance>();
  private readonly parameters: Map<string, unknown>;

  /** Throws {@link RuntimeInputError} when an input can have no value. */
  constructor(
    readonly compiled: CompiledWorkflow,
    private readonly options: ExecutorOptions,
  ) {
    this.parameters = resolveParameters(compiled, options);
    for (const step of compiled.steps) this.instances.set(step.name, step.manifest.create(step.name));
  }

  /** Runs every step on one frame and returns the workflow's outputs (typed: detections, images, numbers). */
  async run(image: WorkflowImageValue, video: VideoMetadata): Promise<RawWorkflowOutputs> {
    const results = new Map<string, Record<string, unknown>>();
    const input = (name: string): unknown => {
      const found = this.compiled.inputs.find((i) => i.name === name);
      if (found?.role === 'image') return image;
      if (found?.role === 'video_metadata') return video;
      return this.parameters.get(name);
    };
    const select = (selector: Selector): unknown => {
      if (selector.kind === 'input') return input(selector.name);
      const outputs = results.get(selector.step);
      if (selector.kind === 'step_all') return outputs ? { ...outputs } : undefined;
      return outputs?.[selector.output];
    };
    const resolve = (binding: PropertyBinding): unknown => {
      if (binding.kind === 'literal') return binding.value;
      if (binding.kind === 'selector') return select(binding.selector);
      return Object.fromEntries(Object.entries(binding.entries).map(([k, b]) => [k, resolve(b)]));
    };
    for (const step of this.compiled.steps) {
      const inputs: Record<string, unknown> = {};
      for (const [property, binding] of Object.entries(step.properties)) inputs[property] = resolve(binding);
      const start = performance.now();
      let outputs: Record<string, unknown>;
      try {
        outputs = await this.instances.get(step.name)!.run(inputs, { step: step.name, video, runtime: this.options.runtime });
      } catch (error) {
        if (error instanceof WorkflowError) throw error;
        throw new StepExecutionError(`${step.type} failed on frame ${video.frame_number}: ${(error as Error)?.message ?? describeValue(error)}`, { step: `"${step.name}"`, property: 'run', value: video.frame_number }, { cause: error });
      }
      this.options.onStep?.(step.name, step.type, start, performance.now());
      results.set(step.name, outputs);
    }
    const out: RawWorkflowOutputs = {};
    for (const output of this.compiled.outputs) out[output.name] = select(output.selector);
    return out;
  }
}
