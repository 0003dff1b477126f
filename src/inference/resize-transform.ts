/**
 * How a source frame maps onto the model's square input, and back.
 * Resize modes follow Roboflow's preprocessing: "Stretch to" and "Fit (… edges) in" (letterbox), after an
 * optional static crop given in percent of the frame.
 */

/**
 * How a frame is fitted into the model's square input (`ModelUrlReference.resize`; default `'stretch'`).
 * - `'stretch'`: scaled to the full square, aspect ratio not kept (Roboflow's "Stretch to").
 * - `'letterbox'`: scaled to fit, aspect ratio kept, centred and padded (Roboflow's "Fit (… edges) in"; the
 *   padding's grey level is `padGrey`).
 * Boxes are mapped back to source-frame pixels either way.
 */
export type ResizeMode = 'stretch' | 'letterbox';

/** A static crop in percent (0..100) of the source frame, applied before resizing. */
export interface StaticCrop {
  /** Left edge, in percent (0..100) of the frame width. */
  xMin: number;
  /** Top edge, in percent (0..100) of the frame height. */
  yMin: number;
  /** Right edge, in percent (0..100) of the frame width; greater than `xMin`. */
  xMax: number;
  /** Bottom edge, in percent (0..100) of the frame height; greater than `yMin`. */
  yMax: number;
}

/** Source rectangle (frame pixels) drawn into the destination rectangle (input pixels). */
export interface ResizeTransform {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
  dx: number;
  dy: number;
  dw: number;
  dh: number;
}

/** `Math.floor` that forgives floating-point error just under an integer (383.99999999 → 384). */
function floorPixel(value: number): number {
  return Math.floor(value + 1e-9);
}

/**
 * Where the frame (after the optional static crop) lands in the square input, following Roboflow's `inference`:
 * the crop is `int(percent / 100 × size)` on each edge; a letterbox scales by `min(S / w, S / h)`, truncates the
 * scaled size to whole pixels and centres it with `(S − size) // 2` pixels of padding before (the rest after).
 */
export function computeResizeTransform(
  frameWidth: number,
  frameHeight: number,
  inputSize: number,
  mode: ResizeMode = 'stretch',
  crop?: StaticCrop,
): ResizeTransform {
  const sx = crop ? floorPixel((crop.xMin / 100) * frameWidth) : 0;
  const sy = crop ? floorPixel((crop.yMin / 100) * frameHeight) : 0;
  const sw = crop ? floorPixel((crop.xMax / 100) * frameWidth) - sx : frameWidth;
  const sh = crop ? floorPixel((crop.yMax / 100) * frameHeight) - sy : frameHeight;
  if (sw <= 0 || sh <= 0) throw new RangeError(`static crop leaves an empty region (${sw}×${sh} px); expected xMin < xMax and yMin < yMax`);
  if (mode === 'stretch') return { sx, sy, sw, sh, dx: 0, dy: 0, dw: inputSize, dh: inputSize };
  const scale = Math.min(inputSize / sw, inputSize / sh);
  const dw = Math.max(1, Math.min(inputSize, floorPixel(sw * scale)));
  const dh = Math.max(1, Math.min(inputSize, floorPixel(sh * scale)));
  return { sx, sy, sw, sh, dx: Math.floor((inputSize - dw) / 2), dy: Math.floor((inputSize - dh) / 2), dw, dh };
}

/** Maps an x coordinate in input pixels back to frame pixels. */
export function inputToFrameX(t: ResizeTransform, x: number): number {
  return (x - t.dx) * (t.sw / t.dw) + t.sx;
}

/** Maps a y coordinate in input pixels back to frame pixels. */
export function inputToFrameY(t: ResizeTransform, y: number): number {
  return (y - t.dy) * (t.sh / t.dh) + t.sy;
}
