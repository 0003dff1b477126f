/**
 * How a source frame maps onto the model's square input, and back.
 * Resize modes follow Roboflow's preprocessing: "Stretch to" and "Fit (… edges) in" (letterbox), after an
 * optional static crop given in percent of the frame.
 */

export type ResizeMode = 'stretch' | 'letterbox';

/** A static crop in percent (0..100) of the source frame, applied before resizing. */
export interface StaticCrop {
  xMin: number;
  yMin: number;
  xMax: number;
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

export function computeResizeTransform(
  frameWidth: number,
  frameHeight: number,
  inputSize: number,
  mode: ResizeMode = 'stretch',
  crop?: StaticCrop,
): ResizeTransform {
  const sx = crop ? Math.round((crop.xMin / 100) * frameWidth) : 0;
  const sy = crop ? Math.round((crop.yMin / 100) * frameHeight) : 0;
  const sw = crop ? Math.round((crop.xMax / 100) * frameWidth) - sx : frameWidth;
  const sh = crop ? Math.round((crop.yMax / 100) * frameHeight) - sy : frameHeight;
  if (sw <= 0 || sh <= 0) throw new RangeError(`static crop leaves an empty region (${sw}×${sh} px); expected xMin < xMax and yMin < yMax`);
  if (mode === 'stretch') return { sx, sy, sw, sh, dx: 0, dy: 0, dw: inputSize, dh: inputSize };
  const scale = Math.min(inputSize / sw, inputSize / sh);
  const dw = Math.round(sw * scale);
  const dh = Math.round(sh * scale);
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
