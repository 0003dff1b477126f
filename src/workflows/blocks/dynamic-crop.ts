/**
 * `roboflow_core/dynamic_crop@v1` (aliases DynamicCrop, Crop): one image per detection, cut out of the image along
 * the detection's box (rounded to whole pixels, clipped to the image). The outputs sit one dimensionality level
 * deeper than the inputs: a list of crops per frame. Each crop remembers where it lies in its parent and in the
 * frame, so detections made on it can be moved back (`coordinates_system: parent`).
 */
import * as v from 'valibot';
import { detectionsLength, isDetections, moveDetections, selectDetections, type CoordinatesOrigin } from '../detections.ts';
import { KIND } from '../kinds.ts';
import { isWorkflowImage, type BlockManifest, type WorkflowImageValue } from './block.ts';
import { color, zeroToOne } from './props.ts';

const CROPPABLE = [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION, KIND.KEYPOINT_DETECTION_PREDICTION];

/** The crop of `image` along `[x0, y0, x1, y1]` (already whole pixels inside the image), or its geometry alone without pixels. */
export function cropImage(image: WorkflowImageValue, x0: number, y0: number, x1: number, y1: number, cropId: string): WorkflowImageValue {
  const width = x1 - x0;
  const height = y1 - y0;
  let source: CanvasImageSource | undefined;
  if (image.source && typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d')!.drawImage(image.source, x0, y0, width, height, 0, 0, width, height);
    source = canvas;
  }
  const parent = { parentId: image.parentId, offsetX: x0, offsetY: y0, width: image.width, height: image.height };
  const root = image.origin
    ? { ...image.origin.root, offsetX: image.origin.root.offsetX + x0, offsetY: image.origin.root.offsetY + y0 }
    : { ...parent };
  const origin: CoordinatesOrigin = { parent, root };
  return { workflowImage: true, source, width, height, parentId: cropId, videoMetadata: image.videoMetadata, origin };
}

/** `roboflow_core/dynamic_crop@v1`. */
export const DynamicCropV1: BlockManifest = {
  type: 'roboflow_core/dynamic_crop@v1',
  aliases: ['DynamicCrop', 'Crop', 'dynamic_crop@v1'],
  description: 'Crops the image along each detection box: a list of crops per image (dimensionality + 1).',
  properties: {
    images: { kinds: [KIND.IMAGE], required: true, aliases: ['image'] },
    predictions: { kinds: CROPPABLE, required: true, aliases: ['detections'] },
    mask_opacity: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: zeroToOne, default: 0 },
    background_color: { kinds: [KIND.STRING, KIND.RGB_COLOR], literal: v.union([color, v.tuple([v.number(), v.number(), v.number()])]), default: [0, 0, 0] },
  },
  outputDimensionalityOffset: 1,
  outputs: () => [
    { name: 'crops', kinds: [KIND.IMAGE] },
    { name: 'predictions', kinds: CROPPABLE },
  ],
  create: () => ({
    run(inputs) {
      const image = inputs.images;
      const detections = inputs.predictions;
      if (!isWorkflowImage(image)) throw new TypeError('images must be an image');
      if (!isDetections(detections)) throw new TypeError('predictions must be detections');
      const crops: (WorkflowImageValue | null)[] = [];
      const predictions: unknown[] = [];
      for (let i = 0; i < detectionsLength(detections); i++) {
        // Whole pixels as numpy slicing takes them (round, then clip to the image).
        const [x0, y0, x1, y1] = [0, 1, 2, 3].map((k) => Math.round(detections.xyxy[i * 4 + k]!));
        const cx0 = Math.min(Math.max(x0!, 0), image.width);
        const cy0 = Math.min(Math.max(y0!, 0), image.height);
        const cx1 = Math.min(Math.max(x1!, 0), image.width);
        const cy1 = Math.min(Math.max(y1!, 0), image.height);
        if (cx1 <= cx0 || cy1 <= cy0) {
          crops.push(null);
          predictions.push(null);
          continue;
        }
        const crop = cropImage(image, cx0, cy0, cx1, cy1, detections.data.detection_id[i] ?? `${image.parentId}:${i}`);
        crops.push(crop);
        // The detection itself, in the crop's coordinates.
        const moved = moveDetections(selectDetections(detections, [i]), -cx0, -cy0);
        predictions.push({ ...moved, image: { width: crop.width, height: crop.height }, origin: crop.origin });
      }
      return { crops, predictions };
    },
  }),
};
