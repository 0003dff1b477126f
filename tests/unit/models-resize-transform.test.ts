/**
 * Letterbox and static-crop geometry against boxes computed by hand, following Roboflow's `inference`
 * (crop edges `int(pct / 100 × size)`; letterbox `scale = min(S/w, S/h)`, size truncated, padding `(S − size) // 2`).
 */
import { describe, expect, it } from 'vitest';
import { computeResizeTransform, inputToFrameX, inputToFrameY } from '../../src/inference/resize-transform.ts';
import { decodeRfDetr } from '../../src/inference/rfdetr-decode.ts';

/** One query whose box (cx, cy, w, h normalised to the input) scores 0.9 on class 0. */
function decodeOne(box: [number, number, number, number], inputSize: number, t: ReturnType<typeof computeResizeTransform>) {
  const boxes = new Float32Array(box);
  const logits = new Float32Array([Math.log(0.9 / 0.1)]);
  const [d] = decodeRfDetr(boxes, logits, 1, inputSize, t, { confidence: 0.5, maxDetections: 1 });
  return { x0: d!.x0, y0: d!.y0, x1: d!.x1, y1: d!.y1 };
}

const close = (got: Record<string, number>, want: Record<string, number>) => {
  for (const k of Object.keys(want)) expect(got[k], k).toBeCloseTo(want[k]!, 3);
};

describe('letterbox', () => {
  it('640×360 into 320: content 320×180 with 70 px above; a box maps back by ×2 after removing the padding', () => {
    const t = computeResizeTransform(640, 360, 320, 'letterbox');
    expect(t).toEqual({ sx: 0, sy: 0, sw: 640, sh: 360, dx: 0, dy: 70, dw: 320, dh: 180 });
    // Input box x 40..120, y 80..110 → frame x 80..240, y (80−70)·2 = 20 .. (110−70)·2 = 80.
    close(decodeOne([80 / 320, 95 / 320, 80 / 320, 30 / 320], 320, t), { x0: 80, y0: 20, x1: 240, y1: 80 });
  });

  it('a portrait 360×640 frame pads left and right', () => {
    const t = computeResizeTransform(360, 640, 384, 'letterbox');
    // scale 0.6: 216×384, padding (384 − 216) // 2 = 84 on the left.
    expect(t).toEqual({ sx: 0, sy: 0, sw: 360, sh: 640, dx: 84, dy: 0, dw: 216, dh: 384 });
    expect(inputToFrameX(t, 84)).toBeCloseTo(0, 6);
    expect(inputToFrameX(t, 84 + 216)).toBeCloseTo(360, 6);
    expect(inputToFrameY(t, 192)).toBeCloseTo(320, 6);
  });

  it('truncates like int() and stays exact when the scale lands on an integer through floating point', () => {
    // 641×361 → 384: scale = 384/641; 641 × scale is 383.99999… in floating point and must give 384.
    const t = computeResizeTransform(641, 361, 384, 'letterbox');
    expect(t.dw).toBe(384);
    expect(t.dh).toBe(216); // int(361 × 0.599063…) = int(216.26)
    expect(t.dy).toBe(84); // (384 − 216) // 2
    // 1000×333 → 100: scale 0.1, 33.3 tall → 33, padding (100 − 33) // 2 = 33 above, 34 below.
    expect(computeResizeTransform(1000, 333, 100, 'letterbox')).toMatchObject({ dw: 100, dh: 33, dx: 0, dy: 33 });
  });
});

describe('static crop', () => {
  it('crops in percent with int() edges, then stretches; boxes come back in full-frame pixels', () => {
    // 640×360, crop x 10..90 %, y 0..60 %: x 64..576, y 0..216 → a 512×216 region stretched to 320×320.
    const t = computeResizeTransform(640, 360, 320, 'stretch', { xMin: 10, yMin: 0, xMax: 90, yMax: 60 });
    expect(t).toEqual({ sx: 64, sy: 0, sw: 512, sh: 216, dx: 0, dy: 0, dw: 320, dh: 320 });
    // Input x 0..160 → crop x 0..256 → frame x 64..320; input y 160..320 → crop y 108..216.
    close(decodeOne([80 / 320, 240 / 320, 160 / 320, 160 / 320], 320, t), { x0: 64, y0: 108, x1: 320, y1: 216 });
  });

  it('crop then letterbox: the padding is removed before the crop offset is added back', () => {
    // Crop as above (512×216), letterboxed into 320: scale 0.625 → 320×135, padding (320 − 135) // 2 = 92 above.
    const t = computeResizeTransform(640, 360, 320, 'letterbox', { xMin: 10, yMin: 0, xMax: 90, yMax: 60 });
    expect(t).toEqual({ sx: 64, sy: 0, sw: 512, sh: 216, dx: 0, dy: 92, dw: 320, dh: 135 });
    // Input box x 32..96, y 92..146 → crop x 51.2..153.6, y 0..86.4 → frame x 115.2..217.6, y 0..86.4.
    close(decodeOne([64 / 320, 119 / 320, 64 / 320, 54 / 320], 320, t), { x0: 115.2, y0: 0, x1: 217.6, y1: 86.4 });
  });

  it('rounds crop edges down like int(): 33.3 % of 641 px starts at 213', () => {
    const t = computeResizeTransform(641, 360, 100, 'stretch', { xMin: 33.3, yMin: 0, xMax: 66.7, yMax: 100 });
    expect(t.sx).toBe(213); // int(213.453)
    expect(t.sw).toBe(427 - 213); // int(427.547) − 213
  });

  it('an empty crop is a RangeError naming the problem', () => {
    expect(() => computeResizeTransform(100, 100, 10, 'stretch', { xMin: 50, yMin: 0, xMax: 50.4, yMax: 100 })).toThrow('static crop leaves an empty region (0×100 px)');
  });
});
