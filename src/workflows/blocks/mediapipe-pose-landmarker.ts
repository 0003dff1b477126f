/**
 * `framewise/mediapipe_pose_landmarker@v1`: MediaPipe's PoseLandmarker (BlazePose GHUM) from
 * `@mediapipe/tasks-vision`, in VIDEO mode (it tracks the pose from frame to frame), inside the workflow worker.
 * Outputs keypoint detections: one per pose, the 33 BlazePose keypoints in frame pixels (score: visibility) and a
 * box around the visible ones.
 *
 * The model is a `.task` bundle holding `pose_detector.tflite` and `pose_landmarks_detector.tflite` (each with
 * TFLite input normalisation metadata). Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { explainLandmarkerModelError, landmarksToDetections } from './mediapipe-landmarks.ts';
import { mediapipeTaskBlock } from './mediapipe-task-block.ts';
import { integerFrom } from './props.ts';
import { classNameProperty, scoreProperty } from './shared-properties.ts';

/** Names of BlazePose's 33 keypoints, in its output order. */
export const POSE_KEYPOINT_NAMES = [
  'nose',
  'left_eye_inner',
  'left_eye',
  'left_eye_outer',
  'right_eye_inner',
  'right_eye',
  'right_eye_outer',
  'left_ear',
  'right_ear',
  'mouth_left',
  'mouth_right',
  'left_shoulder',
  'right_shoulder',
  'left_elbow',
  'right_elbow',
  'left_wrist',
  'right_wrist',
  'left_pinky',
  'right_pinky',
  'left_index',
  'right_index',
  'left_thumb',
  'right_thumb',
  'left_hip',
  'right_hip',
  'left_knee',
  'right_knee',
  'left_ankle',
  'right_ankle',
  'left_heel',
  'right_heel',
  'left_foot_index',
  'right_foot_index',
] as const;

const properties = {
  num_poses: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
  min_pose_detection_confidence: scoreProperty(0.5),
  min_pose_presence_confidence: scoreProperty(0.5),
  min_tracking_confidence: scoreProperty(0.5),
  keypoint_visibility_threshold: scoreProperty(0.5),
  class_name: classNameProperty('person'),
} as const;

/** What a PoseLandmarker refusal means, for the messages tasks-vision gives. */
export function explainPoseModelError(message: string): string | undefined {
  return explainLandmarkerModelError('PoseLandmarker', 'pose', message);
}

/** `framewise/mediapipe_pose_landmarker@v1`. */
export const MediapipePoseLandmarkerV1: BlockManifest = mediapipeTaskBlock({
  type: 'framewise/mediapipe_pose_landmarker@v1',
  aliases: ['MediaPipePoseLandmarker', 'mediapipe_pose_landmarker@v1'],
  description: 'MediaPipe PoseLandmarker (BlazePose, @mediapipe/tasks-vision) in VIDEO mode: a box and 33 keypoints per person.',
  properties,
  predictionKinds: [KIND.KEYPOINT_DETECTION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION],
  task: 'PoseLandmarker',
  modelHint: 'serve a PoseLandmarker .task bundle from your own origin',
  taskClass: (vision) => vision.PoseLandmarker,
  options: (inputs) => ({
    numPoses: inputs.num_poses as number,
    minPoseDetectionConfidence: inputs.min_pose_detection_confidence as number,
    minPosePresenceConfidence: inputs.min_pose_presence_confidence as number,
    minTrackingConfidence: inputs.min_tracking_confidence as number,
  }),
  explain: explainPoseModelError,
  process: (landmarker, source, timestamp) => (timestamp === undefined ? landmarker.detect(source) : landmarker.detectForVideo(source, timestamp)),
  predictions: (result, { inputs, frame, runtime }) => {
    const className = inputs.class_name as string;
    const instances = result.landmarks.map((landmarks) => {
      const scores = landmarks.map((p) => p.visibility ?? 1);
      return { landmarks, className, classId: 0, keypointScores: scores, confidence: scores.reduce((a, b) => a + b, 0) / Math.max(scores.length, 1) };
    });
    return landmarksToDetections(instances, frame, {
      names: POSE_KEYPOINT_NAMES,
      boxKeypointThreshold: inputs.keypoint_visibility_threshold as number,
      parentId: frame.parentId,
      newId: () => runtime.newId(),
    });
  },
});
