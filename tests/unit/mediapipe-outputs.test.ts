/**
 * The pure parts of the MediaPipe blocks: COCO RLE of masks (pycocotools' compressed counts), per-class masks →
 * detections, landmarks → keypoint detections.
 */
import { describe, expect, it } from 'vitest';
import { decodeMaskRle, encodeMaskRle, rleCounts } from '../../src/workflows/mask-rle.ts';
import { landmarksToDetections } from '../../src/workflows/blocks/mediapipe-landmarks.ts';
import { segmentationToDetections } from '../../src/workflows/blocks/mediapipe-image-segmenter.ts';

let id = 0;
const newId = () => `id-${++id}`;

describe('COCO RLE', () => {
  it('counts runs column-major, starting with 0s, as pycocotools does', () => {
    // 2×3 mask (width 3, height 2), row-major:
    // 0 1 1
    // 0 0 1
    // column-major: 0 0 | 1 0 | 1 1 → runs [2, 1, 1, 2]
    const mask = [0, 1, 1, 0, 0, 1];
    const counts = encodeMaskRle(mask, 3, 2);
    expect(rleCounts(counts)).toEqual([2, 1, 1, 2]);
    // From the fourth run on, a run is written as its difference from the run two before: 2, 1, 1, (2 - 1).
    expect(counts).toBe('2111');
    expect([...decodeMaskRle(counts, 3, 2)]).toEqual(mask);
    // A negative difference: runs [5, 3, 1, 2] → 5, 3, 1, -1, and -1 is one 5-bit group, 31 → 'O'.
    const column = [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1];
    expect(encodeMaskRle(column, 1, 11)).toBe('531O');
    expect([...decodeMaskRle('531O', 1, 11)]).toEqual(column);
  });

  it('round-trips random masks and long runs', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let t = 0; t < 50; t++) {
      const width = 1 + Math.floor(random() * 40);
      const height = 1 + Math.floor(random() * 40);
      const p = random();
      const mask = Array.from({ length: width * height }, () => (random() < p ? 1 : 0));
      expect([...decodeMaskRle(encodeMaskRle(mask, width, height), width, height)]).toEqual(mask);
    }
    const big = new Uint8Array(512 * 512).fill(1, 1000, 200_000);
    expect(decodeMaskRle(encodeMaskRle(big, 512, 512), 512, 512)).toEqual(big);
  });

  it('rejects counts that do not fit the size', () => {
    expect(() => decodeMaskRle(encodeMaskRle([1, 1, 1, 1], 2, 2), 3, 3)).toThrow(RangeError);
  });
});

describe('segmentationToDetections', () => {
  it('gives one detection per class present, its box, mean probability and RLE mask', () => {
    // 4×2 planes, 3 classes: background left, class 1 top right, class 2 bottom right.
    const planes = [
      Float32Array.from([0.9, 0.8, 0.1, 0.1, 0.9, 0.7, 0.1, 0.2]),
      Float32Array.from([0.05, 0.1, 0.8, 0.6, 0.05, 0.1, 0.1, 0.1]),
      Float32Array.from([0.05, 0.1, 0.1, 0.3, 0.05, 0.2, 0.8, 0.7]),
    ];
    const d = segmentationToDetections({ width: 4, height: 2, planes }, { width: 8, height: 4 }, { classNames: ['background', 'sky', 'road'], threshold: 0.5, minArea: 1, parentId: 'frame', newId });
    expect(d.data.class_name).toEqual(['sky', 'road']);
    expect([...d.classId]).toEqual([1, 2]);
    // Boxes scaled ×2 to the image.
    expect([...d.xyxy]).toEqual([4, 0, 8, 2, 4, 2, 8, 4]);
    expect(d.confidence[0]).toBeCloseTo(0.7);
    expect(d.confidence[1]).toBeCloseTo(0.75);
    expect([...decodeMaskRle(d.data.rle_mask![0] as string, 4, 2)]).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    expect([...decodeMaskRle(d.data.rle_mask![1] as string, 4, 2)]).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('thresholds a one-channel model, and drops masks under min_mask_area', () => {
    const plane = Float32Array.from([0.2, 0.6, 0.9, 0.4]);
    const d = segmentationToDetections({ width: 2, height: 2, planes: [plane] }, { width: 2, height: 2 }, { classNames: [], threshold: 0.5, minArea: 1, parentId: 'f', newId });
    expect(d.data.class_name).toEqual(['foreground']);
    expect([...d.xyxy]).toEqual([0, 0, 2, 2]);
    expect(d.confidence[0]).toBeCloseTo(0.75);
    const none = segmentationToDetections({ width: 2, height: 2, planes: [plane] }, { width: 2, height: 2 }, { classNames: ['person'], threshold: 0.5, minArea: 3, parentId: 'f', newId });
    expect(none.confidence.length).toBe(0);
  });
});

describe('landmarksToDetections', () => {
  it('boxes the keypoints at or above the threshold, clamped to the image', () => {
    const landmarks = [
      { x: 0.5, y: 0.5, visibility: 0.9 },
      { x: 0.25, y: 0.75, visibility: 0.8 },
      { x: 1.2, y: 0.1, visibility: 0.1 },
    ];
    const d = landmarksToDetections(
      [{ landmarks, className: 'person', classId: 0, confidence: 0.6, keypointScores: landmarks.map((p) => p.visibility) }],
      { width: 200, height: 100 },
      { names: ['a', 'b', 'c'], boxKeypointThreshold: 0.5, parentId: 'f', newId },
    );
    expect([...d.xyxy]).toEqual([50, 50, 100, 75]);
    expect([...d.keypoints!.xy]).toEqual([100, 50, 50, 75, 240, 10]);
    expect(d.keypoints!.names).toEqual(['a', 'b', 'c']);
    const all = landmarksToDetections(
      [{ landmarks, className: 'person', classId: 0, confidence: 0.6, keypointScores: landmarks.map((p) => p.visibility) }],
      { width: 200, height: 100 },
      { names: ['a', 'b', 'c'], boxKeypointThreshold: 0, parentId: 'f', newId },
    );
    // The keypoint outside the image is kept, the box is clamped.
    expect([...all.xyxy]).toEqual([50, 10, 200, 75]);
  });
});
