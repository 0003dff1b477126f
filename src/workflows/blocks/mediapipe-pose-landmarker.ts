/**
 * `framewise/mediapipe_pose_landmarker@v1`: MediaPipe's PoseLandmarker (BlazePose GHUM) from
 * `@mediapipe/tasks-vision`, in VIDEO mode (it tracks the pose from frame to frame), inside the workflow worker.
 * Outputs keypoint detections: one per pose, the 33 BlazePose keypoints in frame pixels (score: visibility) and a
 * box around the visible ones.
 *
 * The model is a `.task` bundle holding `pose_detector.tflite` and `pose_landmarks_detector.tflite` (each with
 * TFLite input normalisation metadata). Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import * as v from 'valibot';
import type { PoseLandmarker } from '@mediapipe/tasks-vision';
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { landmarksToDetections } from './mediapipe-landmarks.ts';
import { createMediapipeTask, detectionsOnImage, MEDIAPIPE_COMMON_PROPERTIES, mediapipeCall, mediapipeRunningMode, MediapipeTaskSlot } from './mediapipe-runtime.ts';
import { integerFrom, zeroToOne } from './props.ts';

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
  ...MEDIAPIPE_COMMON_PROPERTIES,
  num_poses: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
  min_pose_detection_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  min_pose_presence_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  min_tracking_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  keypoint_visibility_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  class_name: { kinds: [KIND.STRING], literal: v.pipe(v.string(), v.minLength(1)), default: 'person' },
} as const;

/** What a PoseLandmarker refusal means, for the messages tasks-vision gives. */
export function explainPoseModelError(message: string): string | undefined {
  if (/pose_detector\.tflite|pose_landmarks_detector\.tflite|bundle|zip/i.test(message)) {
    return 'a PoseLandmarker model is a .task bundle (a zip) holding pose_detector.tflite and pose_landmarks_detector.tflite';
  }
  if (/NormalizationOptions/.test(message)) return 'a model in the bundle lacks NormalizationOptions metadata on its float input';
  return undefined;
}

/** `framewise/mediapipe_pose_landmarker@v1`. */
export const MediapipePoseLandmarkerV1: BlockManifest = {
  type: 'framewise/mediapipe_pose_landmarker@v1',
  aliases: ['MediaPipePoseLandmarker', 'mediapipe_pose_landmarker@v1'],
  description: 'MediaPipe PoseLandmarker (BlazePose, @mediapipe/tasks-vision) in VIDEO mode: a box and 33 keypoints per person.',
  properties,
  outputs: () => [{ name: 'predictions', kinds: [KIND.KEYPOINT_DETECTION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION] }],
  create: () => {
    const slot = new MediapipeTaskSlot<PoseLandmarker>();
    return {
      async run(inputs, { runtime }) {
        const call = mediapipeCall(inputs, runtime, 'serve a PoseLandmarker .task bundle from your own origin');
        const options = {
          numPoses: inputs.num_poses as number,
          minPoseDetectionConfidence: inputs.min_pose_detection_confidence as number,
          minPosePresenceConfidence: inputs.min_pose_presence_confidence as number,
          minTrackingConfidence: inputs.min_tracking_confidence as number,
        };
        const mode = mediapipeRunningMode(call.frame);
        const landmarker = await slot.get([call.modelPath, call.wasmPath, call.delegate, options, mode], () =>
          createMediapipeTask(
            'PoseLandmarker',
            call,
            async (fileset, model) => {
              const { PoseLandmarker } = await import('@mediapipe/tasks-vision');
              return PoseLandmarker.createFromOptions(fileset, { baseOptions: { modelAssetBuffer: model, delegate: call.delegate }, runningMode: mode, ...options });
            },
            explainPoseModelError,
          ),
        );
        const source = call.frame.source as TexImageSource;
        const result = mode === 'VIDEO' ? landmarker.detectForVideo(source, slot.clock.next()) : landmarker.detect(source);
        try {
          const className = inputs.class_name as string;
          const instances = result.landmarks.map((landmarks) => {
            const scores = landmarks.map((p) => p.visibility ?? 1);
            return { landmarks, className, classId: 0, keypointScores: scores, confidence: scores.reduce((a, b) => a + b, 0) / Math.max(scores.length, 1) };
          });
          const predictions = landmarksToDetections(instances, call.frame, {
            names: POSE_KEYPOINT_NAMES,
            boxKeypointThreshold: inputs.keypoint_visibility_threshold as number,
            parentId: call.frame.parentId,
            newId: () => runtime.newId(),
          });
          return { predictions: detectionsOnImage(predictions, call.frame) };
        } finally {
          result.close();
        }
      },
    };
  },
};
