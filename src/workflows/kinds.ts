/**
 * Kinds: the type tags Roboflow's Workflows put on step inputs and outputs. A selector may feed a property only
 * when the kinds declared on both sides share one (or either side is the wildcard `*`).
 */

/** A kind name, as Roboflow spells it (`image`, `object_detection_prediction`, …). */
export type Kind = string;

/** The kinds used by the blocks here. */
export const KIND = {
  WILDCARD: '*',
  IMAGE: 'image',
  VIDEO_METADATA: 'video_metadata',
  OBJECT_DETECTION_PREDICTION: 'object_detection_prediction',
  KEYPOINT_DETECTION_PREDICTION: 'keypoint_detection_prediction',
  INSTANCE_SEGMENTATION_PREDICTION: 'instance_segmentation_prediction',
  ROBOFLOW_MODEL_ID: 'roboflow_model_id',
  INFERENCE_ID: 'inference_id',
  STRING: 'string',
  INTEGER: 'integer',
  FLOAT: 'float',
  FLOAT_ZERO_TO_ONE: 'float_zero_to_one',
  BOOLEAN: 'boolean',
  LIST_OF_VALUES: 'list_of_values',
  DICTIONARY: 'dictionary',
  ZONE: 'zone',
  POINT: 'point',
  RGB_COLOR: 'rgb_color',
} as const;

/** Detection-like predictions, which the filter, tracker, counters and visualisations accept. */
export const DETECTION_KINDS: readonly Kind[] = [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION, KIND.KEYPOINT_DETECTION_PREDICTION];

/** Whether a value of kinds `produced` may feed a property accepting `accepted`. */
export function kindsCompatible(produced: readonly Kind[], accepted: readonly Kind[]): boolean {
  if (produced.includes(KIND.WILDCARD) || accepted.includes(KIND.WILDCARD)) return true;
  return produced.some((k) => accepted.includes(k));
}
