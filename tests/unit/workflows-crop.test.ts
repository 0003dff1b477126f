/** dynamic_crop@v1, dimensionality levels and coordinates_system: parent, without a browser. */
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../src/workflows/compiler.ts';
import { WorkflowExecutor } from '../../src/workflows/executor.ts';
import type { BlockRuntime, WorkflowImageValue } from '../../src/workflows/blocks/block.ts';
import { serializeDetections, type Detections } from '../../src/workflows/detections.ts';
import { StepInputDimensionalityError, StepOutputLineageError, WorkflowError } from '../../src/workflows/workflow-errors.ts';
import { CAR, DOG, PERSON, isVisible, rectBox } from '../fixtures/ground-truth.ts';
import { dets, image, meta } from './workflows-helpers.ts';
import { COLOUR_BOX_MODEL } from './workflows-specs.ts';

/** Ground-truth boxes of a frame as [x0, y0, x1, y1, score, class]. */
function truth(frame: number): number[][] {
  return [PERSON, CAR, DOG].filter((s) => isVisible(s, frame)).map((s) => {
    const b = rectBox(s, frame);
    return [b.x0, b.y0, b.x1, b.y1, 0.9, s.class_id];
  });
}

/** A "model" that sees the frame's rectangles: on a crop, those inside it, in the crop's pixels. */
function truthRuntime(calls: WorkflowImageValue[] = []): BlockRuntime {
  return {
    detect: async (_key, img) => {
      calls.push(img);
      const rows = truth(img.videoMetadata.frame_number);
      const ox = img.origin?.root.offsetX ?? 0;
      const oy = img.origin?.root.offsetY ?? 0;
      const inside = rows
        .map((r) => [Math.max(r[0]! - ox, 0), Math.max(r[1]! - oy, 0), Math.min(r[2]! - ox, img.width), Math.min(r[3]! - oy, img.height), r[4]!, r[5]!])
        .filter((r) => r[2]! > r[0]! && r[3]! > r[1]!);
      const d = dets(inside);
      d.data.detection_id = inside.map((_, i) => `${img.parentId}/d${i}`);
      return { ...d, image: { width: img.width, height: img.height } };
    },
    newId: () => 'id',
  };
}

type Spec = { version: string; inputs: Record<string, unknown>[]; steps: Record<string, unknown>[]; outputs: Record<string, unknown>[] };

/** detect → crop around each box → detect again on each crop; outputs in own and parent coordinates. */
function cropSpec(): Spec {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [
      { type: 'ObjectDetectionModel', name: 'detect', image: '$inputs.image', model_id: COLOUR_BOX_MODEL },
      { type: 'DynamicCrop', name: 'crop', images: '$inputs.image', predictions: '$steps.detect.predictions' },
      { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect2', images: '$steps.crop.crops', model_id: COLOUR_BOX_MODEL },
    ],
    outputs: [
      { type: 'JsonField', name: 'frame', selector: '$steps.detect.predictions' },
      { type: 'JsonField', name: 'own', selector: '$steps.detect2.predictions' },
      { type: 'JsonField', name: 'parent', selector: '$steps.detect2.predictions', coordinates_system: 'parent' },
      { type: 'JsonField', name: 'crops', selector: '$steps.crop.crops' },
      { type: 'JsonField', name: 'all_parent', selector: '$steps.detect2.*', coordinates_system: 'parent' },
    ],
  };
}

function thrown(fn: () => unknown): WorkflowError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowError);
    return error as WorkflowError;
  }
  throw new Error('expected a WorkflowError');
}

describe('dynamic_crop@v1 and dimensionality', () => {
  it('compiles: the crop step adds a level, the detection on crops runs one level deeper', () => {
    const c = compileWorkflow(cropSpec());
    const step = (name: string) => c.steps.find((s) => s.name === name)!;
    expect(step('crop').type).toBe('roboflow_core/dynamic_crop@v1');
    expect([step('detect').dimensionality, step('detect').outputDimensionality]).toEqual([1, 1]);
    expect([step('crop').dimensionality, step('crop').outputDimensionality, step('crop').lineage]).toEqual([1, 2, ['crop']]);
    expect([step('detect2').dimensionality, step('detect2').outputDimensionality, step('detect2').lineage]).toEqual([2, 2, ['crop']]);
    expect(step('detect2').batchInputs).toEqual([['images']]);
    expect(c.outputs.map((o) => [o.name, o.dimensionality, o.coordinatesSystem])).toEqual([
      ['frame', 1, 'own'],
      ['own', 2, 'own'],
      ['parent', 2, 'parent'],
      ['crops', 2, 'own'],
      ['all_parent', 2, 'parent'],
    ]);
  });

  it('runs the model once per crop: own coordinates are the crop\'s, parent ones the frame\'s', async () => {
    const calls: WorkflowImageValue[] = [];
    const executor = new WorkflowExecutor(compileWorkflow(cropSpec()), { runtime: truthRuntime(calls) });
    for (const f of [1, 20]) {
      calls.length = 0;
      const video = meta(f);
      const out = await executor.run(image(video), video);
      const rows = truth(f);
      expect(calls).toHaveLength(1 + rows.length);
      const crops = out.crops as WorkflowImageValue[];
      const own = out.own as Detections[];
      const parent = out.parent as Detections[];
      expect(crops).toHaveLength(rows.length);
      rows.forEach((r, i) => {
        const crop = crops[i]!;
        expect([crop.width, crop.height]).toEqual([r[2]! - r[0]!, r[3]! - r[1]!]);
        expect(crop.origin!.parent).toEqual({ parentId: `0:${f}`, offsetX: r[0], offsetY: r[1], width: 640, height: 360 });
        expect(crop.parentId, "a crop is named after the detection it was cut around").toBe(`0:${f}/d${i}`);
        // own: the crop's pixels (0, 0, w, h); parent: the frame's box.
        expect(Array.from(own[i]!.xyxy)).toEqual([0, 0, r[2]! - r[0]!, r[3]! - r[1]!]);
        expect(own[i]!.image).toEqual({ width: crop.width, height: crop.height });
        expect(Array.from(parent[i]!.xyxy)).toEqual(r.slice(0, 4));
        expect(parent[i]!.image).toEqual({ width: 640, height: 360 });
        expect(serializeDetections(parent[i]!).predictions[0]!.parent_id).toBe(`0:${f}`);
        expect((out.all_parent as { predictions: Detections }[])[i]!.predictions.xyxy[0]).toBe(r[0]);
      });
    }
  });

  it('a crop of a crop adds another level and parent coordinates go back to the frame', async () => {
    const spec = cropSpec();
    spec.steps.push(
      { type: 'Crop', name: 'crop2', image: '$steps.crop.crops', detections: '$steps.detect2.predictions' },
      { type: 'ObjectDetectionModel', name: 'detect3', images: '$steps.crop2.crops', model_id: COLOUR_BOX_MODEL },
    );
    spec.outputs = [
      { type: 'JsonField', name: 'own', selector: '$steps.detect3.predictions' },
      { type: 'JsonField', name: 'parent', selector: '$steps.detect3.predictions', coordinates_system: 'parent' },
    ];
    const c = compileWorkflow(spec);
    expect(c.steps.find((s) => s.name === 'detect3')!.lineage).toEqual(['crop', 'crop2']);
    expect(c.outputs[0]!.dimensionality).toBe(3);
    const video = meta(20);
    const out = await new WorkflowExecutor(c, { runtime: truthRuntime() }).run(image(video), video);
    const parent = out.parent as Detections[][];
    truth(20).forEach((r, i) => expect(Array.from(parent[i]![0]!.xyxy)).toEqual(r.slice(0, 4)));
    expect(Array.from((out.own as Detections[][])[0]![0]!.xyxy.slice(0, 2))).toEqual([0, 0]);
  });

  it('an empty box gives a null crop and no model call for it', async () => {
    const runtime = truthRuntime();
    const calls: WorkflowImageValue[] = [];
    const flat: BlockRuntime = {
      ...runtime,
      detect: async (key, img, options) => {
        calls.push(img);
        if (!img.origin) return dets([[10, 10, 10.2, 50, 0.9, 1], [100, 100, 150, 140, 0.9, 3]]);
        return runtime.detect(key, img, options);
      },
    };
    const video = meta(1);
    const out = await new WorkflowExecutor(compileWorkflow(cropSpec()), { runtime: flat }).run(image(video), video);
    expect((out.crops as unknown[])[0]).toBeNull();
    expect((out.own as unknown[])[0]).toBeNull();
    expect((out.parent as unknown[])[0]).toBeNull();
    expect((out.crops as WorkflowImageValue[])[1]!.width).toBe(50);
    expect(calls).toHaveLength(2);
  });
});

describe('dimensionality errors name the step, the property and the selector', () => {
  it('StepInputDimensionalityError: a tracker fed the frame and detections made on crops', () => {
    const spec = cropSpec();
    spec.steps.push({ type: 'roboflow_core/byte_tracker@v3', name: 'tracker', image: '$inputs.image', detections: '$steps.detect2.predictions' });
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(StepInputDimensionalityError);
    expect([e.step, e.property, e.value]).toEqual(['"tracker"', 'image', '$inputs.image']);
    expect(e.message).toContain('"detections" ($steps.detect2.predictions) at level 2');
    expect(e.message).toContain('"crop"');
  });

  it('StepInputDimensionalityError: a dict entry (operations_parameters) at the wrong level', () => {
    const spec = cropSpec();
    spec.steps.push({
      type: 'DetectionsFilter',
      name: 'filter',
      predictions: '$steps.detect2.predictions',
      operations: [{ type: 'SequenceLength' }],
      operations_parameters: { frame: '$steps.detect.predictions' },
    });
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(StepInputDimensionalityError);
    expect([e.step, e.property, e.value]).toEqual(['"filter"', 'operations_parameters.frame', '$steps.detect.predictions']);
  });

  it('StepOutputLineageError: crops of one crop step with detections made on another one\'s crops', () => {
    const spec = cropSpec();
    spec.steps.push(
      { type: 'DynamicCrop', name: 'crop_b', images: '$inputs.image', predictions: '$steps.detect.predictions' },
      { type: 'BoundingBoxVisualization', name: 'boxes', image: '$steps.crop_b.crops', predictions: '$steps.detect2.predictions' },
    );
    const e = thrown(() => compileWorkflow(spec));
    expect(e).toBeInstanceOf(StepOutputLineageError);
    expect(e.step).toBe('"boxes"');
    expect(['image', 'predictions']).toContain(e.property);
    expect(e.message).toContain('"crop_b"');
  });

  it('parameters (scalars) go with any level', () => {
    const spec = cropSpec();
    spec.inputs.push({ type: 'WorkflowParameter', name: 'confidence', default_value: 0.5 });
    spec.steps[2]!.confidence = '$inputs.confidence';
    expect(compileWorkflow(spec).steps.find((s) => s.name === 'detect2')!.dimensionality).toBe(2);
  });
});

describe('detections_stitch@v1: predictions made on crops back into one set per frame', () => {
  const stitchSpec = (extra: Record<string, unknown> = {}): Spec => {
    const spec = cropSpec();
    spec.steps.push({ type: 'roboflow_core/detections_stitch@v1', name: 'stitch', reference_image: '$inputs.image', predictions: '$steps.detect2.predictions', ...extra });
    spec.outputs = [{ type: 'JsonField', name: 'stitched', selector: '$steps.stitch.predictions' }];
    return spec;
  };

  it('runs at the frame level (predictions one level deeper) and can feed frame-level steps such as a tracker', () => {
    const spec = stitchSpec();
    spec.steps.push({ type: 'roboflow_core/byte_tracker@v3', name: 'tracker', image: '$inputs.image', detections: '$steps.stitch.predictions' });
    const c = compileWorkflow(spec);
    const stitch = c.steps.find((s) => s.name === 'stitch')!;
    expect([stitch.dimensionality, stitch.outputDimensionality, stitch.lineage]).toEqual([1, 1, []]);
    expect(c.outputs[0]!.dimensionality).toBe(1);
  });

  it('gives the frame-level boxes back, in frame coordinates, with the frame as parent', async () => {
    const executor = new WorkflowExecutor(compileWorkflow(stitchSpec()), { runtime: truthRuntime() });
    for (const f of [1, 20, 55]) {
      const video = meta(f);
      const stitched = (await executor.run(image(video), video)).stitched as Detections;
      expect(Array.from(stitched.xyxy), `frame ${f}`).toEqual(truth(f).flatMap((r) => r.slice(0, 4)));
      expect(stitched.image).toEqual({ width: 640, height: 360 });
      expect(stitched.origin).toBeUndefined();
      expect(new Set(stitched.data.parent_id as string[])).toEqual(new Set([`0:${f}`]));
    }
  });

  it('overlaps between crops: nms keeps the best, nmm merges (union box, area-weighted score), none keeps both', async () => {
    // Two overlapping frame-level boxes (IoU 1/3); inside each crop the "model" sees the whole crop.
    const runtime: BlockRuntime = {
      detect: async (_key, img) => {
        if (!img.origin) return dets([[0, 0, 100, 100, 0.9, 1], [50, 0, 150, 100, 0.9, 1]]);
        return { ...dets([[0, 0, img.width, img.height, img.origin.parent.offsetX === 0 ? 0.8 : 0.6, 1]]), image: { width: img.width, height: img.height } };
      },
      newId: () => 'id',
    };
    const stitched = async (strategy: string) => {
      const executor = new WorkflowExecutor(compileWorkflow(stitchSpec({ overlap_filtering_strategy: strategy, iou_threshold: 0.3 })), { runtime });
      return (await executor.run(image(meta(1)), meta(1))).stitched as Detections;
    };
    const none = await stitched('none');
    expect(Array.from(none.xyxy)).toEqual([0, 0, 100, 100, 50, 0, 150, 100]);
    const nms = await stitched('nms');
    expect(Array.from(nms.xyxy)).toEqual([0, 0, 100, 100]);
    expect(nms.confidence[0]).toBeCloseTo(0.8, 6);
    const nmm = await stitched('nmm');
    expect(Array.from(nmm.xyxy)).toEqual([0, 0, 150, 100]);
    expect(nmm.confidence[0]).toBeCloseTo(0.7, 6);
  });

  it('StepInputDimensionalityError when predictions are not one level below reference_image', () => {
    const atFrame = stitchSpec();
    atFrame.steps[atFrame.steps.length - 1]!.predictions = '$steps.detect.predictions';
    const e = thrown(() => compileWorkflow(atFrame));
    expect(e).toBeInstanceOf(StepInputDimensionalityError);
    expect([e.step, e.property, e.value]).toEqual(['"stitch"', 'predictions', '$steps.detect.predictions']);
    expect(e.message).toContain('one level deeper');
    const onCrops = stitchSpec({ reference_image: '$steps.crop.crops' });
    const e2 = thrown(() => compileWorkflow(onCrops));
    expect(e2).toBeInstanceOf(StepInputDimensionalityError);
    expect([e2.step, e2.property]).toEqual(['"stitch"', 'predictions']);
  });
});

describe('dimension_collapse@v1', () => {
  /** cropSpec plus a collapse of the per-crop predictions (and crops) into one list per frame. */
  function collapseSpec(data = '$steps.detect2.predictions'): Spec {
    const spec = cropSpec();
    spec.steps.push({ type: 'DimensionCollapse', name: 'collapse', data });
    spec.outputs.push({ type: 'JsonField', name: 'collapsed', selector: '$steps.collapse.output' });
    return spec;
  }

  it('compiles: the output sits one level above data (per crop → per frame)', () => {
    const c = compileWorkflow(collapseSpec());
    const step = c.steps.find((s) => s.name === 'collapse')!;
    expect(step.type).toBe('roboflow_core/dimension_collapse@v1');
    expect([step.dimensionality, step.outputDimensionality, step.lineage, step.batchInputs]).toEqual([1, 1, [], []]);
    expect(c.outputs.find((o) => o.name === 'collapsed')!.dimensionality).toBe(1);
    // Its output is a frame-level value again: a frame-level step may read it with the frame.
    expect(compileWorkflow(collapseSpec('$steps.crop.crops')).steps.find((s) => s.name === 'collapse')!.outputDimensionality).toBe(1);
  });

  it('gathers the predictions made on each crop into one list per frame', async () => {
    const executor = new WorkflowExecutor(compileWorkflow(collapseSpec()), { runtime: truthRuntime() });
    for (const f of [1, 20]) {
      const video = meta(f);
      const out = await executor.run(image(video), video);
      const rows = truth(f);
      const collapsed = out.collapsed as Detections[];
      expect(Array.isArray(collapsed)).toBe(true);
      expect(collapsed).toHaveLength(rows.length);
      expect(collapsed).toEqual(out.own);
      rows.forEach((r, i) => expect(Array.from(collapsed[i]!.xyxy)).toEqual([0, 0, r[2]! - r[0]!, r[3]! - r[1]!]));
    }
  });

  it('a crop of a crop collapses one level: level 3 → a list per crop of the first crop step', () => {
    const spec = collapseSpec('$steps.detect3.predictions');
    spec.steps.splice(
      3,
      0,
      { type: 'Crop', name: 'crop2', image: '$steps.crop.crops', detections: '$steps.detect2.predictions' },
      { type: 'ObjectDetectionModel', name: 'detect3', images: '$steps.crop2.crops', model_id: COLOUR_BOX_MODEL },
    );
    const step = compileWorkflow(spec).steps.find((s) => s.name === 'collapse')!;
    expect([step.dimensionality, step.outputDimensionality, step.lineage, step.batchInputs]).toEqual([2, 2, ['crop'], [['data']]]);
  });

  it('StepInputDimensionalityError when data is at the frame level or a parameter (nothing to collapse)', () => {
    const e = thrown(() => compileWorkflow(collapseSpec('$steps.detect.predictions')));
    expect(e).toBeInstanceOf(StepInputDimensionalityError);
    expect([e.step, e.property, e.value]).toEqual(['"collapse"', 'data', '$steps.detect.predictions']);
    expect(e.message).toContain('level 1 (one value per frame)');
    const withParameter = collapseSpec('$inputs.threshold');
    withParameter.inputs.push({ type: 'WorkflowParameter', name: 'threshold', default_value: 0.5 });
    const e2 = thrown(() => compileWorkflow(withParameter));
    expect(e2).toBeInstanceOf(StepInputDimensionalityError);
    expect([e2.step, e2.property]).toEqual(['"collapse"', 'data']);
    expect(e2.message).toContain('level 0 (a parameter)');
  });
});
