/**
 * `framewise/mediapipe_hand_landmarker@v1`: MediaPipe's HandLandmarker from `@mediapipe/tasks-vision`, in VIDEO mode
 * (it tracks hands from frame to frame), inside the workflow worker. Outputs keypoint detections: one per hand,
 * the 21 hand keypoints in frame pixels, a box around them, and the handedness.
 *
 * The model is a `.task` bundle holding `hand_detector.tflite` and `hand_landmarks_detector.tflite` (each with
 * TFLite input normalisation metadata). Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { explainLandmarkerModelError, landmarksToDetections } from './mediapipe-landmarks.ts';
import { mediapipeTaskBlock } from './mediapipe-task-block.ts';
import { integerFrom } from './props.ts';
import { classNameProperty, scoreProperty } from './shared-properties.ts';

/** Names of the 21 hand keypoints, in the model's output order. */
export const HAND_KEYPOINT_NAMES = [
  'wrist',
  'thumb_cmc',
  'thumb_mcp',
  'thumb_ip',
  'thumb_tip',
  'index_finger_mcp',
  'index_finger_pip',
  'index_finger_dip',
  'index_finger_tip',
  'middle_finger_mcp',
  'middle_finger_pip',
  'middle_finger_dip',
  'middle_finger_tip',
  'ring_finger_mcp',
  'ring_finger_pip',
  'ring_finger_dip',
  'ring_finger_tip',
  'pinky_mcp',
  'pinky_pip',
  'pinky_dip',
  'pinky_tip',
] as const;

const properties = {
  num_hands: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 2 },
  min_hand_detection_confidence: scoreProperty(0.5),
  min_hand_presence_confidence: scoreProperty(0.5),
  min_tracking_confidence: scoreProperty(0.5),
  class_name: classNameProperty('hand'),
} as const;

/** What a HandLandmarker refusal means, for the messages tasks-vision gives. */
export function explainHandModelError(message: string): string | undefined {
  return explainLandmarkerModelError('HandLandmarker', 'hand', message);
}

/** `framewise/mediapipe_hand_landmarker@v1`. */
export const MediapipeHandLandmarkerV1: BlockManifest = mediapipeTaskBlock({
  type: 'framewise/mediapipe_hand_landmarker@v1',
  aliases: ['MediaPipeHandLandmarker', 'mediapipe_hand_landmarker@v1'],
  description: 'MediaPipe HandLandmarker (@mediapipe/tasks-vision) in VIDEO mode: a box, 21 keypoints and the handedness per hand.',
  properties,
  predictionKinds: [KIND.KEYPOINT_DETECTION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION],
  task: 'HandLandmarker',
  modelHint: 'serve a HandLandmarker .task bundle from your own origin',
  taskClass: (vision) => vision.HandLandmarker,
  options: (inputs) => ({
    numHands: inputs.num_hands as number,
    minHandDetectionConfidence: inputs.min_hand_detection_confidence as number,
    minHandPresenceConfidence: inputs.min_hand_presence_confidence as number,
    minTrackingConfidence: inputs.min_tracking_confidence as number,
  }),
  explain: explainHandModelError,
  process: (landmarker, source, timestamp) => (timestamp === undefined ? landmarker.detect(source) : landmarker.detectForVideo(source, timestamp)),
  predictions: (result, { inputs, frame, runtime }) => {
    const className = inputs.class_name as string;
    const handedness = result.landmarks.map((_, i) => result.handedness[i]?.[0]);
    const instances = result.landmarks.map((landmarks, i) => ({
      landmarks,
      className,
      classId: 0,
      // tasks-vision gives no per-keypoint scores for hands, nor a hand score: the handedness score stands in.
      keypointScores: landmarks.map(() => 1),
      confidence: handedness[i]?.score ?? 1,
    }));
    return landmarksToDetections(instances, frame, {
      names: HAND_KEYPOINT_NAMES,
      boxKeypointThreshold: 0,
      parentId: frame.parentId,
      newId: () => runtime.newId(),
      extra: { handedness: handedness.map((h) => (h?.categoryName ?? '').toLowerCase()), handedness_confidence: handedness.map((h) => h?.score ?? 0) },
    });
  },
});
