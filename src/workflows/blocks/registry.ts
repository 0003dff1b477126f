/** Every block the engine knows, and lookup by identifier or alias. */
import type { BlockManifest } from './block.ts';
import { ByteTrackerV1, ByteTrackerV2, ByteTrackerV3 } from './byte-tracker.ts';
import { DetectionsFilterV1 } from './detections-filter.ts';
import { DetectionsStitchV1 } from './detections-stitch.ts';
import { DimensionCollapseV1 } from './dimension-collapse.ts';
import { DynamicCropV1 } from './dynamic-crop.ts';
import { LineCounterV1, LineCounterV2 } from './line-counter.ts';
import { MediapipeFaceDetectorV1 } from './mediapipe-face-detector.ts';
import { MediapipeHandLandmarkerV1 } from './mediapipe-hand-landmarker.ts';
import { MediapipeImageSegmenterV1 } from './mediapipe-image-segmenter.ts';
import { MediapipeObjectDetectorV1 } from './mediapipe-object-detector.ts';
import { MediapipePoseLandmarkerV1 } from './mediapipe-pose-landmarker.ts';
import { ObjectDetectionModelV1, ObjectDetectionModelV2 } from './object-detection.ts';
import { PropertyDefinitionV1 } from './property-definition.ts';
import { TimeInZoneV3 } from './time-in-zone.ts';
import {
  BoundingBoxVisualizationV1,
  LabelVisualizationV1,
  LineCounterVisualizationV1,
  MaskVisualizationV1,
  PolygonZoneVisualizationV1,
  TraceVisualizationV1,
} from './visualizations.ts';

/** The built-in blocks. */
export const BLOCKS: readonly BlockManifest[] = [
  ObjectDetectionModelV1,
  ObjectDetectionModelV2,
  DetectionsFilterV1,
  DynamicCropV1,
  DetectionsStitchV1,
  DimensionCollapseV1,
  ByteTrackerV1,
  ByteTrackerV2,
  ByteTrackerV3,
  LineCounterV1,
  LineCounterV2,
  TimeInZoneV3,
  PropertyDefinitionV1,
  BoundingBoxVisualizationV1,
  LabelVisualizationV1,
  LineCounterVisualizationV1,
  PolygonZoneVisualizationV1,
  TraceVisualizationV1,
  MaskVisualizationV1,
  MediapipeFaceDetectorV1,
  MediapipePoseLandmarkerV1,
  MediapipeHandLandmarkerV1,
  MediapipeObjectDetectorV1,
  MediapipeImageSegmenterV1,
];

/** The block whose identifier or alias is `type` (`roboflow_core/` may be left out). */
export function findBlock(type: string, blocks: readonly BlockManifest[] = BLOCKS): BlockManifest | undefined {
  return blocks.find((b) => b.type === type || b.aliases.includes(type) || b.type === `roboflow_core/${type}`);
}
