/** Workflows in the browser: initWithWorkflow on the fixture video with the colour-box model. */
import { expect, test, type Page } from '@playwright/test';
import { CAR, DOG, FPS, FRAME_COUNT, PERSON, groundTruth, isVisible, rectBox, type RectSpec } from '../fixtures/ground-truth.ts';
import { fullSpec, seedSpec, COLOUR_BOX_MODEL } from '../unit/workflows-specs.ts';
import type { WorkflowRunRequest, WorkflowRunResult, WorkflowsHarness } from './pages/workflows-harness.ts';

const PAGE = '/tests/e2e/pages/workflows-harness.html';
const VIDEO = '/tests/fixtures/generated/sample.mp4';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  class: string;
  class_id: number;
  confidence: number;
  tracker_id?: number;
  time_in_zone?: number;
}
interface DetectionsJson {
  image: { width: number; height: number };
  predictions: Box[];
  tracker_ids?: number[] | null;
}

async function open(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => document.title === 'workflows harness ready');
}

async function run(page: Page, request: WorkflowRunRequest): Promise<WorkflowRunResult> {
  const result = await page.evaluate((r) => (window as unknown as { workflowsHarness: WorkflowsHarness }).workflowsHarness.runWorkflow(r), request);
  if (result.error) console.log(`workflow error: ${result.error.name}: ${result.error.message}\n${result.statuses.slice(-5).join('\n')}`);
  return result;
}

function expectBoxesMatch(frameId: number, boxes: Box[], tolerancePx = 2, classes?: (name: string) => boolean): void {
  const truth = groundTruth(frameId).boxes.filter((t) => !classes || classes(t.class));
  const got = [...boxes].sort((a, b) => a.class_id - b.class_id);
  expect(got.map((b) => b.class), `classes on frame ${frameId}`).toEqual(truth.map((t) => t.class));
  got.forEach((g, i) => {
    const t = truth[i]!;
    const edges = { x0: g.x - g.width / 2, y0: g.y - g.height / 2, x1: g.x + g.width / 2, y1: g.y + g.height / 2 };
    for (const k of ['x0', 'y0', 'x1', 'y1'] as const) expect(Math.abs(edges[k] - t[k]), `${g.class} ${k} on frame ${frameId}`).toBeLessThanOrEqual(tolerancePx);
  });
}

/** Frame on which a rectangle's centre first lies strictly right of x (supervision: cross product < 0 for a downward line). */
function centreSide(spec: RectSpec, frame: number, x: number): boolean {
  return rectBox(spec, frame).x > x;
}

test.describe('workflows', () => {
  test.beforeEach(async ({ page }) => open(page));

  test('the seed example gives the expected boxes on every frame (serializeResults)', async ({ page }) => {
    const result = await run(page, { specification: seedSpec(), video: VIDEO, serializeResults: true });
    expect(result.error).toBeUndefined();
    expect(result.frames.map((f) => f.frameId)).toEqual(Array.from({ length: FRAME_COUNT }, (_, i) => i + 1));
    for (const frame of result.frames) {
      const out = frame.outputs.predictions as { inference_id: string; predictions: DetectionsJson };
      expect(typeof out.inference_id).toBe('string');
      expect(out.predictions.image).toEqual({ width: 640, height: 360 });
      expectBoxesMatch(frame.frameId, out.predictions.predictions);
    }
  });
});

/** First frame on which a rectangle is tracked: frame 1 for what is there from the start, else one frame after it appears (ByteTrack confirms a new track on its second frame). */
function firstTracked(spec: RectSpec): number {
  return spec.firstFrame === 1 ? 1 : spec.firstFrame + 1;
}

/** Frames where the centre changes side of x = 200 while tracked, by direction. */
function expectedCrossings(line = 200): { in: number[]; out: number[] } {
  const crossings = { in: [] as number[], out: [] as number[] };
  for (const spec of [PERSON, CAR, DOG]) {
    for (let f = firstTracked(spec) + 1; f <= spec.lastFrame; f++) {
      const before = centreSide(spec, f - 1, line);
      const now = centreSide(spec, f, line);
      if (before !== now) (now ? crossings.in : crossings.out).push(f);
    }
  }
  return crossings;
}

test.describe('workflows: detection + filter + ByteTrack + line counter + time in zone + visualisation + profile', () => {
  let result: WorkflowRunResult;
  const PROFILE_FRAMES = 25;
  const probeFrames = [20, 45];
  const probePoints = (f: number): [number, number][] => [
    [rectBox(PERSON, f).x0 - 1, 50], // just left of the person's box: the box outline
    [rectBox(CAR, f).x0 - 1, 165], // just left of the car's box
    [200, 110], // on the counting line, between lanes
    [420, 110], // background between lanes, away from everything
  ];

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(240_000);
    const page = await browser.newPage();
    await open(page);
    // Probe points depend on the frame; ask for the union and pick per frame afterwards.
    const points = probeFrames.flatMap(probePoints);
    result = await run(page, { specification: fullSpec(), video: VIDEO, profiling: true, profilerBufferSize: PROFILE_FRAMES, probes: { output: 'image', frames: probeFrames, points } });
    await page.close();
  });

  test('runs every frame, typed outputs without serializeResults', () => {
    expect(result.error).toBeUndefined();
    expect(result.frames.map((f) => f.frameId)).toEqual(Array.from({ length: FRAME_COUNT }, (_, i) => i + 1));
    for (const f of result.frames) {
      expect(f.typed.tracked, `frame ${f.frameId}`).toBe('detections');
      expect(f.typed.image, `frame ${f.frameId}`).toBe('bitmap');
    }
  });

  test('tracker ids are stable per rectangle and appear as supervision confirms tracks', () => {
    const idsByClass = new Map<string, Set<number>>();
    const framesByClass = new Map<string, number[]>();
    for (const f of result.frames) {
      const tracked = f.outputs.tracked as DetectionsJson;
      expectBoxesMatch(f.frameId, tracked.predictions, 2, (name) => name !== 'dog' || f.frameId >= firstTracked(DOG));
      for (const p of tracked.predictions) {
        expect(typeof p.tracker_id, `tracker_id on frame ${f.frameId}`).toBe('number');
        if (!idsByClass.has(p.class)) idsByClass.set(p.class, new Set());
        idsByClass.get(p.class)!.add(p.tracker_id!);
        framesByClass.set(p.class, [...(framesByClass.get(p.class) ?? []), f.frameId]);
      }
      // The SequenceLength property equals the number of tracked detections.
      expect(f.outputs.count, `count on frame ${f.frameId}`).toBe(tracked.predictions.length);
    }
    expect(Object.fromEntries([...idsByClass].map(([k, v]) => [k, [...v]]))).toEqual({ person: [1], car: [2], dog: [3] });
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    expect(framesByClass.get('person')).toEqual(range(1, FRAME_COUNT));
    expect(framesByClass.get('car')).toEqual(range(1, FRAME_COUNT));
    expect(framesByClass.get('dog')).toEqual(range(firstTracked(DOG), DOG.lastFrame));
  });

  test('line counter: exact count_in / count_out on x = 200 (CENTER anchor)', () => {
    const expected = expectedCrossings(200);
    // Hand-checked from ground-truth.ts: person (→) and dog (→) cross in, car (←) crosses out on the last frame.
    expect(expected.in.length).toBe(2);
    expect(expected.out.length).toBe(1);
    const last = result.frames[result.frames.length - 1]!.outputs;
    expect([last.count_in, last.count_out]).toEqual([expected.in.length, expected.out.length]);
    // Counts only grow, each step within a frame of the ground truth's crossing.
    const frameOfCount = (key: 'count_in' | 'count_out', n: number) => result.frames.find((f) => (f.outputs[key] as number) >= n)!.frameId;
    expected.in.sort((a, b) => a - b).forEach((frame, i) => expect(Math.abs(frameOfCount('count_in', i + 1) - frame), `in #${i + 1}`).toBeLessThanOrEqual(1));
    expected.out.forEach((frame, i) => expect(Math.abs(frameOfCount('count_out', i + 1) - frame), `out #${i + 1}`).toBeLessThanOrEqual(1));
  });

  test('time in zone equals frame-count differences divided by fps', () => {
    const entered = new Map<number, number>();
    let checked = 0;
    for (const f of result.frames) {
      const timed = f.outputs.timed as DetectionsJson;
      for (const p of timed.predictions) {
        // Only detections inside x ≥ 200 are kept (remove_out_of_zone_detections defaults to true).
        expect(p.x, `${p.class} centre on frame ${f.frameId}`).toBeGreaterThanOrEqual(198);
        if (!entered.has(p.tracker_id!)) entered.set(p.tracker_id!, f.frameId);
        expect(p.time_in_zone!, `${p.class} on frame ${f.frameId}`).toBeCloseTo((f.frameId - entered.get(p.tracker_id!)!) / FPS, 9);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(60);
    // The car is in the zone from frame 1; person and dog enter when their centres reach x = 200.
    expect(entered.get(2)).toBe(1);
    const enterFrame = (spec: RectSpec) => Array.from({ length: FRAME_COUNT }, (_, i) => i + 1).find((f) => isVisible(spec, f) && rectBox(spec, f).x >= 200)!;
    expect(Math.abs(entered.get(1)! - enterFrame(PERSON))).toBeLessThanOrEqual(1);
    expect(Math.abs(entered.get(3)! - enterFrame(DOG))).toBeLessThanOrEqual(1);
    const lastCar = (result.frames[29]!.outputs.timed as DetectionsJson).predictions.find((p) => p.class === 'car')!;
    expect(lastCar.time_in_zone).toBeCloseTo(29 / 30, 9);
  });

  test('visualisation: box outlines in the palette colour by class, the line in its colour', () => {
    const close = (got: number[] | undefined, want: number[], what: string) => {
      expect(got, what).toBeDefined();
      const distance = Math.max(...want.map((w, i) => Math.abs(w - got![i]!)));
      expect(distance, `${what}: got rgb(${got!.join(',')}), want rgb(${want.join(',')})`).toBeLessThanOrEqual(12);
    };
    const far = (got: number[], from: number[], what: string) =>
      expect(Math.max(...from.map((w, i) => Math.abs(w - got[i]!))), `${what}: rgb(${got.join(',')}) should not be rgb(${from.join(',')})`).toBeGreaterThan(40);
    probeFrames.forEach((frame, k) => {
      const px = result.pixels[frame]!;
      expect(px, `pixels of frame ${frame}`).toBeDefined();
      const mine = px.slice(k * 4, k * 4 + 4);
      close(mine[0], [0xff, 0x40, 0x40], `person outline (class 1 → #FF4040) on frame ${frame}`);
      close(mine[1], [0xff, 0x76, 0x33], `car outline (class 3 → #FF7633) on frame ${frame}`);
      close(mine[2], [0x5b, 0xb5, 0x73], `line (#5bb573) on frame ${frame}`);
      far(mine[3]!, [0x5b, 0xb5, 0x73], `background on frame ${frame}`);
      far(mine[3]!, [0xff, 0x40, 0x40], `background on frame ${frame}`);
    });
  });

  test('profile: valid trace-event JSON, one event per step per frame for the last profilerBufferSize frames', () => {
    const trace = JSON.parse(JSON.stringify(result.profile)) as { traceEvents: { name: string; ph: string; ts: number; dur: number; pid: number; tid: number; args: { frame_number: number } }[] };
    const steps = (fullSpec().steps as { name: string }[]).map((s) => s.name).sort();
    const complete = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(complete).toHaveLength(steps.length * PROFILE_FRAMES);
    const frames = [...new Set(complete.map((e) => e.args.frame_number))].sort((a, b) => a - b);
    expect(frames).toEqual(Array.from({ length: PROFILE_FRAMES }, (_, i) => FRAME_COUNT - PROFILE_FRAMES + 1 + i));
    for (const frame of frames) expect(complete.filter((e) => e.args.frame_number === frame).map((e) => e.name).sort(), `frame ${frame}`).toEqual(steps);
    for (const e of complete) {
      expect(Number.isFinite(e.ts) && e.ts > 1e15, `ts of ${e.name} is epoch µs`).toBe(true);
      expect(e.dur).toBeGreaterThanOrEqual(0);
      expect(typeof e.pid === 'number' && typeof e.tid === 'number').toBe(true);
    }
  });
});

test.describe('workflows: variants, registered workflows, errors', () => {
  test.beforeEach(async ({ page }) => open(page));

  test('line counter with the default anchors (the four corners) counts only full crossings', async ({ page }) => {
    const spec = fullSpec() as { steps: Record<string, unknown>[]; outputs: unknown[] };
    delete spec.steps.find((s) => s.name === 'counter')!.triggering_anchor;
    spec.steps = spec.steps.filter((s) => ['detect', 'filter', 'tracker', 'counter'].includes(s.name as string));
    spec.outputs = [
      { type: 'JsonField', name: 'count_in', selector: '$steps.counter.count_in' },
      { type: 'JsonField', name: 'count_out', selector: '$steps.counter.count_out' },
    ];
    const result = await run(page, { specification: spec, video: VIDEO });
    expect(result.error).toBeUndefined();
    const last = result.frames[result.frames.length - 1]!.outputs;
    // Only the person ends fully right of x = 200 (x0 reaches 256); the car (x0 ≥ 146) and dog (x1 ≤ 258, x0 ≤ 198) still straddle it.
    expect([last.count_in, last.count_out]).toEqual([1, 0]);
  });

  test('a registered workflow is fetched from apiUrl, and the key never shows', async ({ page }) => {
    const key = 'secret-key-123';
    await page.route('http://roboflow.test/**', async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/my-ws/workflows/count-people' && url.searchParams.get('api_key') === key) {
        await route.fulfill({ status: 200, contentType: 'application/json', headers: { 'Access-Control-Allow-Origin': '*' }, body: JSON.stringify({ workflow: { id: 'count-people', config: JSON.stringify({ specification: seedSpec() }) } }) });
      } else await route.fulfill({ status: 404, headers: { 'Access-Control-Allow-Origin': '*' }, body: '{"error": "not found"}' });
    });
    const ok = await run(page, { video: VIDEO, serializeResults: true, registered: { workspaceName: 'my-ws', workflowId: 'count-people', apiKey: key, apiUrl: 'http://roboflow.test' } });
    expect(ok.error).toBeUndefined();
    expect(ok.frames).toHaveLength(FRAME_COUNT);
    expectBoxesMatch(30, (ok.frames[29]!.outputs.predictions as { predictions: DetectionsJson }).predictions.predictions);
    const missing = await run(page, { video: VIDEO, registered: { workspaceName: 'my-ws', workflowId: 'nope', apiKey: key, apiUrl: 'http://roboflow.test' } });
    expect(missing.error?.name).toBe('RegisteredWorkflowError');
    expect(missing.error?.message).toContain('404');
    expect(missing.error?.message).toContain('nope');
    expect(JSON.stringify(missing)).not.toContain(key);
    expect(JSON.stringify(ok.statuses)).not.toContain(key);
  });

  test('an invalid specification throws its typed error from initWithWorkflow', async ({ page }) => {
    const spec = seedSpec() as { steps: Record<string, unknown>[] };
    spec.steps[0]!.confidence = 'high';
    const result = await run(page, { specification: spec, video: VIDEO });
    expect(result.error?.name).toBe('WorkflowSyntaxError');
    expect(result.error?.message).toContain('step "step_1", property "confidence", value "high"');
    expect(result.frames).toHaveLength(0);
    expect(COLOUR_BOX_MODEL.url).toContain('colour-box');
  });
});

/** detect → crop around each box → detect again inside each crop; the second detection in own and parent coordinates. */
function cropSpec(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [
      { type: 'ObjectDetectionModel', name: 'detect', image: '$inputs.image', model_id: COLOUR_BOX_MODEL },
      { type: 'roboflow_core/dynamic_crop@v1', name: 'crop', images: '$inputs.image', predictions: '$steps.detect.predictions' },
      { type: 'ObjectDetectionModel', name: 'detect_in_crop', images: '$steps.crop.crops', model_id: COLOUR_BOX_MODEL },
      { type: 'roboflow_core/detections_stitch@v1', name: 'stitch', reference_image: '$inputs.image', predictions: '$steps.detect_in_crop.predictions' },
    ],
    outputs: [
      { type: 'JsonField', name: 'stitched', selector: '$steps.stitch.predictions' },
      { type: 'JsonField', name: 'frame', selector: '$steps.detect.predictions' },
      { type: 'JsonField', name: 'own', selector: '$steps.detect_in_crop.predictions' },
      { type: 'JsonField', name: 'parent', selector: '$steps.detect_in_crop.predictions', coordinates_system: 'parent' },
      { type: 'JsonField', name: 'crops', selector: '$steps.crop.crops' },
    ],
  };
}

test.describe('workflows: dynamic_crop and coordinates_system', () => {
  test.beforeEach(async ({ page }) => open(page));

  test('detections made on crops come back in the frame\'s coordinates with parent (and through detections_stitch), in the crop\'s with own', async ({ page }) => {
    test.setTimeout(240_000);
    const result = await run(page, { specification: cropSpec(), video: VIDEO });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAME_COUNT);
    let checked = 0;
    for (const f of result.frames) {
      const frame = f.outputs.frame as DetectionsJson;
      const own = f.outputs.own as DetectionsJson[];
      const parent = f.outputs.parent as DetectionsJson[];
      const crops = f.outputs.crops as { bitmap: [number, number] }[];
      expectBoxesMatch(f.frameId, frame.predictions);
      // detections_stitch merges the per-crop detections back into one frame-level set.
      expectBoxesMatch(f.frameId, (f.outputs.stitched as DetectionsJson).predictions);
      // One crop (and one list of detections) per frame-level detection, in the same order.
      expect(crops, `crops on frame ${f.frameId}`).toHaveLength(frame.predictions.length);
      expect(own).toHaveLength(frame.predictions.length);
      expect(parent).toHaveLength(frame.predictions.length);
      frame.predictions.forEach((box, i) => {
        const originX = Math.round(box.x - box.width / 2);
        const originY = Math.round(box.y - box.height / 2);
        const [cropW, cropH] = crops[i]!.bitmap;
        expect(Math.abs(cropW - box.width), `crop width on frame ${f.frameId}`).toBeLessThanOrEqual(1);
        expect(Math.abs(cropH - box.height), `crop height on frame ${f.frameId}`).toBeLessThanOrEqual(1);
        expect(parent[i]!.predictions, `one detection inside crop ${i} on frame ${f.frameId}`).toHaveLength(1);
        const p = parent[i]!.predictions[0]!;
        const o = own[i]!.predictions[0]!;
        expect(p.class).toBe(box.class);
        expect(parent[i]!.image).toEqual({ width: 640, height: 360 });
        expect(own[i]!.image).toEqual({ width: cropW, height: cropH });
        // parent: the frame-level box within 2 px, edge by edge.
        for (const [a, b] of [
          [p.x - p.width / 2, box.x - box.width / 2],
          [p.y - p.height / 2, box.y - box.height / 2],
          [p.x + p.width / 2, box.x + box.width / 2],
          [p.y + p.height / 2, box.y + box.height / 2],
        ] as const) {
          expect(Math.abs(a - b), `${box.class} on frame ${f.frameId}: parent ${JSON.stringify(p)} vs frame ${JSON.stringify(box)}`).toBeLessThanOrEqual(2);
        }
        // own: the same box, offset by the crop's origin.
        expect(o.x).toBeCloseTo(p.x - originX, 3);
        expect(o.y).toBeCloseTo(p.y - originY, 3);
        expect(o.width).toBeCloseTo(p.width, 3);
        expect(o.height).toBeCloseTo(p.height, 3);
        expect(o.x - o.width / 2).toBeLessThan(3);
        checked += 1;
      });
    }
    expect(checked).toBeGreaterThan(120);
  });
});

/** The colour-box model at another URL: the same detector, a different model to load. */
const variant = (k: number | string) => ({ url: `${COLOUR_BOX_MODEL.url}?variant=${k}` });

test.describe('workflows: model_id from a parameter or a step output', () => {
  test.beforeEach(async ({ page }) => open(page));

  test('updateWorkflowParameters switches the model from the next frames on; a bad value is a typed error', async ({ page }) => {
    const spec = {
      version: '1.0',
      inputs: [
        { type: 'WorkflowImage', name: 'image' },
        { type: 'WorkflowParameter', name: 'model', default_value: variant('a') },
      ],
      steps: [{ type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect', images: '$inputs.image', model_id: '$inputs.model' }],
      outputs: [
        { type: 'JsonField', name: 'model', selector: '$steps.detect.model_id' },
        { type: 'JsonField', name: 'predictions', selector: '$steps.detect.predictions' },
      ],
    };
    const result = await run(page, { specification: spec, video: VIDEO, update: { frame: 20, values: { model: variant('b') }, invalid: { nope: 1 } } });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAME_COUNT);
    expect(result.updates?.[0]).toBe('ok');
    expect(result.updates?.[1]).toMatch(/^RuntimeInputError: .*nope/);
    for (const f of result.frames) {
      // Frame 21 may already have been in the worker when the update was sent; every later frame runs the new model.
      if (f.frameId <= 20) expect(f.outputs.model, `frame ${f.frameId}`).toBe(variant('a').url);
      if (f.frameId >= 22) expect(f.outputs.model, `frame ${f.frameId}`).toBe(variant('b').url);
      expectBoxesMatch(f.frameId, (f.outputs.predictions as DetectionsJson).predictions);
    }
  });

  test('model_id from a WorkflowParameter: workflowsParameters per pipeline, else default_value', async ({ page }) => {
    const spec = {
      version: '1.0',
      inputs: [
        { type: 'WorkflowImage', name: 'image' },
        { type: 'WorkflowParameter', name: 'model', default_value: variant('default') },
      ],
      steps: [{ type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect', images: '$inputs.image', model_id: '$inputs.model' }],
      outputs: [
        { type: 'JsonField', name: 'model', selector: '$steps.detect.model_id' },
        { type: 'JsonField', name: 'predictions', selector: '$steps.detect.predictions' },
      ],
    };
    for (const [parameters, want] of [
      [{ model: variant('given') }, variant('given').url],
      [{}, variant('default').url],
    ] as const) {
      const result = await run(page, { specification: spec, video: VIDEO, parameters });
      expect(result.error).toBeUndefined();
      expect(result.frames).toHaveLength(FRAME_COUNT);
      expect(new Set(result.frames.map((f) => f.outputs.model))).toEqual(new Set([want]));
      expectBoxesMatch(30, (result.frames[29]!.outputs.predictions as DetectionsJson).predictions);
      expect(result.statuses.filter((s) => s.includes('loaded on demand'))).toEqual([]);
    }
  });

  test('model_id from a step output: the model switches when the value changes, on-demand sessions are cached and the oldest freed', async ({ page }) => {
    test.setTimeout(240_000);
    // The line counter's count_in on x = 160 (0, then 1 when the dog's centre crosses it, 2 with the person's) picks the model.
    const table = { '0': variant(0), '1': variant(1), '2': variant(2) };
    const spec = {
      version: '1.0',
      inputs: [
        { type: 'WorkflowImage', name: 'image' },
        { type: 'WorkflowVideoMetadata', name: 'video_metadata' },
      ],
      steps: [
        { type: 'ObjectDetectionModel', name: 'detect', image: '$inputs.image', model_id: COLOUR_BOX_MODEL },
        { type: 'ByteTracker', name: 'tracker', metadata: '$inputs.video_metadata', detections: '$steps.detect.predictions' },
        { type: 'LineCounter', name: 'counter', metadata: '$inputs.video_metadata', detections: '$steps.tracker.tracked_detections', line_segment: [[160, 0], [160, 360]] },
        { type: 'PropertyDefinition', name: 'pick', data: '$steps.counter.count_in', operations: [{ type: 'ToString' }, { type: 'LookupTable', lookup_table: table }] },
        { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect2', images: '$inputs.image', model_id: '$steps.pick.output' },
      ],
      outputs: [
        { type: 'JsonField', name: 'count_in', selector: '$steps.counter.count_in' },
        { type: 'JsonField', name: 'model', selector: '$steps.detect2.model_id' },
        { type: 'JsonField', name: 'predictions', selector: '$steps.detect2.predictions' },
      ],
    };
    const result = await run(page, { specification: spec, video: VIDEO });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAME_COUNT);
    for (const f of result.frames) {
      const count = f.outputs.count_in as number;
      expect(f.outputs.model, `model on frame ${f.frameId} (count_in ${count})`).toBe(table[String(count) as '0' | '1' | '2'].url);
      // Whichever model ran, it is the colour-box detector: exact boxes.
      expectBoxesMatch(f.frameId, (f.outputs.predictions as DetectionsJson).predictions);
    }
    expect([...new Set(result.frames.map((f) => f.outputs.count_in))]).toEqual([0, 1, 2]);
    // Each model loaded once, when first named; the third evicted the least recently used (cache of 2 on-demand models).
    const loads = result.statuses.filter((s) => s.includes('loaded on demand'));
    expect(loads, result.statuses.join('\n')).toHaveLength(3);
    loads.forEach((line, k) => expect(line).toContain(`variant=${k}`));
    expect(loads[0]).not.toContain('released');
    expect(loads[1]).not.toContain('released');
    expect(loads[2]).toMatch(/released [^;]*variant=0/);
  });
});
