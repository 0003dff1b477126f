/**
 * The compiler: checks a specification (syntax, names, references, kinds) and turns it into a DAG of steps in
 * topological order, before the first frame. Every problem is a typed error naming the step, property and value.
 */
import * as v from 'valibot';
import type { BlockManifest, OutputSpec } from './blocks/block.ts';
import { findBlock, BLOCKS } from './blocks/registry.ts';
import { KIND, kindsCompatible, type Kind } from './kinds.ts';
import { looksLikeSelector, parseSelector, type Selector } from './selectors.ts';
import {
  DuplicatedNameError,
  ExecutionGraphStructureError,
  InvalidReferenceTargetError,
  ReferenceTypeError,
  StepInputDimensionalityError,
  StepOutputLineageError,
  WorkflowError,
  WorkflowSyntaxError,
} from './workflow-errors.ts';
import {
  WorkflowInputSchema,
  WorkflowOutputSchema,
  WorkflowSpecificationSchema,
  WorkflowStepSchema,
  describeIssues,
  type WorkflowInput,
  type WorkflowSpecification,
} from './workflow-schema.ts';

/** A compiled input. */
export interface CompiledInput {
  name: string;
  role: 'image' | 'video_metadata' | 'parameter';
  kinds: readonly Kind[];
  hasDefault: boolean;
  defaultValue?: unknown;
}

/** How a step property gets its value on each frame. */
export type PropertyBinding =
  | { kind: 'literal'; value: unknown }
  | { kind: 'selector'; selector: Selector }
  | { kind: 'dict'; entries: Record<string, PropertyBinding> };

/** A compiled step. */
export interface CompiledStep {
  name: string;
  /** The block's full identifier. */
  type: string;
  manifest: BlockManifest;
  /** Every property of the manifest, bound (defaults applied). */
  properties: Record<string, PropertyBinding>;
  /** Literal property values (for outputs and models). */
  literals: Record<string, unknown>;
  outputs: readonly OutputSpec[];
  /** Steps this one reads from. */
  dependsOn: string[];
  /**
   * The level of nesting the step runs at: 0 when it reads only parameters, 1 for one value per frame, 2 for one
   * value per crop of a frame (after a dynamic_crop step), and so on. The block runs once per element at that level.
   */
  dimensionality: number;
  /** The nesting of its outputs: `dimensionality` plus the block's `outputDimensionalityOffset`. */
  outputDimensionality: number;
  /** The steps that added the levels above 1 to the outputs (crop steps), outermost first. */
  lineage: string[];
  /** Properties (or `property.key` of dict properties) fed with batches at `dimensionality`, as paths. */
  batchInputs: string[][];
}

/** A compiled output. */
export interface CompiledOutput {
  name: string;
  selector: Selector;
  coordinatesSystem: 'own' | 'parent';
  /** Nesting of the value: 1 one per frame, 2 a list per frame (one per crop), 0 a parameter. */
  dimensionality: number;
}

/** A workflow ready to run: steps in topological order. */
export interface CompiledWorkflow {
  specification: WorkflowSpecification;
  inputs: CompiledInput[];
  steps: CompiledStep[];
  outputs: CompiledOutput[];
}

const label = (name: unknown, index: number, what: string) => (typeof name === 'string' && name !== '' ? `"${name}"` : `${what}[${index}]`);

function parseSpecification(input: unknown): Record<string, unknown> {
  let spec = input;
  if (typeof spec === 'string') {
    try {
      spec = JSON.parse(spec);
    } catch (error) {
      throw new WorkflowSyntaxError(`the specification is not valid JSON (${(error as Error).message})`, { property: 'specification', value: input });
    }
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new WorkflowSyntaxError('the specification must be an object with version, inputs, steps and outputs', { property: 'specification', value: spec });
  }
  const top = v.safeParse(WorkflowSpecificationSchema, spec);
  if (!top.success) {
    const { path, message } = describeIssues(top.issues);
    const property = path ?? 'specification';
    throw new WorkflowSyntaxError(message, { property, value: (spec as Record<string, unknown>)[property.split('.')[0]!] });
  }
  return spec as Record<string, unknown>;
}

function inputKinds(input: WorkflowInput): Kind[] {
  if (input.type === 'WorkflowImage' || input.type === 'InferenceImage') return [KIND.IMAGE];
  if (input.type === 'WorkflowVideoMetadata') return [KIND.VIDEO_METADATA];
  const kinds = ((input as { kind?: (string | { name: string })[] }).kind ?? []).map((k) => (typeof k === 'string' ? k : k.name));
  return kinds.length > 0 ? kinds : [KIND.WILDCARD];
}

/**
 * Parses one entry of the specification's `inputs`, `steps` or `outputs` with `schema`. A mismatch is a
 * WorkflowSyntaxError `invalid <what>: …` at `step`, naming the property at fault (`type` when the issue has no
 * path) and the entry's value under `valueKey(property)` (the property itself by default).
 */
function parseEntry<S extends v.GenericSchema>(schema: S, item: unknown, what: string, step: string, valueKey: (property: string) => string = (property) => property): v.InferOutput<S> {
  const parsed = v.safeParse(schema, item);
  if (!parsed.success) {
    const { path, message } = describeIssues(parsed.issues);
    const property = path ?? 'type';
    const value = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[valueKey(property)] : item;
    throw new WorkflowSyntaxError(`invalid ${what}: ${message}`, { step, property, value });
  }
  return parsed.output;
}

function compileInputs(raw: unknown[]): CompiledInput[] {
  const seen = new Set<string>();
  return raw.map((item, i) => {
    const where = label((item as { name?: unknown } | null)?.name, i, 'inputs');
    const input = parseEntry(WorkflowInputSchema, item, 'input', `inputs[${i}] ${where}`, (property) => property.split('.')[0]!) as WorkflowInput;
    if (seen.has(input.name)) throw new DuplicatedNameError('two inputs share this name', { step: `inputs[${i}]`, property: 'name', value: input.name });
    seen.add(input.name);
    const role = input.type === 'WorkflowVideoMetadata' ? 'video_metadata' : input.type === 'WorkflowImage' || input.type === 'InferenceImage' ? 'image' : 'parameter';
    const hasDefault = role === 'parameter' && 'default_value' in (item as object);
    return { name: input.name, role, kinds: inputKinds(input), hasDefault, defaultValue: hasDefault ? (input as { default_value?: unknown }).default_value : undefined };
  });
}

interface RawStep {
  index: number;
  name: string;
  where: string;
  manifest: BlockManifest;
  raw: Record<string, unknown>;
}

function checkStepEnvelopes(raw: unknown[], blocks: readonly BlockManifest[]): RawStep[] {
  const seen = new Set<string>();
  return raw.map((item, index) => {
    const where = label((item as { name?: unknown } | null)?.name, index, 'steps');
    const step = parseEntry(WorkflowStepSchema, item, 'step', where) as Record<string, unknown> & { type: string; name: string };
    if (seen.has(step.name)) throw new DuplicatedNameError('two steps share this name', { step: `steps[${index}]`, property: 'name', value: step.name });
    seen.add(step.name);
    const manifest = findBlock(step.type, blocks);
    if (!manifest) {
      throw new WorkflowSyntaxError(`unknown block type; known types: ${blocks.flatMap((b) => [b.type, ...b.aliases]).join(', ')}`, {
        step: `"${step.name}"`,
        property: 'type',
        value: step.type,
      });
    }
    return { index, name: step.name, where: `"${step.name}"`, manifest, raw: step };
  });
}

interface Target {
  kinds: readonly Kind[];
}

function resolveTarget(
  selector: Selector,
  inputs: Map<string, CompiledInput>,
  stepOutputs: Map<string, readonly OutputSpec[]>,
  where: { step: string; property: string; value: unknown },
): Target {
  if (selector.kind === 'input') {
    const input = inputs.get(selector.name);
    if (!input) throw new InvalidReferenceTargetError(`no input is named "${selector.name}"; inputs: ${[...inputs.keys()].join(', ') || 'none'}`, where);
    return { kinds: input.kinds };
  }
  const outputs = stepOutputs.get(selector.step);
  if (!outputs) throw new InvalidReferenceTargetError(`no step is named "${selector.step}"; steps: ${[...stepOutputs.keys()].join(', ') || 'none'}`, where);
  if (selector.kind === 'step_all') return { kinds: [KIND.DICTIONARY, KIND.WILDCARD] };
  const output = outputs.find((o) => o.name === selector.output);
  if (!output) {
    throw new InvalidReferenceTargetError(`step "${selector.step}" has no output "${selector.output}"; its outputs: ${outputs.map((o) => o.name).join(', ')}`, where);
  }
  return { kinds: output.kinds };
}

function checkLiteral(schema: v.GenericSchema, value: unknown, where: { step: string; property: string }): unknown {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) {
    const { path, message } = describeIssues(parsed.issues);
    throw new WorkflowSyntaxError(`invalid value${path ? ` at ${path}` : ''}: ${message}`, { ...where, value });
  }
  return parsed.output;
}

function bindProperty(
  step: RawStep,
  property: string,
  value: unknown,
  inputs: Map<string, CompiledInput>,
  stepOutputs: Map<string, readonly OutputSpec[]>,
  dependsOn: Set<string>,
): PropertyBinding {
  const spec = step.manifest.properties[property]!;
  const where = { step: step.where, property };
  const bindOne = (item: unknown, itemProperty: string): PropertyBinding => {
    const at = { step: step.where, property: itemProperty, value: item };
    if (looksLikeSelector(item)) {
      const selector = parseSelector(item);
      if (!selector) throw new WorkflowSyntaxError('malformed selector: expected $inputs.<name>, $steps.<step>.<output> or $steps.<step>.*', at);
      if (!spec.kinds) throw new WorkflowSyntaxError('this property does not accept selectors, only a literal value', at);
      const target = resolveTarget(selector, inputs, stepOutputs, at);
      if (!kindsCompatible(target.kinds, spec.kinds)) {
        throw new ReferenceTypeError(`the selector carries kind(s) [${target.kinds.join(', ')}] but the property accepts [${spec.kinds.join(', ')}]`, at);
      }
      if (selector.kind !== 'input') {
        if (selector.step === step.name) throw new ExecutionGraphStructureError('a step cannot read its own outputs (a cycle of one step)', at);
        dependsOn.add(selector.step);
      }
      return { kind: 'selector', selector };
    }
    if (!spec.literal) throw new WorkflowSyntaxError(`this property takes a selector of kind(s) [${(spec.kinds ?? []).join(', ')}], not a literal`, at);
    return { kind: 'literal', value: checkLiteral(spec.literal, item, { step: step.where, property: itemProperty }) };
  };
  if (spec.dictOfSelectors) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WorkflowSyntaxError('expected an object mapping names to selectors or values', { ...where, value });
    const entries: Record<string, PropertyBinding> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) entries[key] = bindOne(item, `${property}.${key}`);
    return { kind: 'dict', entries };
  }
  return bindOne(value, property);
}

function compileSteps(rawSteps: RawStep[], inputs: Map<string, CompiledInput>): CompiledStep[] {
  // First pass: literals and outputs (outputs may depend on literal properties).
  const literalsOf = new Map<string, Record<string, unknown>>();
  const stepOutputs = new Map<string, readonly OutputSpec[]>();
  for (const step of rawSteps) {
    const { manifest, raw } = step;
    const given: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'type' || key === 'name') continue;
      const canonical = manifest.properties[key] ? key : Object.keys(manifest.properties).find((p) => manifest.properties[p]!.aliases?.includes(key));
      if (!canonical) {
        throw new WorkflowSyntaxError(`unknown property for ${manifest.type}; its properties: ${Object.keys(manifest.properties).join(', ')}`, { step: step.where, property: key, value });
      }
      if (canonical in given) throw new WorkflowSyntaxError(`property given twice (as "${canonical}" and an alias)`, { step: step.where, property: key, value });
      given[canonical] = value;
    }
    for (const [property, spec] of Object.entries(manifest.properties)) {
      if (!(property in given) && spec.required) {
        throw new WorkflowSyntaxError(`missing required property of ${manifest.type}`, { step: step.where, property, value: undefined });
      }
    }
    literalsOf.set(step.name, given);
  }
  for (const step of rawSteps) {
    const given = literalsOf.get(step.name)!;
    const literals: Record<string, unknown> = {};
    for (const [property, spec] of Object.entries(step.manifest.properties)) {
      const value = property in given ? given[property] : spec.default;
      if (!looksLikeSelector(value) && value !== undefined && spec.literal && !spec.dictOfSelectors) {
        literals[property] = checkLiteral(spec.literal, value, { step: step.where, property });
      }
    }
    step.manifest.validate?.(literals, step.where);
    stepOutputs.set(step.name, step.manifest.outputs(literals));
  }
  // Second pass: bind every property.
  return rawSteps.map((step) => {
    const given = literalsOf.get(step.name)!;
    const dependsOn = new Set<string>();
    const properties: Record<string, PropertyBinding> = {};
    const literals: Record<string, unknown> = {};
    for (const [property, spec] of Object.entries(step.manifest.properties)) {
      const value = property in given ? given[property] : spec.default;
      if (value === undefined) continue;
      const binding = bindProperty(step, property, value, inputs, stepOutputs, dependsOn);
      properties[property] = binding;
      if (binding.kind === 'literal') literals[property] = binding.value;
    }
    return {
      name: step.name,
      type: step.manifest.type,
      manifest: step.manifest,
      properties,
      literals,
      outputs: stepOutputs.get(step.name)!,
      dependsOn: [...dependsOn],
      dimensionality: 1,
      outputDimensionality: 1,
      lineage: [],
      batchInputs: [],
    };
  });
}

/** Dimensionality of what a selector reads: inputs are per frame (1) or scalars (0); step outputs as computed. */
function selectorLevel(selector: Selector, inputs: Map<string, CompiledInput>, steps: Map<string, CompiledStep>): { dimensionality: number; lineage: string[] } {
  if (selector.kind === 'input') return { dimensionality: inputs.get(selector.name)?.role === 'parameter' ? 0 : 1, lineage: [] };
  const step = steps.get(selector.step);
  return step ? { dimensionality: step.outputDimensionality, lineage: step.lineage } : { dimensionality: 1, lineage: [] };
}

const describeLevel = (dimensionality: number, lineage: string[]) =>
  dimensionality <= 1 ? `level ${dimensionality} (${dimensionality === 0 ? 'a parameter' : 'one value per frame'})` : `level ${dimensionality} (one value per crop of ${lineage.map((l) => `"${l}"`).join(' → ')})`;

/**
 * Roboflow's dimensionality and lineage checks, in topological order: every batch input of a step must sit at the
 * same level and come from the same chain of crops; the outputs sit one level deeper after a cropping block.
 */
function assignDimensionality(steps: CompiledStep[], inputs: Map<string, CompiledInput>): void {
  const done = new Map<string, CompiledStep>();
  for (const step of steps) {
    const offsets = step.manifest.inputDimensionalityOffsets ?? {};
    const bindings: { path: string[]; raw: string; dimensionality: number; lineage: string[]; offset: number }[] = [];
    for (const [property, binding] of Object.entries(step.properties)) {
      const entries: [string[], PropertyBinding][] = binding.kind === 'dict' ? Object.entries(binding.entries).map(([k, b]) => [[property, k], b]) : [[[property], binding]];
      for (const [path, b] of entries) {
        if (b.kind !== 'selector') continue;
        const level = selectorLevel(b.selector, inputs, done);
        if (level.dimensionality > 0) bindings.push({ path, raw: b.selector.raw, ...level, offset: offsets[property] ?? 0 });
      }
    }
    // The level the step runs at: its reference property's, else the deepest of its inputs (less their offsets).
    const referenceName = step.manifest.dimensionalityReferenceProperty;
    const reference =
      bindings.find((b) => referenceName !== undefined && b.path[0] === referenceName) ??
      bindings.reduce<(typeof bindings)[number] | undefined>((best, b) => (!best || b.dimensionality - b.offset > best.dimensionality - best.offset ? b : best), undefined);
    const base = reference ? reference.dimensionality - reference.offset : 0;
    const baseLineage = reference ? reference.lineage.slice(0, reference.lineage.length - reference.offset) : [];
    const refText = reference ? `"${reference.path.join('.')}" (${reference.raw}) at ${describeLevel(reference.dimensionality, reference.lineage)}` : '';
    for (const b of bindings) {
      const where = { step: `"${step.name}"`, property: b.path.join('.'), value: b.raw };
      if (b.dimensionality - b.offset !== base) {
        const wanted = base + b.offset;
        throw new StepInputDimensionalityError(
          b.offset > 0
            ? `the property takes data one level deeper than the step runs at, so level ${wanted}, but it reads data at ${describeLevel(b.dimensionality, b.lineage)}; the step runs at level ${base} set by ${refText}`
            : `the property reads data at ${describeLevel(b.dimensionality, b.lineage)} but ${refText}; a block takes all its batch inputs at one level, so feed both from the same level (e.g. the crops and the predictions made on them)`,
          where,
        );
      }
      const lineage = b.lineage.slice(0, b.lineage.length - b.offset);
      if (lineage.join('/') !== baseLineage.join('/')) {
        const describe = (l: string[]) => (l.length ? `crops of ${l.map((x) => `"${x}"`).join(' → ')}` : 'the frame');
        throw new StepOutputLineageError(`the property reads ${describe(b.lineage)} but ${refText.replace(/ at level.*$/, '')} reads ${describe(reference!.lineage)}; their elements do not correspond one to one`, where);
      }
    }
    // Data read one level deeper than the step runs at needs a step level of 1 at least (a list per frame or deeper).
    for (const [property, extra] of Object.entries(offsets)) {
      const binding = step.properties[property];
      if (binding?.kind !== 'selector') continue;
      const level = selectorLevel(binding.selector, inputs, done);
      if (level.dimensionality - extra < 1) {
        throw new StepInputDimensionalityError(
          `the property takes data one level deeper than the step runs at, and a step runs at level 1 at least, so it needs level ${1 + extra} or deeper (e.g. values per crop after "dynamic_crop"), but it reads data at ${describeLevel(level.dimensionality, level.lineage)}`,
          { step: `"${step.name}"`, property, value: binding.selector.raw },
        );
      }
    }
    const offset = step.manifest.outputDimensionalityOffset ?? 0;
    step.dimensionality = base;
    step.outputDimensionality = Math.max(base, offset > 0 ? 1 : 0) + offset;
    step.lineage = offset > 0 ? [...baseLineage, step.name] : baseLineage;
    step.batchInputs = base >= 2 ? bindings.map((b) => b.path) : [];
    done.set(step.name, step);
  }
}

function findSelectorOf(step: CompiledStep, dependency: string): { property: string; value: string } {
  for (const [property, binding] of Object.entries(step.properties)) {
    const bindings = binding.kind === 'dict' ? Object.entries(binding.entries).map(([k, b]) => [`${property}.${k}`, b] as const) : [[property, binding] as const];
    for (const [p, b] of bindings) {
      if (b.kind === 'selector' && b.selector.kind !== 'input' && b.selector.step === dependency) return { property: p, value: b.selector.raw };
    }
  }
  return { property: 'unknown', value: dependency };
}

/** Kahn's algorithm; a leftover means a cycle, reported with the steps on it. */
function topologicalOrder(steps: CompiledStep[]): CompiledStep[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const indegree = new Map(steps.map((s) => [s.name, s.dependsOn.length]));
  const dependents = new Map<string, string[]>(steps.map((s) => [s.name, []]));
  for (const s of steps) for (const d of s.dependsOn) dependents.get(d)!.push(s.name);
  const ready = steps.filter((s) => s.dependsOn.length === 0).map((s) => s.name);
  const order: CompiledStep[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(byName.get(name)!);
    for (const next of dependents.get(name)!) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length === steps.length) return order;
  // Walk dependencies among the leftovers until a step repeats: that is a cycle.
  const left = new Set(steps.filter((s) => !order.includes(s)).map((s) => s.name));
  let current = [...left][0]!;
  const path: string[] = [];
  while (!path.includes(current)) {
    path.push(current);
    current = byName.get(current)!.dependsOn.find((d) => left.has(d))!;
  }
  const cycle = [...path.slice(path.indexOf(current)), current];
  const first = byName.get(cycle[0]!)!;
  const { property, value } = findSelectorOf(first, cycle[1]!);
  throw new ExecutionGraphStructureError(`the steps form a cycle: ${cycle.join(' → ')} (each reads the next one's output)`, { step: `"${first.name}"`, property, value });
}

function compileOutputs(raw: unknown[], inputs: Map<string, CompiledInput>, steps: CompiledStep[]): CompiledOutput[] {
  const seen = new Set<string>();
  const stepsByName = new Map(steps.map((s) => [s.name, s]));
  return raw.map((item, i) => {
    const where = `outputs[${i}] ${label((item as { name?: unknown } | null)?.name, i, 'outputs')}`;
    const output = parseEntry(WorkflowOutputSchema, item, 'output', where);
    if (seen.has(output.name)) throw new DuplicatedNameError('two outputs share this name', { step: `outputs[${i}]`, property: 'name', value: output.name });
    seen.add(output.name);
    const at = { step: where, property: 'selector', value: output.selector };
    const selector = parseSelector(output.selector);
    if (!selector) throw new WorkflowSyntaxError('malformed selector: expected $inputs.<name>, $steps.<step>.<output> or $steps.<step>.*', at);
    if (selector.kind === 'input') {
      if (!inputs.has(selector.name)) throw new InvalidReferenceTargetError(`no input is named "${selector.name}"`, at);
    } else {
      const step = stepsByName.get(selector.step);
      if (!step) throw new InvalidReferenceTargetError(`no step is named "${selector.step}"; steps: ${[...stepsByName.keys()].join(', ') || 'none'}`, at);
      if (selector.kind === 'step' && !step.outputs.some((o) => o.name === selector.output)) {
        throw new ExecutionGraphStructureError(`step "${selector.step}" has no output "${selector.output}"; its outputs: ${step.outputs.map((o) => o.name).join(', ')}`, at);
      }
    }
    const dimensionality = selector.kind === 'input' ? (inputs.get(selector.name)!.role === 'parameter' ? 0 : 1) : stepsByName.get(selector.step)!.outputDimensionality;
    return { name: output.name, selector, coordinatesSystem: output.coordinates_system ?? 'own', dimensionality };
  });
}

/**
 * Checks a specification (an object or its JSON text) and compiles it: inputs, steps in topological order,
 * outputs. Throws a {@link WorkflowError} subclass naming the step, the property and the value on any problem.
 */
export function compileWorkflow(specification: unknown, blocks: readonly BlockManifest[] = BLOCKS): CompiledWorkflow {
  try {
    const spec = parseSpecification(specification);
    const inputs = compileInputs(spec.inputs as unknown[]);
    const inputsByName = new Map(inputs.map((i) => [i.name, i]));
    const rawSteps = checkStepEnvelopes(spec.steps as unknown[], blocks);
    const steps = topologicalOrder(compileSteps(rawSteps, inputsByName));
    assignDimensionality(steps, inputsByName);
    const outputs = compileOutputs(spec.outputs as unknown[], inputsByName, steps);
    return { specification: spec as unknown as WorkflowSpecification, inputs, steps, outputs };
  } catch (error) {
    if (error instanceof WorkflowError) throw error;
    // A block's own check threw something else: still a syntax error of the specification, never a crash.
    throw new WorkflowSyntaxError(`the specification could not be compiled: ${(error as Error)?.message ?? String(error)}`, { property: 'specification' }, { cause: error });
  }
}
