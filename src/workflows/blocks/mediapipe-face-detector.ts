/**
 * `framewise/mediapipe_face_detector@v1`: MediaPipe's FaceDetector (BlazeFace) from `@mediapipe/tasks-vision`, in
 * VIDEO mode, inside the workflow worker on the frame. Outputs detections (class `face`, with the six BlazeFace
 * keypoints) that the filter, tracker, counters and visualisations accept.
 *
 * The WASM fileset (from our own origin), the model asset cache, the telemetry guard and VIDEO-mode timestamps are
 * shared with the other MediaPipe blocks: see `mediapipe-runtime.ts`.
 */
import type { Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { mediapipeTaskBlock } from './mediapipe-task-block.ts';
import { classNameProperty, scoreProperty } from './shared-properties.ts';

/** Names of BlazeFace's six keypoints, in its output order. */
export const FACE_KEYPOINT_NAMES = ['right_eye', 'left_eye', 'nose_tip', 'mouth_center', 'right_ear_tragion', 'left_ear_tragion'] as const;

const properties = {
  min_detection_confidence: scoreProperty(0.5),
  min_suppression_threshold: scoreProperty(0.3),
  class_name: classNameProperty('face'),
} as const;

/** MediaPipe FaceDetector results → Detections in image pixels (keypoints converted from normalised coordinates). */
export function faceDetectionsToDetections(
  result: { detections: { boundingBox?: { originX: number; originY: number; width: number; height: number }; categories: { score: number }[]; keypoints: { x: number; y: number; score?: number; label?: string }[] }[] },
  image: { width: number; height: number },
  className: string,
  parentId: string,
): Detections {
  const found = result.detections.filter((d) => d.boundingBox);
  const n = found.length;
  const k = n > 0 ? Math.max(...found.map((d) => d.keypoints.length)) : FACE_KEYPOINT_NAMES.length;
  const xyxy = new Float32Array(n * 4);
  const xy = new Float32Array(n * k * 2);
  const kpConfidence = new Float32Array(n * k);
  found.forEach((d, i) => {
    const b = d.boundingBox!;
    xyxy.set([b.originX, b.originY, b.originX + b.width, b.originY + b.height], i * 4);
    d.keypoints.forEach((p, j) => {
      xy[(i * k + j) * 2] = p.x * image.width;
      xy[(i * k + j) * 2 + 1] = p.y * image.height;
      kpConfidence[i * k + j] = p.score ?? 1;
    });
  });
  return {
    xyxy,
    confidence: Float32Array.from(found, (d) => d.categories[0]?.score ?? 0),
    classId: new Int32Array(n),
    data: { class_name: found.map(() => className), detection_id: found.map(() => crypto.randomUUID()), parent_id: found.map(() => parentId) },
    keypoints: { perDetection: k, xy, confidence: kpConfidence, names: k === FACE_KEYPOINT_NAMES.length ? [...FACE_KEYPOINT_NAMES] : undefined },
    image: { width: image.width, height: image.height },
  };
}

/** `framewise/mediapipe_face_detector@v1`. */
export const MediapipeFaceDetectorV1: BlockManifest = mediapipeTaskBlock({
  type: 'framewise/mediapipe_face_detector@v1',
  aliases: ['MediaPipeFaceDetector', 'mediapipe_face_detector@v1'],
  description: 'MediaPipe FaceDetector (BlazeFace, @mediapipe/tasks-vision) in VIDEO mode: face boxes with six keypoints.',
  properties,
  predictionKinds: [KIND.KEYPOINT_DETECTION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION],
  task: 'FaceDetector',
  modelHint: 'serve a FaceDetector .tflite from your own origin (the demo ships /models/face_detector_short_range.tflite)',
  taskClass: (vision) => vision.FaceDetector,
  options: (inputs) => ({
    minDetectionConfidence: inputs.min_detection_confidence as number,
    minSuppressionThreshold: inputs.min_suppression_threshold as number,
  }),
  process: (detector, source, timestamp) => (timestamp === undefined ? detector.detect(source) : detector.detectForVideo(source, timestamp)),
  predictions: (result, { inputs, frame }) => faceDetectionsToDetections(result, frame, inputs.class_name as string, frame.parentId),
});
