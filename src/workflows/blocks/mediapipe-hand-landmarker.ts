/**
 * `framewise/mediapipe_hand_landmarker@v1`: MediaPipe's HandLandmarker from `@mediapipe/tasks-vision`, in VIDEO mode
 * (it tracks hands from frame to frame), inside the workflow worker. Outputs keypoint detections: one per hand,
 * the 21 hand keypoints in frame pixels, a box around them, and the handedness.
 *
 * The model is a `.task` bundle holding `hand_detector.tflite` and `hand_landmarks_detector.tflite` (each with
 * TFLite input normalisation metadata). Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import * as v from 'valibot';
import type { HandLandmarker } from '@mediapipe/tasks-vision';
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { landmarksToDetections } from './mediapipe-landmarks.ts';
import { createMediapipeTask, detectionsOnImage, MEDIAPIPE_COMMON_PROPERTIES, mediapipeCall, mediapipeRunningMode, MediapipeTaskSlot } from './mediapipe-runtime.ts';
import { integerFrom, zeroToOne } from './props.ts';

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
  ...MEDIAPIPE_COMMON_PROPERTIES,
  num_hands: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 2 },
  min_hand_detection_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  min_hand_presence_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  min_tracking_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  class_name: { kinds: [KIND.STRING], literal: v.pipe(v.string(), v.minLength(1)), default: 'hand' },
} as const;

/** What a HandLandmarker refusal means, for the messages tasks-vision gives. */
export function explainHandModelError(message: string): string | undefined {
  if (/hand_detector\.tflite|hand_landmarks_detector\.tflite|bundle|zip/i.test(message)) {
    return 'a HandLandmarker model is a .task bundle (a zip) holding hand_detector.tflite and hand_landmarks_detector.tflite';
  }
  if (/NormalizationOptions/.test(message)) return 'a model in the bundle lacks NormalizationOptions metadata on its float input';
  return undefined;
}

/** `framewise/mediapipe_hand_landmarker@v1`. */
export const MediapipeHandLandmarkerV1: BlockManifest = {
  type: 'framewise/mediapipe_hand_landmarker@v1',
  aliases: ['MediaPipeHandLandmarker', 'mediapipe_hand_landmarker@v1'],
  description: 'MediaPipe HandLandmarker (@mediapipe/tasks-vision) in VIDEO mode: a box, 21 keypoints and the handedness per hand.',
  properties,
  outputs: () => [{ name: 'predictions', kinds: [KIND.KEYPOINT_DETECTION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION] }],
  create: () => {
    const slot = new MediapipeTaskSlot<HandLandmarker>();
    return {
      async run(inputs, { runtime }) {
        const call = mediapipeCall(inputs, runtime, 'serve a HandLandmarker .task bundle from your own origin');
        const options = {
          numHands: inputs.num_hands as number,
          minHandDetectionConfidence: inputs.min_hand_detection_confidence as number,
          minHandPresenceConfidence: inputs.min_hand_presence_confidence as number,
          minTrackingConfidence: inputs.min_tracking_confidence as number,
        };
        const mode = mediapipeRunningMode(call.frame);
        const landmarker = await slot.get([call.modelPath, call.wasmPath, call.delegate, options, mode], () =>
          createMediapipeTask(
            'HandLandmarker',
            call,
            async (fileset, model) => {
              const { HandLandmarker } = await import('@mediapipe/tasks-vision');
              return HandLandmarker.createFromOptions(fileset, { baseOptions: { modelAssetBuffer: model, delegate: call.delegate }, runningMode: mode, ...options });
            },
            explainHandModelError,
          ),
        );
        const source = call.frame.source as TexImageSource;
        const result = mode === 'VIDEO' ? landmarker.detectForVideo(source, slot.clock.next()) : landmarker.detect(source);
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
        const predictions = landmarksToDetections(instances, call.frame, {
          names: HAND_KEYPOINT_NAMES,
          boxKeypointThreshold: 0,
          parentId: call.frame.parentId,
          newId: () => runtime.newId(),
          extra: { handedness: handedness.map((h) => (h?.categoryName ?? '').toLowerCase()), handedness_confidence: handedness.map((h) => h?.score ?? 0) },
        });
        return { predictions: detectionsOnImage(predictions, call.frame) };
      },
    };
  },
};
