/**
 * The errors a workflow raises, named as in Roboflow's Workflows engine. Every message names the step (or input /
 * output), the property and the offending value, so a user can find the mistake in the JSON.
 */

/** Where in the specification a problem is. */
export interface WorkflowErrorLocation {
  /** The step, input or output concerned (`steps[2] "counter"`, `inputs[0] "image"`, …); absent for top-level problems. */
  step?: string;
  /** The property concerned (`confidence`, `type`, `selector`, …). */
  property?: string;
  /** The offending value, as written in the specification. */
  value?: unknown;
}

/** Shortens a value for a message: JSON, at most 120 characters. */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function compose(summary: string, where: WorkflowErrorLocation): string {
  const parts: string[] = [];
  if (where.step !== undefined) parts.push(`step ${where.step}`);
  if (where.property !== undefined) parts.push(`property "${where.property}"`);
  if ('value' in where) parts.push(`value ${describeValue(where.value)}`);
  return parts.length > 0 ? `${parts.join(', ')}: ${summary}` : summary;
}

/** Base class of every workflow error: `step`, `property` and `value` tell where the problem is. */
export class WorkflowError extends Error {
  override readonly name: string = 'WorkflowError';
  /** The step, input or output concerned. */
  readonly step?: string;
  /** The property concerned. */
  readonly property?: string;
  /** The offending value. */
  readonly value?: unknown;
  /** The problem without the location prefix. */
  readonly summary: string;
  /** Whether a value was given (`value` may legitimately be `undefined` or `null`). */
  readonly hasValue: boolean;

  constructor(summary: string, where: WorkflowErrorLocation = {}, options?: { cause?: unknown }) {
    super(compose(summary, where), options);
    this.summary = summary;
    this.step = where.step;
    this.property = where.property;
    this.hasValue = 'value' in where;
    if (this.hasValue) this.value = where.value;
  }
}

/** The specification is malformed: an unknown block type, a missing or unknown field, a value of the wrong shape. */
export class WorkflowSyntaxError extends WorkflowError {
  override readonly name = 'WorkflowSyntaxError';
}

/** Two inputs, two steps or two outputs share a name. */
export class DuplicatedNameError extends WorkflowError {
  override readonly name = 'DuplicatedNameError';
}

/** A selector points at an input, a step or a step output that does not exist. */
export class InvalidReferenceTargetError extends WorkflowError {
  override readonly name = 'InvalidReferenceTargetError';
}

/** A selector points at something of a kind the property does not accept (checked on declared output kinds). */
export class ReferenceTypeError extends WorkflowError {
  override readonly name = 'ReferenceTypeError';
}

/** The graph cannot run: a cycle between steps, or an output that names an unknown step output. */
export class ExecutionGraphStructureError extends WorkflowError {
  override readonly name = 'ExecutionGraphStructureError';
}

/**
 * A step's inputs come at different dimensionality levels: e.g. one property reads the frame (one value per frame)
 * and another the output of a step that ran on crops (one value per crop). A block takes all its batch inputs at
 * one level.
 */
export class StepInputDimensionalityError extends WorkflowError {
  override readonly name = 'StepInputDimensionalityError';
}

/** A step mixes nested batches of different origins (e.g. the crops of two different crop steps). */
export class StepOutputLineageError extends WorkflowError {
  override readonly name = 'StepOutputLineageError';
}

/** An input has no value: a parameter without `default_value` that `workflowsParameters` does not supply. */
export class RuntimeInputError extends WorkflowError {
  override readonly name = 'RuntimeInputError';
}

/** A step failed while running on a frame (its block threw). */
export class StepExecutionError extends WorkflowError {
  override readonly name = 'StepExecutionError';
}

/** Every workflow error class by name, to rebuild errors that crossed a thread as plain objects. */
export const WORKFLOW_ERROR_CLASSES = {
  WorkflowError,
  WorkflowSyntaxError,
  DuplicatedNameError,
  InvalidReferenceTargetError,
  ReferenceTypeError,
  ExecutionGraphStructureError,
  StepInputDimensionalityError,
  StepOutputLineageError,
  RuntimeInputError,
  StepExecutionError,
} as const;

/** A workflow error as it crosses a thread (structured clone drops the class). */
export interface SerializedWorkflowError {
  name: keyof typeof WORKFLOW_ERROR_CLASSES;
  summary: string;
  step?: string;
  property?: string;
  value?: unknown;
  hasValue: boolean;
}

/** Turns a workflow error into plain data. */
export function serializeWorkflowError(error: WorkflowError): SerializedWorkflowError {
  const name = (error.name in WORKFLOW_ERROR_CLASSES ? error.name : 'WorkflowError') as SerializedWorkflowError['name'];
  let value: unknown;
  try {
    value = structuredClone(error.value);
  } catch {
    value = describeValue(error.value);
  }
  return { name, summary: error.summary, step: error.step, property: error.property, value, hasValue: error.hasValue };
}

/** Rebuilds the typed error from {@link serializeWorkflowError}'s data. */
export function deserializeWorkflowError(data: SerializedWorkflowError): WorkflowError {
  const Class = WORKFLOW_ERROR_CLASSES[data.name] ?? WorkflowError;
  const where: WorkflowErrorLocation = { step: data.step, property: data.property };
  if (data.hasValue) where.value = data.value;
  return new Class(data.summary, where);
}
