/** `roboflow_core/detections_filter@v1`: keeps the detections a query-language statement accepts. */
import { isDetections } from '../detections.ts';
import { DETECTION_KINDS, KIND } from '../kinds.ts';
import { applyOperations, OperationsSchema, type Operation } from '../query-language.ts';
import type { BlockManifest } from './block.ts';
import { anything } from './props.ts';

/** `roboflow_core/detections_filter@v1` (alias DetectionsFilter). */
export const DetectionsFilterV1: BlockManifest = {
  type: 'roboflow_core/detections_filter@v1',
  aliases: ['DetectionsFilter', 'detections_filter@v1'],
  description: 'Filters detections with the query language (StatementGroup of comparisons on detection properties).',
  properties: {
    predictions: { kinds: DETECTION_KINDS, required: true },
    operations: { literal: OperationsSchema, required: true },
    operations_parameters: { kinds: [KIND.WILDCARD], literal: anything, dictOfSelectors: true, default: {} },
  },
  outputs: () => [{ name: 'predictions', kinds: [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION, KIND.KEYPOINT_DETECTION_PREDICTION] }],
  create: () => ({
    run(inputs) {
      if (!isDetections(inputs.predictions)) throw new TypeError('predictions must be detections');
      const out = applyOperations(inputs.predictions, inputs.operations as Operation[], (inputs.operations_parameters ?? {}) as Record<string, unknown>);
      if (!isDetections(out)) throw new TypeError('the operations must leave detections (use DetectionsFilter operations)');
      return { predictions: out };
    },
  }),
};
