/**
 * Roboflow's workflow specification v1: types and the valibot schema of its top level (`version`, `inputs`,
 * `steps`, `outputs`). Each step's own fields are checked against its block's manifest by the compiler.
 */
import * as v from 'valibot';

/** An image input (`WorkflowImage`, alias `InferenceImage`): the frame. */
export interface WorkflowImageInput {
  /** `WorkflowImage` or its alias `InferenceImage`. */
  type: 'WorkflowImage' | 'InferenceImage';
  /** The input's name (selectors use `$inputs.<name>`). */
  name: string;
}

/** The per-frame video metadata input. */
export interface WorkflowVideoMetadataInput {
  /** Always `WorkflowVideoMetadata`. */
  type: 'WorkflowVideoMetadata';
  /** The input's name. */
  name: string;
}

/** A parameter input (`WorkflowParameter`, alias `InferenceParameter`), filled from `workflowsParameters` or `default_value`. */
export interface WorkflowParameterInput {
  /** `WorkflowParameter` or its alias `InferenceParameter`. */
  type: 'WorkflowParameter' | 'InferenceParameter';
  /** The input's name. */
  name: string;
  /** The value used when `workflowsParameters` does not name this input. */
  default_value?: unknown;
  /** Kinds the value carries (for kind checks). Default: any. */
  kind?: (
    | string
    | {
        /** The kind's name. */
        name: string;
      }
  )[];
}

/** One workflow input. */
export type WorkflowInput = WorkflowImageInput | WorkflowVideoMetadataInput | WorkflowParameterInput;

/** One step: a block `type` (full identifier or alias), a unique `name`, and the block's properties. */
export interface WorkflowStep {
  /** Block identifier (`roboflow_core/byte_tracker@v3`) or alias (`ObjectDetectionModel`). */
  type: string;
  /** Unique step name (selectors use `$steps.<name>.<output>`). */
  name: string;
  [property: string]: unknown;
}

/** One output: `selector` names a step output (or `$steps.s.*`, or an input). */
export interface WorkflowJsonFieldOutput {
  /** Always `JsonField`. */
  type: 'JsonField';
  /** The key of this output in each result. */
  name: string;
  /** What to output: `$steps.s.out`, `$steps.s.*` or `$inputs.name`. */
  selector: string;
  /** `own` (default) or `parent`: detections made on crops stay in the crop's pixels, or move back into the frame's. */
  coordinates_system?: 'own' | 'parent';
}

/** A workflow specification, version 1. */
export interface WorkflowSpecification {
  /** Specification version, e.g. `1.0`. */
  version: string;
  /** The inputs. */
  inputs: WorkflowInput[];
  /** The steps, in any order (they run in dependency order). */
  steps: WorkflowStep[];
  /** The outputs each result carries. */
  outputs: WorkflowJsonFieldOutput[];
}

const name = v.pipe(v.string(), v.minLength(1, 'a name must not be empty'));

/** The schema of one input. */
export const WorkflowInputSchema = v.variant('type', [
  v.object({ type: v.picklist(['WorkflowImage', 'InferenceImage']), name }),
  v.object({ type: v.literal('WorkflowVideoMetadata'), name }),
  v.object({
    type: v.picklist(['WorkflowParameter', 'InferenceParameter']),
    name,
    default_value: v.optional(v.unknown()),
    kind: v.optional(v.array(v.union([v.string(), v.looseObject({ name: v.string() })]))),
  }),
]);

/** The schema of one step's envelope (block-specific fields are checked by the compiler). */
export const WorkflowStepSchema = v.looseObject({ type: v.pipe(v.string(), v.minLength(1, 'a type must not be empty')), name });

/** The schema of one output. */
export const WorkflowOutputSchema = v.object({
  type: v.literal('JsonField'),
  name,
  selector: v.string(),
  coordinates_system: v.optional(v.picklist(['own', 'parent'])),
});

/** The schema of a whole specification's top level. */
export const WorkflowSpecificationSchema = v.looseObject({
  version: v.optional(v.union([v.string(), v.number()])),
  inputs: v.array(v.unknown()),
  steps: v.array(v.unknown()),
  outputs: v.array(v.unknown()),
});

/** Formats valibot issues as one line: `path: message`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): { path: string | undefined; message: string } {
  const first = issues[0];
  if (!first) return { path: undefined, message: 'invalid value' };
  const path = v.getDotPath(first) ?? undefined;
  // A union's own message is vague; its nested issues say what was wrong.
  const nested = first.issues?.[0];
  const message = nested && first.type === 'union' ? `${first.message} (${nested.message})` : first.message;
  return { path, message };
}
