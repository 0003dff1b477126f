/**
 * MediaPipe blocks in the workflow worker, on real frames: FaceDetector (tasks-vision, VIDEO mode, module WASM
 * served from our origin) with the BlazeFace model the fixtures make from @mediapipe/face_detection's, on a video
 * of NASA's public-domain astronaut photo (one face at [177, 82, 95, 95] on 512×512).
 */
import { expect, test, type Page } from '@playwright/test';
import type { WorkflowRunRequest, WorkflowRunResult, WorkflowsHarness } from './pages/workflows-harness.ts';

const PAGE = '/tests/e2e/pages/workflows-harness.html';
const VIDEO = '/tests/fixtures/generated/astronaut.mp4';
const MODEL = '/tests/fixtures/generated/face_detector_short_range.tflite';
const FRAMES = 10;
/** [x, y, width, height] of the face, from tasks-vision on the original PNG. */
const FACE = [177, 82, 95, 95] as const;
const TOLERANCE_PX = 4;

interface Prediction {
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  class: string;
  tracker_id?: number;
  keypoints?: { x: number; y: number; confidence: number; class_name?: string }[];
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
      const block = (await import('/src/workflows/blocks/mediapipe-face-detector.ts' as string)) as typeof import('../../src/workflows/blocks/mediapipe-face-detector.ts');
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
});
