/** `roboflow_core/line_counter@v1` and `@v2`: supervision's LineZone per video. */
import { isDetections, maskToIndices, selectDetections, type Position } from '../detections.ts';
import { DETECTION_KINDS, KIND } from '../kinds.ts';
import { LineZone, LINE_ZONE_DEFAULT_ANCHORS } from '../line-zone.ts';
import { WorkflowSyntaxError } from '../workflow-errors.ts';
import type { BlockInstance, BlockManifest, VideoMetadata } from './block.ts';
import { PerVideo } from './per-video.ts';
import { lineSegment, position } from './props.ts';
import { BOX_OR_MASK_PREDICTIONS_INPUT, VIDEO_METADATA_INPUT } from './shared-properties.ts';

/** `roboflow_core/line_counter@v2`. */
export const LineCounterV2: BlockManifest = {
  type: 'roboflow_core/line_counter@v2',
  aliases: ['line_counter@v2'],
  description: 'Counts tracked detections crossing a line (supervision LineZone): count_in, count_out.',
  properties: {
    image: { kinds: [KIND.IMAGE] },
    metadata: { kinds: [KIND.VIDEO_METADATA] },
    detections: { kinds: DETECTION_KINDS, required: true },
    line_segment: { kinds: [KIND.LIST_OF_VALUES, KIND.ZONE], literal: lineSegment, required: true },
    triggering_anchor: { kinds: [KIND.STRING], literal: position },
  },
  outputs: () => [
    { name: 'count_in', kinds: [KIND.INTEGER] },
    { name: 'count_out', kinds: [KIND.INTEGER] },
    { name: 'detections_in', kinds: [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION] },
    { name: 'detections_out', kinds: [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION] },
  ],
  validate: (literals, step) => {
    const line = literals.line_segment as [number, number][] | undefined;
    if (line && line[0]![0] === line[1]![0] && line[0]![1] === line[1]![1]) {
      throw new WorkflowSyntaxError("the line's two points are the same", { step, property: 'line_segment', value: line });
    }
  },
  create: (step) => lineCounterInstance(step, 2),
};

/** The counter shared by both versions; v1 reads the video from its `metadata` input and outputs only the counts. */
function lineCounterInstance(step: string, version: 1 | 2): BlockInstance {
  let zones: PerVideo<LineZone> | undefined;
  return {
    run(inputs, context) {
      const video = version === 1 && typeof inputs.metadata === 'object' && inputs.metadata !== null ? (inputs.metadata as VideoMetadata) : context.video;
      const detections = inputs.detections;
      if (!isDetections(detections)) throw new TypeError('detections must be detections');
      const line = inputs.line_segment as [[number, number], [number, number]];
      const anchors: readonly Position[] = inputs.triggering_anchor ? [inputs.triggering_anchor as Position] : LINE_ZONE_DEFAULT_ANCHORS;
      zones ??= new PerVideo(() => new LineZone(line[0], line[1], anchors));
      if (!detections.trackerId && detections.confidence.length > 0) {
        throw new TypeError(`step "${step}" (line_counter) requires tracked detections: tracker_id is missing, so put a byte_tracker step before it`);
      }
      const zone = zones.get(video.video_identifier);
      const { crossedIn, crossedOut } = zone.trigger(detections);
      if (version === 1) return { count_in: zone.inCount, count_out: zone.outCount };
      return {
        count_in: zone.inCount,
        count_out: zone.outCount,
        detections_in: selectDetections(detections, maskToIndices(crossedIn)),
        detections_out: selectDetections(detections, maskToIndices(crossedOut)),
      };
    },
  };
}

/** `roboflow_core/line_counter@v1` (alias LineCounter): `metadata` + tracked `detections`; outputs `count_in`, `count_out`. */
export const LineCounterV1: BlockManifest = {
  type: 'roboflow_core/line_counter@v1',
  aliases: ['LineCounter', 'line_counter@v1'],
  description: 'Counts tracked detections crossing a line (supervision LineZone): count_in, count_out only.',
  properties: {
    metadata: VIDEO_METADATA_INPUT,
    detections: BOX_OR_MASK_PREDICTIONS_INPUT,
    line_segment: { kinds: [KIND.LIST_OF_VALUES, KIND.ZONE], literal: lineSegment, required: true },
    triggering_anchor: { kinds: [KIND.STRING], literal: position, default: 'CENTER' },
  },
  outputs: () => [
    { name: 'count_in', kinds: [KIND.INTEGER] },
    { name: 'count_out', kinds: [KIND.INTEGER] },
  ],
  validate: (literals, step) => LineCounterV2.validate!(literals, step),
  create: (step) => lineCounterInstance(step, 1),
};
