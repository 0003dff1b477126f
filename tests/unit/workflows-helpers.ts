/** Builders for the workflow unit tests: detections and frame metadata without a browser. */
import type { VideoMetadata, WorkflowImageValue } from '../../src/workflows/blocks/block.ts';
import type { Detections } from '../../src/workflows/detections.ts';

/** Detections from `[x0, y0, x1, y1, score, classId, trackerId?]` rows. */
export function dets(rows: number[][], tracked = false): Detections {
  return {
    xyxy: Float32Array.from(rows.flatMap((r) => r.slice(0, 4))),
    confidence: Float32Array.from(rows.map((r) => r[4] ?? 0.9)),
    classId: Int32Array.from(rows.map((r) => r[5] ?? 0)),
    trackerId: tracked ? Int32Array.from(rows.map((r) => r[6] ?? -1)) : undefined,
    data: { class_name: rows.map((r) => `class_${r[5] ?? 0}`), detection_id: rows.map((_, i) => `d${i}`) },
    image: { width: 640, height: 360 },
  };
}

/** Metadata of frame `frame` of video `video`. */
export function meta(frame: number, options: Partial<VideoMetadata> = {}): VideoMetadata {
  return { video_identifier: '0', frame_number: frame, frame_timestamp: 1_700_000_000 + frame / 30, fps: 30, measured_fps: 30, comes_from_video_file: true, ...options };
}

/** An image value without pixels. */
export function image(video: VideoMetadata): WorkflowImageValue {
  return { workflowImage: true, width: 640, height: 360, parentId: `${video.video_identifier}:${video.frame_number}`, videoMetadata: video };
}
