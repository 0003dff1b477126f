import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../src/workflows/compiler.ts';
import {
  DuplicatedNameError,
  ExecutionGraphStructureError,
  InvalidReferenceTargetError,
  ReferenceTypeError,
  RuntimeInputError,
  WorkflowError,
  WorkflowSyntaxError,
} from '../../src/workflows/workflow-errors.ts';
import { WorkflowExecutor } from '../../src/workflows/executor.ts';
import type { BlockRuntime } from '../../src/workflows/blocks/block.ts';
import { fullSpec, seedSpec } from './workflows-specs.ts';

type Spec = ReturnType<typeof fullSpec> & { steps: Record<string, unknown>[]; inputs: Record<string, unknown>[]; outputs: Record<string, unknown>[] };
const full = () => fullSpec() as Spec;
const runtime: BlockRuntime = { detect: async () => Promise.reject(new Error('no model')), newId: () => 'id' };

function thrown(fn: () => unknown): WorkflowError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowError);
    return error as WorkflowError;
  }
  throw new Error('expected a WorkflowError, nothing was thrown');
}

describe('workflow compiler', () => {
  it('compiles the seed example: one step, every output of it', () => {
    const c = compileWorkflow(seedSpec());
    expect(c.steps.map((s) => s.name)).toEqual(['step_1']);
    expect(c.steps[0]!.type).toBe('roboflow_core/roboflow_object_detection_model@v1');
    expect(c.steps[0]!.literals).toMatchObject({ confidence: 0.4, iou_threshold: 0.3, max_detections: 300, class_agnostic_nms: false });
    expect(c.outputs[0]!.selector).toEqual({ kind: 'step_all', step: 'step_1', raw: '$steps.step_1.*' });
  });

  it('accepts the JSON text of a specification', () => {
    expect(compileWorkflow(JSON.stringify(seedSpec())).steps).toHaveLength(1);
  });

  it('orders steps topologically whatever their order in the file', () => {
    const spec = full();
    spec.steps.reverse();
    const order = compileWorkflow(spec).steps.map((s) => s.name);
    const before = (a: string, b: string) => expect(order.indexOf(a), `${a} before ${b} in ${order.join(',')}`).toBeLessThan(order.indexOf(b));
    before('detect', 'filter');
    before('filter', 'tracker');
    before('tracker', 'counter');
    before('tracker', 'zone_time');
    before('boxes', 'labels');
    before('labels', 'line');
    before('counter', 'line');
    expect(order).toHaveLength(9);
  });

  it('resolves v2 outputs, aliases and defaults', () => {
    const c = compileWorkflow(full());
    const detect = c.steps.find((s) => s.name === 'detect')!;
    expect(detect.outputs.map((o) => o.name)).toEqual(['inference_id', 'predictions', 'model_id']);
    const tracker = c.steps.find((s) => s.name === 'tracker')!;
    expect(tracker.literals).toMatchObject({ track_activation_threshold: 0.25, lost_track_buffer: 30, minimum_matching_threshold: 0.8, minimum_consecutive_frames: 1 });
  });
});

describe('workflow errors name the step, the property and the value', () => {
  it('WorkflowSyntaxError: unknown block type', () => {
    const spec = full();
    spec.steps[2]!.type = 'roboflow_core/no_such_block@v9';
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(WorkflowSyntaxError);
    expect(e.message).toContain('"tracker"');
    expect(e.message).toContain('"type"');
    expect(e.message).toContain('roboflow_core/no_such_block@v9');
  });

  it('WorkflowSyntaxError: a bad field value', () => {
    const spec = full();
    spec.steps[0]!.iou_threshold = 7;
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(WorkflowSyntaxError);
    expect([e.step, e.property, e.value]).toEqual(['"detect"', 'iou_threshold', 7]);
    expect(e.message).toMatch(/step "detect", property "iou_threshold", value 7: /);
  });

  it('WorkflowSyntaxError: an unknown field', () => {
    const spec = full();
    spec.steps[3]!.linesegment = [[0, 0], [1, 1]];
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(WorkflowSyntaxError);
    expect(e.message).toContain('"counter"');
    expect(e.message).toContain('"linesegment"');
  });

  it('DuplicatedNameError', () => {
    const spec = full();
    spec.steps[1]!.name = 'detect';
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(DuplicatedNameError);
    expect(e.message).toContain('steps[1]');
    expect(e.message).toContain('"name"');
    expect(e.message).toContain('"detect"');
  });

  it('InvalidReferenceTargetError', () => {
    const spec = full();
    spec.steps[2]!.detections = '$steps.nowhere.predictions';
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(InvalidReferenceTargetError);
    expect(e.message).toContain('"tracker"');
    expect(e.message).toContain('"detections"');
    expect(e.message).toContain('$steps.nowhere.predictions');
  });

  it('ReferenceTypeError: a kind mismatch on declared output kinds', () => {
    const spec = full();
    spec.steps[2]!.detections = '$steps.counter.count_in';
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(ReferenceTypeError);
    expect(e.message).toContain('"tracker"');
    expect(e.message).toContain('"detections"');
    expect(e.message).toContain('$steps.counter.count_in');
    expect(e.message).toContain('integer');
  });

  it('ExecutionGraphStructureError: a cycle', () => {
    const spec = full();
    spec.steps[1]!.predictions = '$steps.tracker.tracked_detections';
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(ExecutionGraphStructureError);
    expect(e.message).toMatch(/cycle/);
    expect(e.message).toMatch(/"(filter|tracker)"/);
    expect(e.message).toMatch(/property "(predictions|detections)"/);
    expect(e.message).toMatch(/\$steps\.(tracker|filter)\./);
  });

  it('ExecutionGraphStructureError: an output naming an unknown step output', () => {
    const spec = full();
    spec.outputs[1]!.selector = '$steps.counter.count_sideways';
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(ExecutionGraphStructureError);
    expect(e.message).toContain('"count_in"');
    expect(e.message).toContain('"selector"');
    expect(e.message).toContain('$steps.counter.count_sideways');
  });

  it('RuntimeInputError: a parameter with no default and no value', () => {
    const spec = full();
    delete spec.inputs[2]!.default_value;
    const compiled = compileWorkflow(spec);
    const e = thrown(() => new WorkflowExecutor(compiled, { runtime }));
    expect(e).toBeInstanceOf(RuntimeInputError);
    expect(e.message).toContain('"confidence"');
    expect(e.message).toContain('"default_value"');
    expect(e.message).toContain('value undefined');
    // Supplying it fixes it.
    expect(() => new WorkflowExecutor(compiled, { runtime, parameters: { confidence: 0.3 } })).not.toThrow();
  });

  it('RuntimeInputError: a parameter value the property rejects', () => {
    const e = thrown(() => new WorkflowExecutor(compileWorkflow(full()), { runtime, parameters: { confidence: 'high' } }));
    expect(e).toBeInstanceOf(RuntimeInputError);
    expect(e.message).toContain('"detect"');
    expect(e.message).toContain('"confidence"');
    expect(e.message).toContain('"high"');
  });
});
