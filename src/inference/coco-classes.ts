/**
 * COCO-91 class names indexed by the sparse COCO category id, as RF-DETR's COCO heads emit them
 * (index 0 is unused; person = 1). Missing ids (12, 26, 29, 30, 45, 66, 68, 69, 71, 83) are `null`.
 */
export const COCO_91_CLASSES: readonly (string | null)[] = [
  null, 'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', null, 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', null, 'backpack', 'umbrella', null, null, 'handbag', 'tie', 'suitcase',
  'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard',
  'surfboard', 'tennis racket', 'bottle', null, 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana',
  'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', null, 'dining table', null, null, 'toilet', null, 'tv', 'laptop', 'mouse', 'remote',
  'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', null, 'book', 'clock', 'vase',
  'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

/** Roboflow's fine-tuned exports prepend this placeholder; it is never a real class. */
export const ROBOFLOW_BACKGROUND_CLASS = 'background_class83422';

/**
 * Names for a head of `numClasses` logits: the given names (without Roboflow's background placeholder),
 * COCO-91 for a 91-wide head, else `class_<id>`.
 */
export function classNamesFor(numClasses: number, given?: readonly string[]): (id: number) => string {
  if (given && given.length > 0) {
    const names = given.filter((n) => n !== ROBOFLOW_BACKGROUND_CLASS);
    return (id) => names[id] ?? `class_${id}`;
  }
  if (numClasses === COCO_91_CLASSES.length) return (id) => COCO_91_CLASSES[id] ?? `class_${id}`;
  return (id) => `class_${id}`;
}
