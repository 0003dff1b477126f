/** model_id per frame: from a parameter (updated at run time) or a step output; the model step passes the reference on. */
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../src/workflows/compiler.ts';
import { WorkflowExecutor } from '../../src/workflows/executor.ts';
import { modelKey, type BlockRuntime } from '../../src/workflows/blocks/block.ts';
import type { ModelReference } from '../../src/models/model-spec.ts';
import { applyOperations } from '../../src/workflows/query-language.ts';
import { RuntimeInputError, StepExecutionError } from '../../src/workflows/workflow-errors.ts';
import { dets, image, meta } from './workflows-helpers.ts';

const A = { url: '/a.onnx' };
const B = { url: '/b.onnx' };

function recordingRuntime(calls: { key: string; reference?: ModelReference }[]): BlockRuntime {
  return {
    detect: async (key, _image, _options, reference) => {
      calls.push({ key, reference });
      return dets([[0, 0, 10, 10, 0.9, 1]]);
    },
    newId: () => 'id',
  };
}

function spec(modelId: unknown, extraInputs: Record<string, unknown>[] = [], extraSteps: Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }, ...extraInputs],
    steps: [...extraSteps, { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect', images: '$inputs.image', model_id: modelId }],
    outputs: [{ type: 'JsonField', name: 'model', selector: '$steps.detect.model_id' }],
  };
}

describe('model_id per frame', () => {
  it('a parameter updated at run time switches the model from the next frame; a bad value is refused and changes nothing', async () => {
    const calls: { key: string; reference?: ModelReference }[] = [];
    const executor = new WorkflowExecutor(compileWorkflow(spec('$inputs.model', [{ type: 'WorkflowParameter', name: 'model', default_value: A }])), {
      runtime: recordingRuntime(calls),
    });
    expect((await executor.run(image(meta(1)), meta(1))).model).toBe('/a.onnx');
    executor.updateParameters({ model: B });
    expect((await executor.run(image(meta(2)), meta(2))).model).toBe('/b.onnx');
    expect(calls.map((c) => c.key)).toEqual([modelKey(A), modelKey(B)]);
    expect(calls[1]!.reference).toEqual(B);
    expect(() => executor.updateParameters({ model: 42 })).toThrow(RuntimeInputError);
    expect(() => executor.updateParameters({ model: 42 })).toThrow(/step "detect", property "model_id", value 42/);
    expect((await executor.run(image(meta(3)), meta(3))).model).toBe('/b.onnx');
  });

  it('a step output feeding model_id: the reference reaches the runtime on every frame; a value that is no model id is a StepExecutionError', async () => {
    const calls: { key: string; reference?: ModelReference }[] = [];
    const pick = { type: 'PropertyDefinition', name: 'pick', data: '$inputs.which', operations: [{ type: 'LookupTable', lookup_table: { a: A, b: B, bad: 7 } }] };
    const compiled = compileWorkflow(spec('$steps.pick.output', [{ type: 'WorkflowParameter', name: 'which', default_value: 'a' }], [pick]));
    const executor = new WorkflowExecutor(compiled, { runtime: recordingRuntime(calls) });
    await executor.run(image(meta(1)), meta(1));
    executor.updateParameters({ which: 'b' });
    await executor.run(image(meta(2)), meta(2));
    expect(calls.map((c) => c.reference)).toEqual([A, B]);
    executor.updateParameters({ which: 'bad' });
    const error = await executor.run(image(meta(3)), meta(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepExecutionError);
    expect((error as Error).message).toContain('step "detect"');
    expect((error as Error).message).toContain('model_id must be a model id or { url }, got 7');
  });

  it('LookupTable maps a value through its table (numbers and booleans by their text); a missing key says which keys exist', () => {
    const table = { lookup_table: { '2': 'two', true: 'yes', x: { url: '/x.onnx' } } };
    expect(applyOperations(2, [{ type: 'LookupTable', ...table }])).toBe('two');
    expect(applyOperations(true, [{ type: 'LookupTable', ...table }])).toBe('yes');
    expect(applyOperations('x', [{ type: 'LookupTable', ...table }])).toEqual({ url: '/x.onnx' });
    expect(() => applyOperations(3, [{ type: 'LookupTable', ...table }])).toThrow(/no entry for 3; its keys: 2, true, x/);
    expect(() => compileWorkflow(spec(A, [], [{ type: 'PropertyDefinition', name: 'p', data: '$inputs.image', operations: [{ type: 'LookupTable' }] }]))).toThrow(/step "p", property "operations"/);
  });
});
