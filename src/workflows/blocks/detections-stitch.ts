/**
 * `roboflow_core/detections_stitch@v1`: merges the detections made on the crops of an image back into one set in
 * that image's coordinates (the last stage of a detect → crop → detect chain, or of slicing), then removes overlaps
 * with class-wise NMS (default), merges them (NMM), or keeps everything. `predictions` is read one dimensionality
 * level deeper than the step runs at: per image, the list of predictions made on its crops.
 */
import * as v from 'valibot';
import { detectionsLength, isDetections, mergeDetections, moveDetections, selectDetections, type Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import { isWorkflowImage, type BlockManifest } from './block.ts';
import { zeroToOne } from './props.ts';
import { BOX_OR_MASK_PREDICTIONS_INPUT, IMAGE_INPUT } from './shared-properties.ts';

type Box = [number, number, number, number];

function boxIou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

const boxOf = (d: Detections, i: number): Box => [d.xyxy[i * 4]!, d.xyxy[i * 4 + 1]!, d.xyxy[i * 4 + 2]!, d.xyxy[i * 4 + 3]!];

/** Indices by descending confidence, then groups of same-class boxes overlapping the group's first above `iou`. */
function overlapGroups(d: Detections, iou: number): number[][] {
  const order = Array.from({ length: detectionsLength(d) }, (_, i) => i).sort((a, b) => d.confidence[b]! - d.confidence[a]!);
  const taken = new Set<number>();
  const groups: number[][] = [];
  for (const i of order) {
    if (taken.has(i)) continue;
    const group = [i];
    taken.add(i);
    for (const j of order) {
      if (taken.has(j) || d.classId[j] !== d.classId[i]) continue;
      if (boxIou(boxOf(d, i), boxOf(d, j)) > iou) {
        group.push(j);
        taken.add(j);
      }
    }
    groups.push(group);
  }
  return groups;
}

/** Non-max merge: each group becomes its best detection with the union box and the area-weighted confidence (supervision's pairwise merge). */
function nonMaxMerge(d: Detections, iou: number): Detections {
  const groups = overlapGroups(d, iou);
  const out = selectDetections(d, groups.map((g) => g[0]!));
  groups.forEach((group, k) => {
    let [x0, y0, x1, y1] = boxOf(d, group[0]!);
    let score = d.confidence[group[0]!]!;
    for (const j of group.slice(1)) {
      const [a0, b0, a1, b1] = boxOf(d, j);
      const areaKept = (x1 - x0) * (y1 - y0);
      const areaOther = (a1 - a0) * (b1 - b0);
      score = areaKept + areaOther > 0 ? (score * areaKept + d.confidence[j]! * areaOther) / (areaKept + areaOther) : score;
      [x0, y0, x1, y1] = [Math.min(x0, a0), Math.min(y0, b0), Math.max(x1, a1), Math.max(y1, b1)];
    }
    out.xyxy.set([x0, y0, x1, y1], k * 4);
    out.confidence[k] = score;
  });
  return out;
}

/** `roboflow_core/detections_stitch@v1`. */
export const DetectionsStitchV1: BlockManifest = {
  type: 'roboflow_core/detections_stitch@v1',
  aliases: ['detections_stitch@v1'],
  description: 'Merges detections made on crops back into the image they were cut from (NMS / NMM / none).',
  properties: {
    reference_image: IMAGE_INPUT,
    predictions: BOX_OR_MASK_PREDICTIONS_INPUT,
    overlap_filtering_strategy: { kinds: [KIND.STRING], literal: v.picklist(['none', 'nms', 'nmm']), default: 'nms' },
    iou_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: zeroToOne, default: 0.3 },
  },
  inputDimensionalityOffsets: { predictions: 1 },
  dimensionalityReferenceProperty: 'reference_image',
  outputs: () => [{ name: 'predictions', kinds: [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION] }],
  create: () => ({
    run(inputs) {
      const image = inputs.reference_image;
      if (!isWorkflowImage(image)) throw new TypeError('reference_image must be an image');
      const list = inputs.predictions;
      if (!Array.isArray(list)) throw new TypeError('predictions must be the list of predictions made on the crops of reference_image');
      const parts: Detections[] = [];
      for (const item of list) {
        if (item === null || item === undefined) continue; // an empty crop
        if (!isDetections(item)) throw new TypeError('predictions must be detections');
        if (detectionsLength(item) === 0) continue;
        if (!item.origin) throw new TypeError('detections_stitch needs detections made on crops (they carry no crop origin)');
        // Back into the reference image: shift by the crop's offset in its parent, which is reference_image.
        const moved = moveDetections(item, item.origin.parent.offsetX, item.origin.parent.offsetY);
        const n = detectionsLength(moved);
        parts.push({ ...moved, data: { ...moved.data, parent_id: Array.from({ length: n }, () => image.parentId) }, image: { width: image.width, height: image.height }, origin: image.origin });
      }
      const merged = mergeDetections(parts, { image: { width: image.width, height: image.height }, origin: image.origin });
      const strategy = inputs.overlap_filtering_strategy as 'none' | 'nms' | 'nmm';
      const iou = inputs.iou_threshold as number;
      if (strategy === 'none') return { predictions: merged };
      if (strategy === 'nmm') return { predictions: nonMaxMerge(merged, iou) };
      return { predictions: selectDetections(merged, overlapGroups(merged, iou).map((g) => g[0]!)) };
    },
  }),
};
