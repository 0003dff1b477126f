/**
 * CPU preprocessing in the worker: draw the frame onto an OffscreenCanvas at the model's input size, then
 * write normalised CHW float32 values. The canvas and the output buffer are reused across frames.
 */
import type { ResizeTransform } from './resize-transform.ts';

export interface Normalisation {
  /** Per-channel mean in 0..1 RGB. */
  mean: readonly [number, number, number];
  /** Per-channel standard deviation in 0..1 RGB. */
  std: readonly [number, number, number];
}

export const IMAGENET_NORMALISATION: Normalisation = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export class CpuPreprocessor {
  private readonly canvas: OffscreenCanvas;
  private readonly context: OffscreenCanvasRenderingContext2D;
  private readonly scale: Float32Array;
  private readonly offset: Float32Array;

  constructor(
    readonly inputSize: number,
    normalisation: Normalisation,
    /** Letterbox padding colour, 0..255 grey level. */
    private readonly padGrey = 0,
  ) {
    this.canvas = new OffscreenCanvas(inputSize, inputSize);
    const context = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (!context) throw new Error('OffscreenCanvas 2d context is unavailable in this worker');
    this.context = context;
    // value = (pixel / 255 - mean) / std = pixel * scale + offset
    this.scale = Float32Array.from(normalisation.std.map((s) => 1 / (255 * s)));
    this.offset = Float32Array.from(normalisation.mean.map((m, i) => -m / normalisation.std[i]!));
  }

  /** Writes the [1,3,S,S] tensor data for `image` into `out` (allocated when omitted). */
  run(image: CanvasImageSource, t: ResizeTransform, out: Float32Array = new Float32Array(3 * this.inputSize * this.inputSize)): Float32Array {
    const size = this.inputSize;
    const ctx = this.context;
    if (t.dx !== 0 || t.dy !== 0 || t.dw !== size || t.dh !== size) {
      ctx.fillStyle = `rgb(${this.padGrey},${this.padGrey},${this.padGrey})`;
      ctx.fillRect(0, 0, size, size);
    }
    ctx.drawImage(image, t.sx, t.sy, t.sw, t.sh, t.dx, t.dy, t.dw, t.dh);
    const rgba = ctx.getImageData(0, 0, size, size).data;
    const plane = size * size;
    const [sr, sg, sb] = this.scale as unknown as [number, number, number];
    const [or, og, ob] = this.offset as unknown as [number, number, number];
    for (let i = 0, p = 0; i < plane; i++, p += 4) {
      out[i] = rgba[p]! * sr + or;
      out[plane + i] = rgba[p + 1]! * sg + og;
      out[2 * plane + i] = rgba[p + 2]! * sb + ob;
    }
    return out;
  }
}
