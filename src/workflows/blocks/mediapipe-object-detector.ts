/**
 * `framewise/mediapipe_object_detector@v1`: MediaPipe's ObjectDetector from `@mediapipe/tasks-vision`, in VIDEO
 * mode, inside the workflow worker. Outputs object detections (class names from the model's label map).
 *
 * The model must be a tasks ObjectDetector model: an SSD-style TFLite with its post-processing (4 outputs: boxes,
 * classes, scores, count) or 2 raw outputs with anchor metadata, and TFLite metadata describing the outputs and
 * labels (Google's EfficientDet-Lite and SSD MobileNet tasks models are; the test fixtures turn BlazeFace into
 * one). A model that is not gives a `MediapipeModelError` saying what it lacks. Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import * as v from 'valibot';
import type { Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { mediapipeTaskBlock } from './mediapipe-task-block.ts';
import { scoreProperty } from './shared-properties.ts';

const stringListOrNull = v.nullable(v.array(v.pipe(v.string(), v.minLength(1))));

const properties = {
  score_threshold: scoreProperty(0.5),
  max_results: { kinds: [KIND.INTEGER], literal: v.pipe(v.number(), v.integer(), v.minValue(-1)), default: -1 },
  category_allowlist: { kinds: [KIND.LIST_OF_VALUES], literal: stringListOrNull, default: null },
  category_denylist: { kinds: [KIND.LIST_OF_VALUES], literal: stringListOrNull, default: null },
  class_names: { kinds: [KIND.LIST_OF_VALUES], literal: stringListOrNull, default: null },
} as const;

/**
 * ObjectDetector results → Detections in image pixels. Class names: `classNames[index]` when given, else the
 * model's label, else the index as a string.
 */
export function objectDetectionsToDetections(
  result: { detections: { boundingBox?: { originX: number; originY: number; width: number; height: number }; categories: { score: number; index: number; categoryName: string; displayName: string }[] }[] },
  image: { width: number; height: number },
  parentId: string,
  newId: () => string,
  classNames: readonly string[] = [],
): Detections {
  const found = result.detections.filter((d) => d.boundingBox && d.categories.length > 0);
  const xyxy = new Float32Array(found.length * 4);
  found.forEach((d, i) => {
    const b = d.boundingBox!;
    xyxy.set([b.originX, b.originY, b.originX + b.width, b.originY + b.height], i * 4);
  });
  const top = found.map((d) => d.categories[0]!);
  return {
    xyxy,
    confidence: Float32Array.from(top, (c) => c.score),
    classId: Int32Array.from(top, (c) => c.index),
    data: {
      class_name: top.map((c) => classNames[c.index] ?? (c.categoryName || c.displayName || String(c.index))),
      detection_id: top.map(() => newId()),
      parent_id: top.map(() => parentId),
    },
    image: { width: image.width, height: image.height },
  };
}

/** What an ObjectDetector refusal means, for the messages tasks-vision gives. */
export function explainObjectDetectorModelError(message: string): string | undefined {
  const outputs = /Expected a model with 2 or 4 output tensors, found (\d+)/.exec(message);
  if (outputs) return `it is not an object detection model: ObjectDetector wants 4 outputs (boxes, classes, scores, count) or 2 (raw SSD boxes and scores with anchor metadata); this model has ${outputs[1]}`;
  if (/output tensors metadata/.test(message)) return 'the model has no TFLite metadata describing its outputs (ObjectDetector needs it to decode boxes, scores and labels)';
  if (/NormalizationOptions/.test(message)) return 'the model lacks NormalizationOptions metadata on its float input';
  return undefined;
}

/** `framewise/mediapipe_object_detector@v1`. */
export const MediapipeObjectDetectorV1: BlockManifest = mediapipeTaskBlock({
  type: 'framewise/mediapipe_object_detector@v1',
  aliases: ['MediaPipeObjectDetector', 'mediapipe_object_detector@v1'],
  description: 'MediaPipe ObjectDetector (@mediapipe/tasks-vision) in VIDEO mode: boxes with class names from the model.',
  properties,
  predictionKinds: [KIND.OBJECT_DETECTION_PREDICTION],
  task: 'ObjectDetector',
  modelHint: 'serve an ObjectDetector .tflite (with metadata) from your own origin',
  taskClass: (vision) => vision.ObjectDetector,
  options: (inputs) => ({
    scoreThreshold: inputs.score_threshold as number,
    maxResults: inputs.max_results as number,
    categoryAllowlist: (inputs.category_allowlist as string[] | null) ?? undefined,
    categoryDenylist: (inputs.category_denylist as string[] | null) ?? undefined,
  }),
  explain: explainObjectDetectorModelError,
  process: (detector, source, timestamp) => (timestamp === undefined ? detector.detect(source) : detector.detectForVideo(source, timestamp)),
  predictions: (result, { inputs, frame, runtime }) => {
    const classNames = (inputs.class_names as string[] | null) ?? [];
    return objectDetectionsToDetections(result, frame, frame.parentId, () => runtime.newId(), classNames);
  },
});
