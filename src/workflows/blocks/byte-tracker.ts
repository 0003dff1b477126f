/**
 * `roboflow_core/byte_tracker@v1`, `@v2` and `@v3`: ByteTrack per video. v1 reads the video metadata from its
 * `metadata` input, v2 and v3 from the image; v3 adds a per-video instance cache telling new instances from ones
 * already seen. One implementation, three thin manifests.
 */
import * as v from 'valibot';
import { ByteTrack } from '../byte-track.ts';
import { isDetections, selectDetections, type Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import { isWorkflowImage, type BlockInstance, type BlockManifest, type PropertySpec, type VideoMetadata } from './block.ts';
import { PerVideo } from './per-video.ts';
import { integerFrom, numberIn, zeroToOne } from './props.ts';
import { BOX_OR_MASK_PREDICTIONS_INPUT, IMAGE_INPUT, VIDEO_METADATA_INPUT } from './shared-properties.ts';

const TRACKED_KINDS = [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION, KIND.KEYPOINT_DETECTION_PREDICTION];

/** A FIFO set of tracker ids seen in one video (Roboflow's `InstanceCache`). */
class InstanceCache {
  private readonly order: number[] = [];
  private readonly seen = new Set<number>();
  constructor(private readonly size: number) {}

  /** Records `id`; returns whether it had been seen before. */
  record(id: number): boolean {
    if (this.seen.has(id)) return true;
    this.seen.add(id);
    this.order.push(id);
    while (this.order.length > this.size) this.seen.delete(this.order.shift()!);
    return false;
  }
}

const tuning: Record<string, PropertySpec> = {
  track_activation_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: zeroToOne, default: 0.25 },
  lost_track_buffer: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 30 },
  minimum_matching_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: zeroToOne, default: 0.8 },
};

/** v2's properties, which v3 extends: the video metadata comes from `image`. */
const imageTrackerProperties: Record<string, PropertySpec> = {
  image: IMAGE_INPUT,
  detections: BOX_OR_MASK_PREDICTIONS_INPUT,
  ...tuning,
  minimum_consecutive_frames: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
};

/** v1 and v2's one output. */
const trackedDetectionsOutput = () => [{ name: 'tracked_detections', kinds: [KIND.OBJECT_DETECTION_PREDICTION] }];

/** The tracker shared by the three versions: `video` tells which per-video tracker runs. */
function trackerInstance(version: 1 | 2 | 3): BlockInstance {
  let state: { trackers: PerVideo<ByteTrack>; caches: PerVideo<InstanceCache> } | undefined;
  return {
    run(inputs, context) {
      const detections = inputs.detections;
      if (!isDetections(detections)) throw new TypeError('detections must be detections');
      // v1 reads the metadata input; v2/v3 the image's metadata (the frame's, for the frame input).
      let video: VideoMetadata = context.video;
      if (version === 1 && typeof inputs.metadata === 'object' && inputs.metadata !== null) video = inputs.metadata as VideoMetadata;
      if (version !== 1 && isWorkflowImage(inputs.image)) video = inputs.image.videoMetadata;
      const frameRate = version === 1 && typeof inputs.frame_rate === 'number' ? inputs.frame_rate : video.fps || 0;
      state ??= {
        trackers: new PerVideo(
          () =>
            new ByteTrack({
              trackActivationThreshold: inputs.track_activation_threshold as number,
              lostTrackBuffer: inputs.lost_track_buffer as number,
              minimumMatchingThreshold: inputs.minimum_matching_threshold as number,
              minimumConsecutiveFrames: (inputs.minimum_consecutive_frames as number | undefined) ?? 1,
              frameRate,
            }),
        ),
        caches: new PerVideo(() => new InstanceCache((inputs.instances_cache_size as number | undefined) ?? 16384)),
      };
      const tracked: Detections = state.trackers.get(video.video_identifier).updateWithDetections(detections);
      if (version !== 3) return { tracked_detections: tracked };
      const cache = state.caches.get(video.video_identifier);
      const fresh: number[] = [];
      const seen: number[] = [];
      tracked.trackerId!.forEach((id, i) => (cache.record(id) ? seen : fresh).push(i));
      return { tracked_detections: tracked, new_instances: selectDetections(tracked, fresh), already_seen_instances: selectDetections(tracked, seen) };
    },
  };
}

/** `roboflow_core/byte_tracker@v1` (alias ByteTracker): `metadata` + `detections` (alias `predictions`), optional `frame_rate`. */
export const ByteTrackerV1: BlockManifest = {
  type: 'roboflow_core/byte_tracker@v1',
  aliases: ['ByteTracker', 'byte_tracker@v1'],
  description: 'ByteTrack (supervision): tracker ids for detections, per video (video metadata from the metadata input).',
  properties: {
    metadata: VIDEO_METADATA_INPUT,
    detections: { ...BOX_OR_MASK_PREDICTIONS_INPUT, aliases: ['predictions'] },
    ...tuning,
    frame_rate: { kinds: [KIND.FLOAT, KIND.INTEGER], literal: v.nullable(numberIn(0, 1000)) },
  },
  outputs: trackedDetectionsOutput,
  create: () => trackerInstance(1),
};

/** `roboflow_core/byte_tracker@v2`: `image` (its video metadata) + `detections`, `minimum_consecutive_frames`. */
export const ByteTrackerV2: BlockManifest = {
  type: 'roboflow_core/byte_tracker@v2',
  aliases: ['byte_tracker@v2'],
  description: 'ByteTrack (supervision): tracker ids for detections, per video (video metadata from the image).',
  properties: imageTrackerProperties,
  outputs: trackedDetectionsOutput,
  create: () => trackerInstance(2),
};

/** `roboflow_core/byte_tracker@v3`: v2 plus `new_instances` / `already_seen_instances` (instance cache per video). */
export const ByteTrackerV3: BlockManifest = {
  type: 'roboflow_core/byte_tracker@v3',
  aliases: ['byte_tracker@v3'],
  description: 'ByteTrack (supervision): tracker ids for detections, per video.',
  properties: {
    ...imageTrackerProperties,
    detections: { kinds: TRACKED_KINDS, required: true },
    instances_cache_size: { literal: integerFrom(1), default: 16384 },
  },
  outputs: () => [
    { name: 'tracked_detections', kinds: TRACKED_KINDS },
    { name: 'new_instances', kinds: TRACKED_KINDS },
    { name: 'already_seen_instances', kinds: TRACKED_KINDS },
  ],
  create: () => trackerInstance(3),
};
