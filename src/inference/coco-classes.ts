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

/** How a head's raw class indices become the class ids and names that predictions report. */
export interface ClassMapping {
  /** The reported class id for a raw head index, or null for an index that is never a real class. */
  id(raw: number): number | null;
  /** The name of a reported class id. */
  name(id: number): string;
}

/**
 * The mapping for a head of `numClasses` logits. Given names are used as listed; when they contain Roboflow's
 * `background_class83422` placeholder (fine-tuned exports put it first), its index is dropped and the indices
 * above it move down by one, as Roboflow's own inference does. A 91-wide head without names uses COCO-91's sparse
 * ids; anything else is named `class_<id>`.
 */
export function classMappingFor(numClasses: number, given?: readonly string[]): ClassMapping {
  if (given && given.length > 0) {
    const background = given.indexOf(ROBOFLOW_BACKGROUND_CLASS);
    const names = given.filter((n) => n !== ROBOFLOW_BACKGROUND_CLASS);
    return {
      id: (raw) => (background < 0 ? raw : raw === background ? null : raw > background ? raw - 1 : raw),
      name: (id) => names[id] ?? `class_${id}`,
    };
  }
  if (numClasses === COCO_91_CLASSES.length) return { id: (raw) => raw, name: (id) => COCO_91_CLASSES[id] ?? `class_${id}` };
  return { id: (raw) => raw, name: (id) => `class_${id}` };
}

/** Applies a {@link ClassMapping} to decoded boxes: background indices are dropped, the rest get reported ids. */
export function remapClasses<T extends { classId: number }>(decoded: readonly T[], mapping: ClassMapping): T[] {
  const out: T[] = [];
  for (const d of decoded) {
    const id = mapping.id(d.classId);
    if (id !== null) out.push(id === d.classId ? d : { ...d, classId: id });
  }
  return out;
}
