/**
 * `roboflow_core/time_in_zone@v3`: how long each tracked detection has been in the zone(s). The clock is
 * `frame_number / fps` for files and the frame timestamp for live sources.
 */
import { isDetections, selectDetections, type Detections, type Position } from '../detections.ts';
import { DETECTION_KINDS, KIND } from '../kinds.ts';
import { inPolygonZone } from '../polygon-zone.ts';
import type { BlockManifest } from './block.ts';
import { PerVideo } from './per-video.ts';
import { bool, position, zones } from './props.ts';
import { IMAGE_INPUT } from './shared-properties.ts';

type Polygon = [number, number][];

/** Normalises one polygon or a list of polygons to a list. */
export function toPolygons(zone: unknown): Polygon[] {
  const z = zone as Polygon | Polygon[];
  return Array.isArray(z[0]?.[0]) ? (z as Polygon[]) : [z as Polygon];
}

/** `roboflow_core/time_in_zone@v3`. */
export const TimeInZoneV3: BlockManifest = {
  type: 'roboflow_core/time_in_zone@v3',
  aliases: ['time_in_zone@v3'],
  description: 'Seconds each tracked detection has spent in a polygon zone.',
  properties: {
    image: IMAGE_INPUT,
    detections: { kinds: DETECTION_KINDS, required: true },
    zone: { kinds: [KIND.LIST_OF_VALUES, KIND.ZONE], literal: zones, required: true },
    triggering_anchor: { kinds: [KIND.STRING], literal: position, default: 'CENTER' },
    remove_out_of_zone_detections: { kinds: [KIND.BOOLEAN], literal: bool, default: true },
    reset_out_of_zone_detections: { kinds: [KIND.BOOLEAN], literal: bool, default: true },
  },
  outputs: () => [{ name: 'timed_detections', kinds: [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION] }],
  create: (step) => {
    const entered = new PerVideo(() => new Map<number, number>());
    return {
      run(inputs, { video }) {
        const detections = inputs.detections;
        if (!isDetections(detections)) throw new TypeError('detections must be detections');
        if (!detections.trackerId) throw new TypeError(`step "${step}" (time_in_zone) requires tracked detections: tracker_id is missing, so put a byte_tracker step before it`);
        const polygons = toPolygons(inputs.zone);
        const anchor = inputs.triggering_anchor as Position;
        const inZone = polygons.map((p) => inPolygonZone(detections, p, anchor));
        const now = video.comes_from_video_file && video.fps ? video.frame_number / video.fps : video.frame_timestamp;
        const since = entered.get(video.video_identifier);
        const keep: number[] = [];
        const times: number[] = [];
        for (let i = 0; i < detections.confidence.length; i++) {
          const id = detections.trackerId[i]!;
          const isIn = inZone.some((z) => z[i]);
          if (!isIn && since.has(id) && inputs.reset_out_of_zone_detections) since.delete(id);
          if (!isIn && inputs.remove_out_of_zone_detections) continue;
          let time = 0;
          if (isIn) {
            if (!since.has(id)) since.set(id, now);
            time = now - since.get(id)!;
          } else since.delete(id);
          keep.push(i);
          times.push(time);
        }
        const selected: Detections = selectDetections(detections, keep);
        return { timed_detections: { ...selected, data: { ...selected.data, time_in_zone: Float64Array.from(times) } } };
      },
    };
  },
};
