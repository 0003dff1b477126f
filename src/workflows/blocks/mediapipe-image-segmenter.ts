/**
 * `framewise/mediapipe_image_segmenter@v1`: MediaPipe's ImageSegmenter from `@mediapipe/tasks-vision`, in VIDEO
 * mode, inside the workflow worker.
 *
 * Output, as Roboflow's `semantic_segmentation_prediction`: one detection per class present in the frame (not one
 * per object), whose mask may hold several disconnected regions. The mask travels as COCO RLE (pycocotools'
 * compressed `counts` string, column-major, the size being the detections' `image` size) in the data column
 * `rle_mask`, so it survives the filter and the tracker as any column does and serialises as
 * `"rle_mask": "<counts>"` (`decodeMaskRle` in `mask-rle.ts` turns it back into pixels). The box bounds the mask;
 * the confidence is the mean class probability over the mask's pixels.
 *
 * - A model with one output channel (selfie segmentation): the class is where its probability is above
 *   `mask_threshold`.
 * - Several channels: each pixel goes to the most probable class; classes named `background` give no detection.
 *
 * Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import * as v from 'valibot';
import type { Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import { encodeMaskRle } from '../mask-rle.ts';
import type { BlockManifest } from './block.ts';
import { mediapipeTaskBlock } from './mediapipe-task-block.ts';
import { integerFrom } from './props.ts';
import { scoreProperty } from './shared-properties.ts';

/** Roboflow's kind for per-class masks (one detection per class, its mask in `rle_mask`). */
export const SEMANTIC_SEGMENTATION_PREDICTION_KIND = 'semantic_segmentation_prediction';

const properties = {
  class_names: { kinds: [KIND.LIST_OF_VALUES], literal: v.nullable(v.array(v.pipe(v.string(), v.minLength(1)))), default: null },
  mask_threshold: scoreProperty(0.5),
  min_mask_area: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
} as const;

/** Per-class probability planes (`width × height` each, row-major), as the confidence masks give them. */
export interface ClassProbabilities {
  width: number;
  height: number;
  planes: readonly Float32Array[];
}

/**
 * Per-class masks → detections (see the module comment). `classNames[c]` names class `c` (default: the model's
 * labels, else `class_c`; a one-channel model's class is `foreground`). Coordinates are scaled from the planes'
 * size to `image`'s; the masks stay at the planes' size, which is the image's for tasks-vision.
 */
export function segmentationToDetections(
  probabilities: ClassProbabilities,
  image: { width: number; height: number },
  options: { classNames: readonly string[]; threshold: number; minArea: number; parentId: string; newId: () => string },
): Detections {
  const { width, height, planes } = probabilities;
  const size = width * height;
  const owner = new Int16Array(size).fill(-1);
  if (planes.length === 1) {
    const p = planes[0]!;
    for (let i = 0; i < size; i++) if (p[i]! > options.threshold) owner[i] = 0;
  } else {
    for (let i = 0; i < size; i++) {
      let best = 0;
      for (let c = 1; c < planes.length; c++) if (planes[c]![i]! > planes[best]![i]!) best = c;
      owner[i] = best;
    }
  }
  const name = (c: number) => options.classNames[c] ?? (planes.length === 1 ? 'foreground' : `class_${c}`);
  const sx = image.width / width;
  const sy = image.height / height;
  const boxes: number[] = [];
  const confidence: number[] = [];
  const classIds: number[] = [];
  const rle: string[] = [];
  const mask = new Uint8Array(size);
  for (let c = 0; c < planes.length; c++) {
    if (planes.length > 1 && name(c).toLowerCase() === 'background') continue;
    let area = 0;
    let sum = 0;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    const plane = planes[c]!;
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        const inside = owner[i] === c;
        mask[i] = inside ? 1 : 0;
        if (!inside) continue;
        area++;
        sum += plane[i]!;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    if (area < options.minArea) continue;
    boxes.push(x0 * sx, y0 * sy, (x1 + 1) * sx, (y1 + 1) * sy);
    confidence.push(sum / area);
    classIds.push(c);
    rle.push(encodeMaskRle(mask, width, height));
  }
  const n = classIds.length;
  return {
    xyxy: Float32Array.from(boxes),
    confidence: Float32Array.from(confidence),
    classId: Int32Array.from(classIds),
    data: {
      class_name: classIds.map(name),
      detection_id: classIds.map(() => options.newId()),
      parent_id: Array.from({ length: n }, () => options.parentId),
      rle_mask: rle,
    },
    image: { width: image.width, height: image.height },
  };
}

/** What an ImageSegmenter refusal means, for the messages tasks-vision gives. */
export function explainSegmenterModelError(message: string): string | undefined {
  if (/NormalizationOptions/.test(message)) return 'the model lacks NormalizationOptions metadata on its float input';
  return undefined;
}

/** `framewise/mediapipe_image_segmenter@v1`. */
export const MediapipeImageSegmenterV1: BlockManifest = mediapipeTaskBlock({
  type: 'framewise/mediapipe_image_segmenter@v1',
  aliases: ['MediaPipeImageSegmenter', 'mediapipe_image_segmenter@v1'],
  description: 'MediaPipe ImageSegmenter (@mediapipe/tasks-vision) in VIDEO mode: one detection per class with its mask (COCO RLE).',
  properties,
  predictionKinds: [SEMANTIC_SEGMENTATION_PREDICTION_KIND, KIND.INSTANCE_SEGMENTATION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION],
  task: 'ImageSegmenter',
  modelHint: 'serve an ImageSegmenter .tflite from your own origin (the demo ships /models/selfie_segmenter.tflite)',
  taskClass: (vision) => vision.ImageSegmenter,
  options: () => ({ outputConfidenceMasks: true, outputCategoryMask: false }),
  explain: explainSegmenterModelError,
  process: (segmenter, source, timestamp) => (timestamp === undefined ? segmenter.segment(source) : segmenter.segmentForVideo(source, timestamp)),
  predictions: (result, { inputs, frame, runtime, task: segmenter }) => {
    const masks = result.confidenceMasks ?? [];
    if (masks.length === 0) throw new Error('ImageSegmenter returned no confidence masks');
    const labels = segmenter.getLabels();
    const given = inputs.class_names as string[] | null;
    const classNames = masks.map((_, c) => given?.[c] ?? (labels[c] || (masks.length === 1 ? 'foreground' : `class_${c}`)));
    return segmentationToDetections({ width: masks[0]!.width, height: masks[0]!.height, planes: masks.map((m) => m.getAsFloat32Array()) }, frame, {
      classNames,
      threshold: inputs.mask_threshold as number,
      minArea: inputs.min_mask_area as number,
      parentId: frame.parentId,
      newId: () => runtime.newId(),
    });
  },
});
