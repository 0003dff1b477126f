/**
 * MediaPipe landmarks (normalised `x`, `y` per keypoint) as keypoint detections: one detection per pose or hand,
 * keypoints in image pixels, and a box around the keypoints, so the filter, tracker, counters and visualisations
 * take them as they take model predictions; and what a landmarker's refusal of its `.task` bundle means.
 */
import type { Detections } from '../detections.ts';

/** One landmark as tasks-vision returns it (normalised to the image). */
export interface NormalizedLandmarkLike {
  x: number;
  y: number;
  visibility?: number;
}

/** One landmark set (a pose, a hand) and what the detection says about it. */
export interface LandmarkInstance {
  landmarks: readonly NormalizedLandmarkLike[];
  className: string;
  classId: number;
  confidence: number;
  /** Score per keypoint (visibility for poses; 1 where the model gives none). */
  keypointScores: readonly number[];
}

/**
 * Keypoint detections from landmark sets. The box is the extent of the keypoints whose score is at least
 * `boxKeypointThreshold` (all of them when none is), clamped to the image.
 */
export function landmarksToDetections(
  instances: readonly LandmarkInstance[],
  image: { width: number; height: number },
  options: { names: readonly string[]; boxKeypointThreshold: number; parentId: string; newId: () => string; extra?: Record<string, string[] | number[]> },
): Detections {
  const n = instances.length;
  const k = options.names.length;
  const xyxy = new Float32Array(n * 4);
  const xy = new Float32Array(n * k * 2);
  const scores = new Float32Array(n * k);
  const clampX = (x: number) => Math.min(Math.max(x, 0), image.width);
  const clampY = (y: number) => Math.min(Math.max(y, 0), image.height);
  instances.forEach((instance, i) => {
    if (instance.landmarks.length !== k) throw new Error(`expected ${k} landmarks, got ${instance.landmarks.length}`);
    let box = [Infinity, Infinity, -Infinity, -Infinity];
    const boxAll = [Infinity, Infinity, -Infinity, -Infinity];
    const grow = (b: number[], x: number, y: number) => {
      b[0] = Math.min(b[0]!, x);
      b[1] = Math.min(b[1]!, y);
      b[2] = Math.max(b[2]!, x);
      b[3] = Math.max(b[3]!, y);
    };
    instance.landmarks.forEach((p, j) => {
      const x = p.x * image.width;
      const y = p.y * image.height;
      xy[(i * k + j) * 2] = x;
      xy[(i * k + j) * 2 + 1] = y;
      const score = instance.keypointScores[j] ?? 1;
      scores[i * k + j] = score;
      grow(boxAll, x, y);
      if (score >= options.boxKeypointThreshold) grow(box, x, y);
    });
    if (!Number.isFinite(box[0])) box = boxAll;
    xyxy.set([clampX(box[0]!), clampY(box[1]!), clampX(box[2]!), clampY(box[3]!)], i * 4);
  });
  return {
    xyxy,
    confidence: Float32Array.from(instances, (d) => d.confidence),
    classId: Int32Array.from(instances, (d) => d.classId),
    data: {
      class_name: instances.map((d) => d.className),
      detection_id: instances.map(() => options.newId()),
      parent_id: instances.map(() => options.parentId),
      ...options.extra,
    },
    keypoints: { perDetection: k, xy, confidence: scores, names: [...options.names] },
    image: { width: image.width, height: image.height },
  };
}

/**
 * What a landmarker's refusal of its model means, for the messages tasks-vision gives: its model is a `.task` bundle
 * (a zip) holding `<part>_detector.tflite` and `<part>_landmarks_detector.tflite`, each with input normalisation
 * metadata. `task` names the landmarker (`HandLandmarker`), `part` what it finds (`hand`).
 */
export function explainLandmarkerModelError(task: string, part: string, message: string): string | undefined {
  if (new RegExp(`${part}_detector\\.tflite|${part}_landmarks_detector\\.tflite|bundle|zip`, 'i').test(message)) {
    return `a ${task} model is a .task bundle (a zip) holding ${part}_detector.tflite and ${part}_landmarks_detector.tflite`;
  }
  if (/NormalizationOptions/.test(message)) return 'a model in the bundle lacks NormalizationOptions metadata on its float input';
  return undefined;
}
