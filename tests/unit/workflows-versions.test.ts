/** Older block versions the reference still accepts: byte_tracker@v1/@v2 and line_counter@v1, run through the executor. */
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../src/workflows/compiler.ts';
import { WorkflowExecutor } from '../../src/workflows/executor.ts';
import type { BlockRuntime } from '../../src/workflows/blocks/block.ts';
import type { Detections } from '../../src/workflows/detections.ts';
import { ReferenceTypeError, WorkflowSyntaxError } from '../../src/workflows/workflow-errors.ts';
import { CAR, DOG, FRAME_COUNT, PERSON, isVisible, rectBox } from '../fixtures/ground-truth.ts';
import { dets, image, meta } from './workflows-helpers.ts';
import { COLOUR_BOX_MODEL } from './workflows-specs.ts';

/** A runtime whose "model" returns the ground-truth rectangles of the frame being processed. */
function truthRuntime(): BlockRuntime {
  return {
    detect: async (_key, img) => {
      const f = img.videoMetadata.frame_number;
      const rows = [PERSON, CAR, DOG].filter((s) => isVisible(s, f)).map((s) => {
        const b = rectBox(s, f);
        return [b.x0, b.y0, b.x1, b.y1, 0.9, s.class_id];
      });
      return dets(rows);
    },
    newId: () => 'id',
  };
}

const LINE = [
  [200, 0],
  [200, 360],
];

/** detection → trackers v1, v2, v3 → line counters v1 and v2, side by side. */
function versionsSpec(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [
      { type: 'WorkflowImage', name: 'image' },
      { type: 'WorkflowVideoMetadata', name: 'video_metadata' },
    ],
    steps: [
      { type: 'ObjectDetectionModel', name: 'detect', image: '$inputs.image', model_id: COLOUR_BOX_MODEL },
      { type: 'ByteTracker', name: 't1', metadata: '$inputs.video_metadata', predictions: '$steps.detect.predictions' },
      { type: 'roboflow_core/byte_tracker@v2', name: 't2', image: '$inputs.image', detections: '$steps.detect.predictions' },
      { type: 'roboflow_core/byte_tracker@v3', name: 't3', image: '$inputs.image', detections: '$steps.detect.predictions' },
      { type: 'LineCounter', name: 'c1', metadata: '$inputs.video_metadata', detections: '$steps.t1.tracked_detections', line_segment: LINE },
      { type: 'roboflow_core/line_counter@v2', name: 'c2', image: '$inputs.image', detections: '$steps.t3.tracked_detections', line_segment: LINE, triggering_anchor: 'CENTER' },
    ],
    outputs: [
      { type: 'JsonField', name: 't1', selector: '$steps.t1.tracked_detections' },
      { type: 'JsonField', name: 't2', selector: '$steps.t2.tracked_detections' },
      { type: 'JsonField', name: 't3', selector: '$steps.t3.tracked_detections' },
      { type: 'JsonField', name: 'c1', selector: '$steps.c1.*' },
      { type: 'JsonField', name: 'c2_in', selector: '$steps.c2.count_in' },
      { type: 'JsonField', name: 'c2_out', selector: '$steps.c2.count_out' },
    ],
  };
}

describe('byte_tracker@v1/@v2 and line_counter@v1', () => {
  it('compile with the reference manifests: outputs, aliases, defaults', () => {
    const c = compileWorkflow(versionsSpec());
    const step = (name: string) => c.steps.find((s) => s.name === name)!;
    expect(step('t1').type).toBe('roboflow_core/byte_tracker@v1');
    expect(step('t1').outputs.map((o) => o.name)).toEqual(['tracked_detections']);
    expect(step('t2').outputs.map((o) => o.name)).toEqual(['tracked_detections']);
    expect(step('t3').outputs.map((o) => o.name)).toEqual(['tracked_detections', 'new_instances', 'already_seen_instances']);
    expect(step('t2').literals).toMatchObject({ track_activation_threshold: 0.25, lost_track_buffer: 30, minimum_matching_threshold: 0.8, minimum_consecutive_frames: 1 });
    expect(step('c1').type).toBe('roboflow_core/line_counter@v1');
    expect(step('c1').outputs.map((o) => o.name)).toEqual(['count_in', 'count_out']);
    expect(step('c1').literals.triggering_anchor).toBe('CENTER');
  });

  it('v1 and v2 track exactly like v3; line_counter@v1 counts like @v2 over the fixture video', async () => {
    const executor = new WorkflowExecutor(compileWorkflow(versionsSpec()), { runtime: truthRuntime() });
    let last: Record<string, unknown> = {};
    for (let f = 1; f <= FRAME_COUNT; f++) {
      const video = meta(f);
      last = await executor.run(image(video), video);
      const ids = (name: string) => Array.from((last[name] as Detections).trackerId!);
      expect(ids('t1'), `frame ${f}`).toEqual(ids('t3'));
      expect(ids('t2'), `frame ${f}`).toEqual(ids('t3'));
      const c1 = last.c1 as { count_in: number; count_out: number };
      expect(Object.keys(c1).sort(), 'v1 outputs only the counts').toEqual(['count_in', 'count_out']);
      expect([c1.count_in, c1.count_out], `frame ${f}`).toEqual([last.c2_in, last.c2_out]);
    }
    expect([(last.c1 as { count_in: number }).count_in, (last.c1 as { count_out: number }).count_out]).toEqual([2, 1]);
  });

  it('byte_tracker@v1 keeps state per video_identifier of its metadata input, and honours frame_rate', async () => {
    const spec = versionsSpec() as { steps: Record<string, unknown>[] };
    spec.steps[1]!.frame_rate = 10;
    const c = compileWorkflow(spec);
    expect(c.steps.find((s) => s.name === 't1')!.literals.frame_rate).toBe(10);
    const executor = new WorkflowExecutor(c, { runtime: truthRuntime() });
    const a = await executor.run(image(meta(1, { video_identifier: 'a' })), meta(1, { video_identifier: 'a' }));
    const b = await executor.run(image(meta(1, { video_identifier: 'b' })), meta(1, { video_identifier: 'b' }));
    expect(Array.from((a.t1 as Detections).trackerId!)).toEqual([1, 2]);
    expect(Array.from((b.t1 as Detections).trackerId!)).toEqual([1, 2]);
  });

  it('errors name the step and property: v1 needs metadata, v2 rejects keypoint kinds, line_counter@v1 needs metadata', () => {
    const spec = versionsSpec() as { steps: Record<string, unknown>[] };
    delete spec.steps[1]!.metadata;
    expect(() => compileWorkflow(spec)).toThrow(WorkflowSyntaxError);
    expect(() => compileWorkflow(spec)).toThrow(/step "t1", property "metadata"/);
    const spec2 = versionsSpec() as { steps: Record<string, unknown>[] };
    spec2.steps[4]!.metadata = '$inputs.image';
    expect(() => compileWorkflow(spec2)).toThrow(ReferenceTypeError);
    expect(() => compileWorkflow(spec2)).toThrow(/step "c1", property "metadata"/);
    const spec3 = versionsSpec() as { steps: Record<string, unknown>[] };
    spec3.steps[2]!.instances_cache_size = 10;
    expect(() => compileWorkflow(spec3)).toThrow(/step "t2", property "instances_cache_size"/);
  });
});
