/**
 * RF-DETR output decoding: sigmoid scores over all queries × classes, top-k, threshold, cxcywh → frame pixels,
 * optional class-wise NMS.
 */
import { classWiseNms, type ScoredBox } from './nms.ts';
import { inputToFrameX, inputToFrameY, type ResizeTransform } from './resize-transform.ts';

export interface DecodeOptions {
  /** Keep scores strictly above this (0..1). Default 0.4. */
  confidence: number;
  /** Top-k over all query × class scores. Default 300. */
  maxDetections: number;
  /** When set, class-wise NMS with this IoU threshold. */
  iouThreshold?: number;
}

export interface DecodedBox extends ScoredBox {
  /** Box centre and size in frame pixels. */
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/**
 * `boxes`: [Q,4] normalised cx,cy,w,h in input space; `logits`: [Q,C].
 * Returns detections in descending score order (ties: lower query × class index first).
 */
export function decodeRfDetr(
  boxes: Float32Array,
  logits: Float32Array,
  numClasses: number,
  inputSize: number,
  transform: ResizeTransform,
  options: DecodeOptions,
): DecodedBox[] {
  const total = logits.length;
  // Sigmoid is monotonic: compare raw logits with logit(confidence) and exponentiate only the survivors.
  const c = Math.min(Math.max(options.confidence, 0), 1);
  const logitThreshold = c <= 0 ? -Infinity : c >= 1 ? Infinity : Math.log(c / (1 - c));
  const candidates: number[] = [];
  for (let i = 0; i < total; i++) if (logits[i]! > logitThreshold) candidates.push(i);
  candidates.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (candidates.length > options.maxDetections) candidates.length = Math.max(0, options.maxDetections);

  const out: DecodedBox[] = [];
  for (const index of candidates) {
    const score = 1 / (1 + Math.exp(-logits[index]!));
    if (!(score > c)) continue;
    const query = Math.floor(index / numClasses);
    const classId = index % numClasses;
    const bcx = boxes[query * 4]! * inputSize;
    const bcy = boxes[query * 4 + 1]! * inputSize;
    const bw = boxes[query * 4 + 2]! * inputSize;
    const bh = boxes[query * 4 + 3]! * inputSize;
    const x0 = inputToFrameX(transform, bcx - bw / 2);
    const x1 = inputToFrameX(transform, bcx + bw / 2);
    const y0 = inputToFrameY(transform, bcy - bh / 2);
    const y1 = inputToFrameY(transform, bcy + bh / 2);
    out.push({ x0, y0, x1, y1, score, classId, cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, w: x1 - x0, h: y1 - y0 });
  }
  return options.iouThreshold === undefined ? out : classWiseNms(out, options.iouThreshold);
}
