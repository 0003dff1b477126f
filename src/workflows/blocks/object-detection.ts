/**
 * `roboflow_core/roboflow_object_detection_model@v1` and `@v2`: runs an object detection model (anything the model
 * registry accepts) on the image, in the worker next to the other steps.
 */
import * as v from 'valibot';
import type { ModelReference } from '../../models/model-spec.ts';
import { KIND } from '../kinds.ts';
import { modelKey, type BlockManifest, type WorkflowImageValue, isWorkflowImage } from './block.ts';
import { bool, integerFrom, stringList } from './props.ts';
import { IMAGES_INPUT, scoreProperty } from './shared-properties.ts';

const modelReference = v.union([
  v.pipe(v.string(), v.minLength(1, 'a model id must not be empty')),
  v.looseObject({ url: v.pipe(v.string(), v.minLength(1)) }),
]);

const properties = {
  images: IMAGES_INPUT,
  model_id: { kinds: [KIND.ROBOFLOW_MODEL_ID, KIND.STRING], literal: modelReference, required: true },
  confidence: scoreProperty(0.4),
  iou_threshold: scoreProperty(0.3),
  class_filter: { kinds: [KIND.LIST_OF_VALUES], literal: v.nullable(stringList) },
  max_detections: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 300 },
  class_agnostic_nms: { kinds: [KIND.BOOLEAN], literal: bool, default: false },
  max_candidates: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 3000 },
  disable_active_learning: { kinds: [KIND.BOOLEAN], literal: bool, default: true },
  active_learning_target_dataset: { kinds: [KIND.STRING], literal: v.nullable(v.string()) },
} as const;

/** The model id as Roboflow's v2 output reports it. */
export function modelIdText(reference: unknown): string {
  if (typeof reference === 'string') return reference;
  if (typeof reference === 'object' && reference !== null && typeof (reference as { url?: unknown }).url === 'string') return (reference as { url: string }).url;
  return 'local model';
}

function manifest(version: 1 | 2): BlockManifest {
  return {
    type: `roboflow_core/roboflow_object_detection_model@v${version}`,
    aliases: version === 1 ? ['ObjectDetectionModel', 'RoboflowObjectDetectionModel', 'roboflow_object_detection_model@v1'] : ['roboflow_object_detection_model@v2'],
    description: 'Object detection model (RF-DETR through the model registry): boxes, classes and scores.',
    properties,
    outputs: () =>
      version === 1
        ? [
            { name: 'inference_id', kinds: [KIND.INFERENCE_ID] },
            { name: 'predictions', kinds: [KIND.OBJECT_DETECTION_PREDICTION] },
          ]
        : [
            { name: 'inference_id', kinds: [KIND.INFERENCE_ID] },
            { name: 'predictions', kinds: [KIND.OBJECT_DETECTION_PREDICTION] },
            { name: 'model_id', kinds: [KIND.ROBOFLOW_MODEL_ID] },
          ],
    modelOf: (p) => p.model_id as ModelReference | undefined,
    create: () => ({
      async run(inputs, { runtime }) {
        const image = inputs.images;
        if (!isWorkflowImage(image)) throw new TypeError(`images must be an image, got ${typeof image}`);
        // model_id may come from a step output and change per frame: check it like a literal.
        const checked = v.safeParse(modelReference, inputs.model_id);
        if (!checked.success) throw new TypeError(`model_id must be a model id or { url }, got ${JSON.stringify(inputs.model_id) ?? typeof inputs.model_id}`);
        const reference = inputs.model_id as ModelReference;
        const inferenceId = runtime.newId();
        const detected = await runtime.detect(modelKey(reference), image as WorkflowImageValue, {
          confidence: inputs.confidence as number,
          iouThreshold: inputs.iou_threshold as number,
          maxDetections: inputs.max_detections as number,
          classAgnosticNms: inputs.class_agnostic_nms as boolean,
          classFilter: (inputs.class_filter as string[] | null | undefined) ?? undefined,
        }, reference);
        // On a crop, the predictions remember where the crop lies (for coordinates_system: parent).
        const predictions = image.origin ? { ...detected, origin: image.origin } : detected;
        const out: Record<string, unknown> = { inference_id: inferenceId, predictions };
        if (version === 2) out.model_id = modelIdText(reference);
        return out;
      },
    }),
  };
}

/** `roboflow_core/roboflow_object_detection_model@v1` (aliases ObjectDetectionModel, RoboflowObjectDetectionModel). */
export const ObjectDetectionModelV1 = manifest(1);
/** `roboflow_core/roboflow_object_detection_model@v2`: adds the `model_id` output. */
export const ObjectDetectionModelV2 = manifest(2);
