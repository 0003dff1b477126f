import { describe, expect, it } from 'vitest';
import { decodeRfDetr } from '../../src/inference/rfdetr-decode.ts';
import { computeResizeTransform } from '../../src/inference/resize-transform.ts';
import { classWiseNms, iou } from '../../src/inference/nms.ts';
import { classMappingFor } from '../../src/inference/coco-classes.ts';

const logit = (p: number) => Math.log(p / (1 - p));

/** Q queries × C classes, all "absent" except the given (query, class, probability) entries. */
function outputs(q: number, c: number, boxes: number[][], hits: [number, number, number][]) {
  const b = new Float32Array(q * 4);
  boxes.forEach((box, i) => b.set(box, i * 4));
  const l = new Float32Array(q * c).fill(-10);
  for (const [query, cls, p] of hits) l[query * c + cls] = logit(p);
  return { b, l };
}

describe('decodeRfDetr', () => {
  const stretch = computeResizeTransform(640, 360, 100);

  it('sigmoids, drops scores under confidence, sorts by score and scales cxcywh to frame pixels', () => {
    const { b, l } = outputs(4, 3, [[0.5, 0.5, 0.2, 0.4], [0.25, 0.75, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]], [
      [0, 1, 0.9],
      [1, 2, 0.95],
      [2, 0, 0.39], // below the threshold: dropped
    ]);
    const out = decodeRfDetr(b, l, 3, 100, stretch, { confidence: 0.4, maxDetections: 300 });
    expect(out.map((d) => [d.classId, +d.score.toFixed(4)])).toEqual([
      [2, 0.95],
      [1, 0.9],
    ]);
    const [cx, cy, w, h] = [out[1]!.cx, out[1]!.cy, out[1]!.w, out[1]!.h];
    expect([cx, cy, w, h].map((v) => +v.toFixed(3))).toEqual([320, 180, 128, 144]);
    expect(out[0]!.x0).toBeCloseTo(160 - 32, 4);
    expect(out[0]!.y1).toBeCloseTo(270 + 18, 4);
  });

  it('takes the top-k over all query × class scores, so one query can yield several classes', () => {
    const { b, l } = outputs(2, 3, [[0.5, 0.5, 0.2, 0.2]], [
      [0, 0, 0.9],
      [0, 2, 0.8],
      [1, 1, 0.7],
    ]);
    const top2 = decodeRfDetr(b, l, 3, 100, stretch, { confidence: 0.1, maxDetections: 2 });
    expect(top2.map((d) => d.classId)).toEqual([0, 2]);
  });

  it('breaks score ties by the lower flat index', () => {
    const { b, l } = outputs(3, 2, [], [
      [2, 0, 0.8],
      [0, 1, 0.8],
    ]);
    expect(decodeRfDetr(b, l, 2, 100, stretch, { confidence: 0.5, maxDetections: 10 }).map((d) => d.classId)).toEqual([1, 0]);
  });

  it('maps letterboxed boxes back through the padding', () => {
    // 640×360 into 100: scale 100/640, 56 px tall content centred with 22 px padding above.
    const t = computeResizeTransform(640, 360, 100, 'letterbox');
    expect(t).toEqual({ sx: 0, sy: 0, sw: 640, sh: 360, dx: 0, dy: 22, dw: 100, dh: 56 });
    const { b, l } = outputs(1, 1, [[0.5, 0.5, 0.5, 0.56]], [[0, 0, 0.9]]);
    const [d] = decodeRfDetr(b, l, 1, 100, t, { confidence: 0.5, maxDetections: 1 });
    expect(d!.cx).toBeCloseTo(320, 4);
    expect(d!.cy).toBeCloseTo(((50 - 22) * 360) / 56, 4);
    expect(d!.w).toBeCloseTo(320, 4);
    expect(d!.h).toBeCloseTo(360, 4);
  });

  it('applies class-wise NMS only when iouThreshold is set', () => {
    const { b, l } = outputs(3, 2, [[0.5, 0.5, 0.2, 0.2], [0.51, 0.5, 0.2, 0.2], [0.5, 0.5, 0.2, 0.2]], [
      [0, 0, 0.9],
      [1, 0, 0.8], // overlaps query 0, same class: suppressed
      [2, 1, 0.7], // same place, other class: kept
    ]);
    expect(decodeRfDetr(b, l, 2, 100, stretch, { confidence: 0.5, maxDetections: 10 })).toHaveLength(3);
    const kept = decodeRfDetr(b, l, 2, 100, stretch, { confidence: 0.5, maxDetections: 10, iouThreshold: 0.5 });
    expect(kept.map((d) => d.classId)).toEqual([0, 1]);
  });
});

describe('nms', () => {
  it('computes IoU', () => {
    const a = { x0: 0, y0: 0, x1: 10, y1: 10, score: 1, classId: 0 };
    expect(iou(a, { ...a, x0: 5 })).toBeCloseTo(0.5, 6);
    expect(iou(a, { ...a, x0: 10, x1: 20 })).toBe(0);
  });
  it('keeps the higher-scored box of an overlapping same-class pair', () => {
    const boxes = [
      { x0: 0, y0: 0, x1: 10, y1: 10, score: 0.9, classId: 0 },
      { x0: 1, y0: 0, x1: 11, y1: 10, score: 0.8, classId: 0 },
      { x0: 50, y0: 50, x1: 60, y1: 60, score: 0.7, classId: 0 },
    ];
    expect(classWiseNms(boxes, 0.5).map((b) => b.score)).toEqual([0.9, 0.7]);
  });
});

describe('class names', () => {
  it('uses sparse COCO-91 ids for 91-class heads', () => {
    const { name } = classMappingFor(91);
    expect([name(1), name(3), name(18), name(90), name(12)]).toEqual(['person', 'car', 'dog', 'toothbrush', 'class_12']);
  });
});

describe('class mapping', () => {
  it("drops Roboflow's background index and shifts the ids above it down by one", async () => {
    const { classMappingFor, remapClasses } = await import('../../src/inference/coco-classes.ts');
    const mapping = classMappingFor(3, ['background_class83422', 'cat', 'dog']);
    const decoded = remapClasses([{ classId: 0 }, { classId: 1 }, { classId: 2 }], mapping);
    expect(decoded.map((d) => d.classId)).toEqual([0, 1]);
    expect(decoded.map((d) => mapping.name(d.classId))).toEqual(['cat', 'dog']);
  });
  it('keeps COCO-91 sparse ids as they are', async () => {
    const { classMappingFor } = await import('../../src/inference/coco-classes.ts');
    const mapping = classMappingFor(91);
    expect([mapping.id(1), mapping.name(1), mapping.id(18), mapping.name(18)]).toEqual([1, 'person', 18, 'dog']);
  });
});
