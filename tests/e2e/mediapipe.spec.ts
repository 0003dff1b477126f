/**
 * MediaPipe blocks in the workflow worker, on real frames (tasks-vision, VIDEO mode, module WASM served from our
 * origin), on a video of NASA's public-domain astronaut photo (one face at [177, 82, 95, 95] on 512×512), with the
 * models the fixtures make from the legacy @mediapipe packages: FaceDetector (BlazeFace), ImageSegmenter (selfie
 * segmentation), PoseLandmarker and HandLandmarker (`.task` bundles), ObjectDetector (BlazeFace with SSD metadata).
 */
import { expect, test, type Page } from '@playwright/test';
import { decodeMaskRle } from '../../src/workflows/mask-rle.ts';
import type { WorkflowRunRequest, WorkflowRunResult, WorkflowsHarness } from './pages/workflows-harness.ts';

const PAGE = '/tests/e2e/pages/workflows-harness.html';
const VIDEO = '/tests/fixtures/generated/astronaut.mp4';
const MODEL = '/tests/fixtures/generated/face_detector_short_range.tflite';
const FRAMES = 10;
/** [x, y, width, height] of the face, from tasks-vision on the original PNG. */
const FACE = [177, 82, 95, 95] as const;
const TOLERANCE_PX = 4;
const SEGMENTER = '/tests/fixtures/generated/selfie_segmenter.tflite';
const POSE = '/tests/fixtures/generated/pose_landmarker_lite.task';
const HANDS = '/tests/fixtures/generated/hand_landmarker.task';
const FACE_OBJECTS = '/tests/fixtures/generated/face_object_detector.tflite';
const HAND_VIDEO = '/tests/fixtures/generated/hand.mp4';
/** Fingertips in `hand.jpg` (640×480), read off the picture by eye. */
const FINGERTIPS = { thumb_tip: [255, 25], index_finger_tip: [487, 140], middle_finger_tip: [540, 256], ring_finger_tip: [515, 320], pinky_tip: [432, 432] } as const;

interface Prediction {
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  class: string;
  class_id?: number;
  tracker_id?: number;
  keypoints?: { x: number; y: number; confidence: number; class_name?: string }[];
  rle_mask?: string;
  handedness?: string;
}

/** A workflow of one MediaPipe step on the frame, its predictions as output `out`. */
function oneStep(step: Record<string, unknown>, extraSteps: unknown[] = [], outputs: unknown[] = []): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [{ name: 'step', images: '$inputs.image', ...step }, ...extraSteps],
    outputs: [{ type: 'JsonField', name: 'out', selector: '$steps.step.predictions' }, ...outputs],
  };
}

/** Median time of step `step` per frame after the first (which creates the task), in ms, from the profile. */
function medianStepMs(result: WorkflowRunResult, step = 'step'): number {
  const durations = (result.profile?.traceEvents ?? []).filter((e) => e.name === step && e.ph === 'X').map((e) => e.dur! / 1000);
  const later = durations.slice(1).sort((a, b) => a - b);
  return +(later[Math.floor(later.length / 2)] ?? NaN).toFixed(1);
}

/** Fraction of the mask's pixels set in the square of half-size `r` around (x, y). */
function fractionAround(mask: Uint8Array, width: number, x: number, y: number, r = 8): number {
  let inside = 0;
  let all = 0;
  for (let j = y - r; j <= y + r; j++) for (let i = x - r; i <= x + r; i++, all++) inside += mask[j * width + i]!;
  return inside / all;
}

function faceSpec(extraSteps: unknown[] = [], outputs: unknown[] = []): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }, { type: 'WorkflowVideoMetadata', name: 'video_metadata' }],
    steps: [{ type: 'framewise/mediapipe_face_detector@v1', name: 'faces', images: '$inputs.image', model_asset_path: MODEL }, ...extraSteps],
    outputs: [{ type: 'JsonField', name: 'faces', selector: '$steps.faces.predictions' }, ...outputs],
  };
}

async function open(page: Page): Promise<string[]> {
  const requests: string[] = [];
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(PAGE);
  await page.waitForFunction(() => document.title === 'workflows harness ready');
  return requests;
}

async function run(page: Page, request: WorkflowRunRequest): Promise<WorkflowRunResult> {
  const result = await page.evaluate((r) => (window as unknown as { workflowsHarness: WorkflowsHarness }).workflowsHarness.runWorkflow(r), request);
  if (result.error) console.log(`workflow error: ${result.error.name}: ${result.error.message}\n${result.statuses.slice(-5).join('\n')}`);
  return result;
}

function expectFace(frameId: number, predictions: Prediction[]): void {
  expect(predictions.length, `faces on frame ${frameId}`).toBe(1);
  const p = predictions[0]!;
  const box = [p.x - p.width / 2, p.y - p.height / 2, p.width, p.height];
  box.forEach((value, i) => expect(Math.abs(value - FACE[i]!), `box[${i}] = ${value.toFixed(1)} on frame ${frameId}`).toBeLessThanOrEqual(TOLERANCE_PX));
  expect(p.confidence).toBeGreaterThan(0.85);
  expect(p.class).toBe('face');
  expect(p.keypoints?.length).toBe(6);
  for (const k of p.keypoints!) {
    expect(k.x).toBeGreaterThanOrEqual(FACE[0] - 10);
    expect(k.x).toBeLessThanOrEqual(FACE[0] + FACE[2] + 10);
    expect(k.y).toBeGreaterThanOrEqual(FACE[1] - 10);
    expect(k.y).toBeLessThanOrEqual(FACE[1] + FACE[3] + 10);
  }
}

test.describe('mediapipe blocks', () => {
  test('the face detector finds the astronaut on every frame, in the worker, offline', async ({ page }) => {
    const requests = await open(page);
    const result = await run(page, { specification: faceSpec(), video: VIDEO, serializeResults: true });
    expect(result.error).toBeUndefined();
    expect(result.frames.map((f) => f.frameId)).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
    for (const frame of result.frames) {
      const faces = frame.outputs.faces as { image: { width: number; height: number }; predictions: Prediction[] };
      expect(faces.image).toEqual({ width: 512, height: 512 });
      expectFace(frame.frameId, faces.predictions);
    }
    const first = (result.frames[0]!.outputs.faces as { predictions: Prediction[] }).predictions[0]!;
    console.log(`face: ${JSON.stringify({ x: first.x - first.width / 2, y: first.y - first.height / 2, w: first.width, h: first.height, score: first.confidence })}`);
    // Everything came from our origin: the fileset (module build) and the model.
    const origin = new URL(page.url()).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    expect(requests.some((u) => u.includes('/@mediapipe/tasks-vision/wasm/vision_wasm_module_internal.wasm'))).toBe(true);
    expect(requests.filter((u) => u.endsWith('.tflite'))).toHaveLength(1);
    // A second run takes the model from the IndexedDB cache.
    const again = await run(page, { specification: faceSpec(), video: VIDEO, serializeResults: true });
    expect(again.error).toBeUndefined();
    expect(again.frames).toHaveLength(FRAMES);
    expect(requests.filter((u) => u.endsWith('.tflite'))).toHaveLength(1);
  });

  test('its detections feed ByteTrack, the filter and the box visualisation', async ({ page }) => {
    await open(page);
    const specification = faceSpec(
      [
        { type: 'roboflow_core/byte_tracker@v3', name: 'tracker', image: '$inputs.image', detections: '$steps.faces.predictions' },
        {
          type: 'DetectionsFilter',
          name: 'confident',
          predictions: '$steps.tracker.tracked_detections',
          operations: [
            {
              type: 'DetectionsFilter',
              filter_operation: {
                type: 'StatementGroup',
                operator: 'and',
                statements: [
                  {
                    type: 'BinaryStatement',
                    left_operand: { type: 'DynamicOperand', operand_name: '_', operations: [{ type: 'ExtractDetectionProperty', property_name: 'confidence' }] },
                    comparator: { type: '(Number) >=' },
                    right_operand: { type: 'StaticOperand', value: 0.8 },
                  },
                ],
              },
            },
          ],
        },
        { type: 'BoundingBoxVisualization', name: 'boxes', image: '$inputs.image', predictions: '$steps.confident.predictions', thickness: 4, color_palette: 'CUSTOM', custom_colors: ['#FF0000'] },
      ],
      [
        { type: 'JsonField', name: 'tracked', selector: '$steps.confident.predictions' },
        { type: 'JsonField', name: 'drawn', selector: '$steps.boxes.image' },
      ],
    );
    // Probe the box's left edge (x = 176, mid-height) and a point well inside the face.
    const result = await run(page, { specification, video: VIDEO, probes: { output: 'drawn', frames: [3, 10], points: [[176, 130], [224, 130]] } });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    const ids = new Set<number>();
    for (const frame of result.frames) {
      const tracked = frame.outputs.tracked as { predictions: Prediction[]; tracker_ids: number[] | null };
      expectFace(frame.frameId, tracked.predictions);
      ids.add(tracked.tracker_ids![0]!);
    }
    expect(ids.size).toBe(1);
    for (const frame of [3, 10]) {
      const [edge, inside] = result.pixels[frame]!;
      expect(edge![0], `red edge on frame ${frame}: ${edge}`).toBeGreaterThan(200);
      expect(edge![1]).toBeLessThan(60);
      expect(inside![0] === 255 && inside![1] === 0 && inside![2] === 0, `inside is not the box colour: ${inside}`).toBe(false);
    }
  });

  test('the mediapipeWasmPath option moves where the WASM fileset is loaded from', async ({ page }) => {
    const requests = await open(page);
    await page.route('**/mp-wasm/**', (route) => {
      const name = new URL(route.request().url()).pathname.split('/').pop()!;
      return route.fulfill({
        path: `node_modules/@mediapipe/tasks-vision/wasm/${name}`,
        headers: { 'Content-Type': name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', 'Cross-Origin-Resource-Policy': 'same-origin' },
      });
    });
    const result = await run(page, { specification: faceSpec(), video: VIDEO, serializeResults: true, mediapipeWasmPath: '/mp-wasm/' });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    expect(requests.some((u) => u.includes('/mp-wasm/vision_wasm'))).toBe(true);
    expect(requests.some((u) => u.includes('/node_modules/@mediapipe/tasks-vision/wasm/'))).toBe(false);
  });

  test("tasks-vision's usage logging is answered locally and never sent", async ({ page }) => {
    const requests = await open(page);
    const status = await page.evaluate(async () => {
      const block = (await import('/src/workflows/blocks/mediapipe-runtime.ts' as string)) as typeof import('../../src/workflows/blocks/mediapipe-runtime.ts');
      block.blockMediapipeTelemetry();
      const response = await fetch('https://odml.pa.googleapis.com/v1/log', { method: 'POST', body: 'x' });
      const local = await fetch('/tests/fixtures/astronaut.md');
      return [response.status, local.status];
    });
    expect(status).toEqual([204, 200]);
    expect(requests.filter((u) => u.includes('googleapis'))).toEqual([]);
  });

  test('a model that is not TFLite fails with a step error naming the block', async ({ page }) => {
    await open(page);
    const specification = faceSpec();
    (specification.steps as Record<string, unknown>[])[0]!.model_asset_path = '/models/colour-box-320.onnx';
    const result = await run(page, { specification, video: VIDEO });
    expect(result.error?.name).toBe('StepExecutionError');
    expect(result.error?.message).toContain('faces');
    expect(result.error?.message).toContain('not a TFLite model');
  });

  test('the image segmenter masks the astronaut on every frame (selfie segmentation, one class)', async ({ page }) => {
    const requests = await open(page);
    const specification = oneStep({ type: 'framewise/mediapipe_image_segmenter@v1', model_asset_path: SEGMENTER, class_names: ['person'] });
    const result = await run(page, { specification, video: VIDEO, serializeResults: true, profiling: true });
    console.log(`segmenter step: median ${medianStepMs(result)} ms a frame`);
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    // Person: face, neck, chest badge, left arm; background: wall left of the head, wall upper right, the flag.
    const person = [[224, 130], [215, 200], [170, 385], [60, 420]] as const;
    const background = [[110, 60], [470, 60], [30, 60], [430, 250]] as const;
    for (const frame of result.frames) {
      const out = frame.outputs.out as { image: { width: number; height: number }; predictions: Prediction[] };
      expect(out.predictions, `frame ${frame.frameId}`).toHaveLength(1);
      const p = out.predictions[0]!;
      expect(p.class).toBe('person');
      expect(p.confidence).toBeGreaterThan(0.8);
      const mask = decodeMaskRle(p.rle_mask!, out.image.width, out.image.height);
      const area = mask.reduce((a, b) => a + b, 0) / mask.length;
      const fractions = { person: person.map(([x, y]) => fractionAround(mask, 512, x, y)), background: background.map(([x, y]) => fractionAround(mask, 512, x, y)) };
      if (frame.frameId === 1) console.log(`segmenter frame 1: ${JSON.stringify({ area: +area.toFixed(3), confidence: +p.confidence.toFixed(3), box: [p.x - p.width / 2, p.y - p.height / 2, p.width, p.height].map(Math.round), ...fractions })}`);
      for (const f of fractions.person) expect(f, `person point on frame ${frame.frameId}: ${JSON.stringify(fractions)}`).toBeGreaterThan(0.9);
      for (const f of fractions.background) expect(f, `background point on frame ${frame.frameId}: ${JSON.stringify(fractions)}`).toBeLessThan(0.1);
      expect(area).toBeGreaterThan(0.3);
      expect(area).toBeLessThan(0.8);
      // The box bounds the mask, which reaches the bottom and the left edge (arm), not the top corners.
      expect(p.y + p.height / 2).toBeGreaterThan(500);
      expect(p.x - p.width / 2).toBeLessThan(40);
      expect(p.y - p.height / 2).toBeGreaterThan(5);
    }
    const origin = new URL(page.url()).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  });

  test('the mask visualisation fills the segmenter\'s person mask with its colour, the rest stays the frame', async ({ page }) => {
    await open(page);
    // Person: face, neck, chest badge, left arm; background: wall left of the head, wall upper right, the flag.
    const person: [number, number][] = [[224, 130], [215, 200], [170, 385], [60, 420]];
    const background: [number, number][] = [[110, 60], [470, 60], [30, 60], [430, 250]];
    const frames = [2, 9];
    const masked = async (opacity: number) => {
      const specification = oneStep(
        { type: 'framewise/mediapipe_image_segmenter@v1', model_asset_path: SEGMENTER, class_names: ['person'] },
        [{ type: 'MaskVisualization', name: 'masks', image: '$inputs.image', predictions: '$steps.step.predictions', opacity, color_palette: 'CUSTOM', custom_colors: ['#0000FF'] }],
        [{ type: 'JsonField', name: 'drawn', selector: '$steps.masks.image' }],
      );
      const result = await run(page, { specification, video: VIDEO, probes: { output: 'drawn', frames, points: [...person, ...background] } });
      expect(result.error).toBeUndefined();
      expect(result.frames).toHaveLength(FRAMES);
      return result.pixels;
    };
    // Opacity 0 draws nothing: the frame's own pixels.
    const plain = await masked(0);
    const half = await masked(0.5);
    for (const frame of frames) {
      console.log(`mask visualisation frame ${frame}: frame ${JSON.stringify(plain[frame])}, masked ${JSON.stringify(half[frame])}`);
      person.forEach((_, k) => {
        const [before, after] = [plain[frame]![k]!, half[frame]![k]!];
        const expected = [before[0]! / 2, before[1]! / 2, (before[2]! + 255) / 2];
        expected.forEach((e, c) => expect(Math.abs(after[c]! - e), `person point ${k} channel ${c} on frame ${frame}: ${before} → ${after}`).toBeLessThanOrEqual(4));
        expect(after[2]! - after[0]!, `person point ${k} turned bluer on frame ${frame}`).toBeGreaterThan(before[2]! - before[0]!);
      });
      background.forEach((_, k) => {
        const [before, after] = [plain[frame]![person.length + k]!, half[frame]![person.length + k]!];
        before.forEach((b, c) => expect(Math.abs(after[c]! - b), `background point ${k} on frame ${frame}: ${before} → ${after}`).toBeLessThanOrEqual(2));
      });
    }
  });

  test('the pose landmarker puts the astronaut\'s keypoints on her, and ByteTrack keeps one id', async ({ page }) => {
    await open(page);
    const specification = oneStep(
      { type: 'framewise/mediapipe_pose_landmarker@v1', model_asset_path: POSE },
      [{ type: 'roboflow_core/byte_tracker@v3', name: 'tracker', image: '$inputs.image', detections: '$steps.step.predictions' }],
      [{ type: 'JsonField', name: 'tracked', selector: '$steps.tracker.tracked_detections' }],
    );
    const result = await run(page, { specification, video: VIDEO, serializeResults: true, profiling: true });
    console.log(`pose step: median ${medianStepMs(result)} ms a frame`);
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    const ids = new Set<number>();
    const [fx, fy, fw, fh] = FACE;
    const inFace = (k: { x: number; y: number }) => k.x >= fx - 5 && k.x <= fx + fw + 5 && k.y >= fy - 5 && k.y <= fy + fh + 5;
    for (const frame of result.frames) {
      const out = frame.outputs.out as { predictions: Prediction[] };
      expect(out.predictions, `frame ${frame.frameId}`).toHaveLength(1);
      const p = out.predictions[0]!;
      expect(p.class).toBe('person');
      expect(p.keypoints).toHaveLength(33);
      const k = Object.fromEntries(p.keypoints!.map((q) => [q.class_name!, q]));
      if (frame.frameId === 1) console.log(`pose frame 1: ${JSON.stringify({ box: [p.x - p.width / 2, p.y - p.height / 2, p.width, p.height].map(Math.round), confidence: +p.confidence.toFixed(3), ...Object.fromEntries(['nose', 'left_eye', 'right_eye', 'left_shoulder', 'right_shoulder', 'left_hip'].map((n) => [n, [Math.round(k[n]!.x), Math.round(k[n]!.y), +k[n]!.confidence.toFixed(2)]])) })}`);
      // Face keypoints in the face box (found by BlazeFace); shoulders below the face, on either side of it.
      for (const name of ['nose', 'left_eye', 'right_eye', 'mouth_left', 'mouth_right']) {
        expect(inFace(k[name]!), `${name} ${JSON.stringify(k[name])} on frame ${frame.frameId}`).toBe(true);
        expect(k[name]!.confidence).toBeGreaterThan(0.8);
      }
      // Her left is the image's right.
      expect(k.left_shoulder!.x).toBeGreaterThan(fx + fw);
      expect(k.right_shoulder!.x).toBeLessThan(fx);
      for (const side of ['left_shoulder', 'right_shoulder']) {
        expect(k[side]!.y).toBeGreaterThan(fy + fh);
        expect(k[side]!.y).toBeLessThan(340);
        expect(k[side]!.confidence).toBeGreaterThan(0.8);
      }
      // The box holds the face and the shoulders, inside the frame.
      expect(p.x - p.width / 2).toBeLessThanOrEqual(k.right_shoulder!.x);
      expect(p.x + p.width / 2).toBeGreaterThanOrEqual(k.left_shoulder!.x);
      // (The keypoints stop at the eyes: the box does not reach the top of the head.)
      expect(p.y - p.height / 2).toBeLessThanOrEqual(Math.min(k.left_eye!.y, k.right_eye!.y) + 0.5);
      expect(p.y + p.height / 2).toBeLessThanOrEqual(512);
      const tracked = frame.outputs.tracked as { predictions: Prediction[] };
      expect(tracked.predictions).toHaveLength(1);
      expect(tracked.predictions[0]!.keypoints).toHaveLength(33);
      ids.add(tracked.predictions[0]!.tracker_id!);
    }
    expect(ids.size).toBe(1);
    expect([...ids][0]).toEqual(expect.any(Number));
  });

  test('the hand landmarker puts the fingertips of an open hand where they are', async ({ page }) => {
    const requests = await open(page);
    const specification = oneStep({ type: 'framewise/mediapipe_hand_landmarker@v1', model_asset_path: HANDS });
    const result = await run(page, { specification, video: HAND_VIDEO, serializeResults: true, profiling: true });
    console.log(`hand step: median ${medianStepMs(result)} ms a frame`);
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    for (const frame of result.frames) {
      const out = frame.outputs.out as { image: { width: number; height: number }; predictions: Prediction[] };
      expect(out.image).toEqual({ width: 640, height: 480 });
      expect(out.predictions, `frame ${frame.frameId}`).toHaveLength(1);
      const p = out.predictions[0]!;
      expect(p.class).toBe('hand');
      expect(p.keypoints).toHaveLength(21);
      expect(['left', 'right']).toContain(p.handedness);
      const k = Object.fromEntries(p.keypoints!.map((q) => [q.class_name!, q]));
      const errors = Object.fromEntries(Object.entries(FINGERTIPS).map(([name, [x, y]]) => [name, +Math.hypot(k[name]!.x - x, k[name]!.y - y).toFixed(1)]));
      if (frame.frameId === 1) console.log(`hand frame 1: ${JSON.stringify({ box: [p.x - p.width / 2, p.y - p.height / 2, p.width, p.height].map(Math.round), confidence: +p.confidence.toFixed(3), handedness: p.handedness, wrist: [Math.round(k.wrist!.x), Math.round(k.wrist!.y)], fingertipErrorPx: errors })}`);
      for (const [name, error] of Object.entries(errors)) expect(error, `${name} on frame ${frame.frameId}: ${JSON.stringify(errors)}`).toBeLessThan(30);
      // The box holds the fingertips.
      expect(p.x + p.width / 2).toBeGreaterThanOrEqual(k.middle_finger_tip!.x);
      expect(p.y - p.height / 2).toBeLessThanOrEqual(k.thumb_tip!.y);
      expect(p.y + p.height / 2).toBeGreaterThanOrEqual(k.pinky_tip!.y);
    }
    expect(requests.filter((u) => u.endsWith('.task'))).toHaveLength(1);
  });

  test('the hand landmarker finds no hand on the astronaut (gloved, cut by the frame)', async ({ page }) => {
    await open(page);
    const result = await run(page, { specification: oneStep({ type: 'framewise/mediapipe_hand_landmarker@v1', model_asset_path: HANDS }), video: VIDEO, serializeResults: true });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    for (const frame of result.frames) expect((frame.outputs.out as { predictions: Prediction[] }).predictions, `frame ${frame.frameId}`).toEqual([]);
  });

  test('the landmarkers name what a model lacks when given a plain .tflite', async ({ page }) => {
    await open(page);
    for (const type of ['framewise/mediapipe_pose_landmarker@v1', 'framewise/mediapipe_hand_landmarker@v1']) {
      const result = await run(page, { specification: oneStep({ type, model_asset_path: MODEL }), video: VIDEO });
      expect(result.error?.name).toBe('StepExecutionError');
      console.log(`${type} with a .tflite: ${result.error?.message}`);
      expect(result.error?.message).toContain('could not load');
      expect(result.error?.message).toMatch(/\.task bundle \(a zip\) holding (pose|hand)_detector\.tflite/);
    }
  });

  test('the object detector finds the face with BlazeFace made into an ObjectDetector model, and it feeds the filter', async ({ page }) => {
    const requests = await open(page);
    const specification = oneStep(
      { type: 'framewise/mediapipe_object_detector@v1', model_asset_path: FACE_OBJECTS, class_names: ['face'] },
      [
        {
          type: 'DetectionsFilter',
          name: 'faces',
          predictions: '$steps.step.predictions',
          operations: [
            {
              type: 'DetectionsFilter',
              filter_operation: {
                type: 'StatementGroup',
                operator: 'and',
                statements: [
                  {
                    type: 'BinaryStatement',
                    left_operand: { type: 'DynamicOperand', operand_name: '_', operations: [{ type: 'ExtractDetectionProperty', property_name: 'class_name' }] },
                    comparator: { type: '==' },
                    right_operand: { type: 'StaticOperand', value: 'face' },
                  },
                ],
              },
            },
          ],
        },
      ],
      [{ type: 'JsonField', name: 'faces', selector: '$steps.faces.predictions' }],
    );
    const result = await run(page, { specification, video: VIDEO, serializeResults: true, profiling: true });
    console.log(`object detector step: median ${medianStepMs(result)} ms a frame`);
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    for (const frame of result.frames) {
      const out = frame.outputs.out as { predictions: Prediction[] };
      expect(out.predictions, `frame ${frame.frameId}`).toHaveLength(1);
      const p = out.predictions[0]!;
      const box = [p.x - p.width / 2, p.y - p.height / 2, p.width, p.height];
      if (frame.frameId === 1) console.log(`object detector frame 1: ${JSON.stringify({ box: box.map((v) => +v.toFixed(1)), score: +p.confidence.toFixed(3) })}`);
      box.forEach((value, i) => expect(Math.abs(value - FACE[i]!), `box[${i}] = ${value.toFixed(1)} on frame ${frame.frameId}`).toBeLessThanOrEqual(TOLERANCE_PX));
      expect(p.confidence).toBeGreaterThan(0.85);
      expect(p.class).toBe('face');
      expect(p.class_id).toBe(0);
      expect((frame.outputs.faces as { predictions: Prediction[] }).predictions).toHaveLength(1);
    }
    const origin = new URL(page.url()).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  });

  test('the object detector caches its model from our origin, and names what a wrong model lacks', async ({ page }) => {
    const requests = await open(page);
    // The selfie segmenter is not a detector, and is refused.
    const specification = oneStep({ type: 'framewise/mediapipe_object_detector@v1', model_asset_path: SEGMENTER });
    const result = await run(page, { specification, video: VIDEO });
    console.log(`object detector with the segmenter model: ${result.error?.name}: ${result.error?.message}`);
    expect(result.error?.name).toBe('StepExecutionError');
    expect(result.error?.message).toContain('step');
    expect(result.error?.message).toContain('ObjectDetector could not load');
    expect(result.error?.message).toContain('not an object detection model');
    expect(result.error?.message).toContain('this model has 1');
    expect(result.statuses.some((s) => s.includes('ObjectDetector could not load'))).toBe(true);
    expect(requests.filter((u) => u.endsWith('selfie_segmenter.tflite'))).toHaveLength(1);
    // BlazeFace as FaceDetector takes it (2 outputs, no output metadata) is refused for that; the second run of the
    // segmenter model read it from the cache.
    const face = await run(page, { specification: oneStep({ type: 'framewise/mediapipe_object_detector@v1', model_asset_path: MODEL }), video: VIDEO });
    expect(face.error?.message).toContain('no TFLite metadata describing its outputs');
    const again = await run(page, { specification, video: VIDEO });
    expect(again.error?.message).toContain('not an object detection model');
    expect(requests.filter((u) => u.endsWith('selfie_segmenter.tflite'))).toHaveLength(1);
    const origin = new URL(page.url()).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  });

  test('on crops the blocks run in IMAGE mode and their detections move back to the frame (segmenter → crop → faces)', async ({ page }) => {
    await open(page);
    const specification = {
      version: '1.0',
      inputs: [{ type: 'WorkflowImage', name: 'image' }],
      steps: [
        { type: 'framewise/mediapipe_image_segmenter@v1', name: 'people', images: '$inputs.image', model_asset_path: SEGMENTER, class_names: ['person'] },
        { type: 'roboflow_core/dynamic_crop@v1', name: 'crop', images: '$inputs.image', predictions: '$steps.people.predictions' },
        { type: 'framewise/mediapipe_face_detector@v1', name: 'faces', images: '$steps.crop.crops', model_asset_path: MODEL },
      ],
      outputs: [
        { type: 'JsonField', name: 'own', selector: '$steps.faces.predictions' },
        { type: 'JsonField', name: 'parent', selector: '$steps.faces.predictions', coordinates_system: 'parent' },
      ],
    };
    const result = await run(page, { specification, video: VIDEO, serializeResults: true });
    expect(result.error).toBeUndefined();
    expect(result.frames).toHaveLength(FRAMES);
    for (const frame of result.frames) {
      const own = frame.outputs.own as { image: { width: number; height: number }; predictions: Prediction[] }[];
      const parent = frame.outputs.parent as { image: { width: number; height: number }; predictions: Prediction[] }[];
      // One crop (the person's box, [0, 15, 512, 497]), one face on it.
      expect(own).toHaveLength(1);
      expect(own[0]!.image.height).toBeLessThan(512);
      expect(own[0]!.predictions).toHaveLength(1);
      expect(parent[0]!.image).toEqual({ width: 512, height: 512 });
      const p = parent[0]!.predictions[0]!;
      const box = [p.x - p.width / 2, p.y - p.height / 2, p.width, p.height];
      if (frame.frameId === 1) console.log(`face on the crop, in the frame: ${JSON.stringify(box.map((v) => +v.toFixed(1)))}; in the crop: y ${(own[0]!.predictions[0]!.y - own[0]!.predictions[0]!.height / 2).toFixed(1)}`);
      box.forEach((value, i) => expect(Math.abs(value - FACE[i]!), `box[${i}] = ${value.toFixed(1)} on frame ${frame.frameId}`).toBeLessThanOrEqual(6));
      // In the crop's own coordinates the face sits higher by the crop's top offset.
      expect(own[0]!.predictions[0]!.y).toBeLessThan(p.y - 5);
    }
  });
});
