/** Class-wise non-maximum suppression over boxes in any common pixel space. */

export interface ScoredBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
  classId: number;
}

export function iou(a: ScoredBox, b: ScoredBox): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Keeps, per class, each box whose IoU with every higher-scored kept box is at most `iouThreshold`.
 * Input must be sorted by descending score; the output keeps that order.
 */
export function classWiseNms<T extends ScoredBox>(sorted: readonly T[], iouThreshold: number): T[] {
  const kept: T[] = [];
  for (const box of sorted) {
    if (kept.every((k) => k.classId !== box.classId || iou(k, box) <= iouThreshold)) kept.push(box);
  }
  return kept;
}
