/**
 * `roboflow_core/byte_tracker@v3`: ByteTrack per video, plus a per-video instance cache telling new instances
 * from ones already seen.
 */
import { ByteTrack } from '../byte-track.ts';
import { isDetections, selectDetections, type Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';
import { PerVideo } from './per-video.ts';
import { integerFrom, zeroToOne } from './props.ts';

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

/** `roboflow_core/byte_tracker@v3`. */
export const ByteTrackerV3: BlockManifest = {
  type: 'roboflow_core/byte_tracker@v3',
  aliases: ['byte_tracker@v3'],
  description: 'ByteTrack (supervision): tracker ids for detections, per video.',
  properties: {
    image: { kinds: [KIND.IMAGE], required: true },
    detections: { kinds: TRACKED_KINDS, required: true },
    track_activation_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: zeroToOne, default: 0.25 },
    lost_track_buffer: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 30 },
    minimum_matching_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: zeroToOne, default: 0.8 },
    minimum_consecutive_frames: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
    instances_cache_size: { literal: integerFrom(1), default: 16384 },
  },
  outputs: () => [
    { name: 'tracked_detections', kinds: TRACKED_KINDS },
    { name: 'new_instances', kinds: TRACKED_KINDS },
    { name: 'already_seen_instances', kinds: TRACKED_KINDS },
  ],
  create: () => {
    let settings: { trackers: PerVideo<ByteTrack>; caches: PerVideo<InstanceCache> } | undefined;
    return {
      run(inputs, { video }) {
        const detections = inputs.detections;
        if (!isDetections(detections)) throw new TypeError('detections must be detections');
        settings ??= {
          trackers: new PerVideo(
            () =>
              new ByteTrack({
                trackActivationThreshold: inputs.track_activation_threshold as number,
                lostTrackBuffer: inputs.lost_track_buffer as number,
                minimumMatchingThreshold: inputs.minimum_matching_threshold as number,
                minimumConsecutiveFrames: inputs.minimum_consecutive_frames as number,
                frameRate: video.fps || 0,
              }),
          ),
          caches: new PerVideo(() => new InstanceCache(inputs.instances_cache_size as number)),
        };
        const tracked: Detections = settings.trackers.get(video.video_identifier).updateWithDetections(detections);
        const cache = settings.caches.get(video.video_identifier);
        const fresh: number[] = [];
        const seen: number[] = [];
        tracked.trackerId!.forEach((id, i) => (cache.record(id) ? seen : fresh).push(i));
        return { tracked_detections: tracked, new_instances: selectDetections(tracked, fresh), already_seen_instances: selectDetections(tracked, seen) };
      },
    };
  },
};
