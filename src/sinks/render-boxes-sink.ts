/** Draws each frame with its boxes, labels and (optionally) throughput and latency onto a canvas. */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';

export interface RenderBoxesOptions {
  /** Where to draw; it is resized to the frame size. An OffscreenCanvas works too. */
  canvas: HTMLCanvasElement | OffscreenCanvas;
  /** Draw throughput (frames/s) and latency (ms) in the corner. Default false. */
  displayStatistics?: boolean;
  /** Line width in pixels. Default: 2 px per 640 px of frame width, at least 2. */
  lineWidth?: number;
  /** Colour for a class; default: a fixed palette indexed by class id. */
  colorFor?: (classId: number, className: string) => string;
}

/** A fixed, high-contrast palette (indexed by class id) so a class keeps its colour across frames and runs. */
const PALETTE = ['#ff3838', '#2c99a8', '#ff701f', '#6473ff', '#cfd231', '#48f90a', '#92cc17', '#3ddb86', '#1a9334', '#00d4bb', '#ff9d97', '#00c2ff', '#344593', '#ffb21d', '#0018ec', '#8438ff', '#520085', '#cb38ff', '#ff95c8', '#ff37c7'];

export function defaultColorFor(classId: number): string {
  return PALETTE[Math.abs(classId) % PALETTE.length]!;
}

/** Returns a sink that draws on `options.canvas`. */
export function renderBoxes(options: RenderBoxesOptions): (predictions: FramePredictions, frame: FrameMetadata) => void {
  const context = options.canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new TypeError('renderBoxes: options.canvas has no 2d context (is it already used for WebGL/WebGPU?)');
  const colorFor = options.colorFor ?? defaultColorFor;
  return (result, frame) => {
    const { width, height } = result.image;
    const canvas = options.canvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.drawImage(frame.image, 0, 0, width, height);
    const line = options.lineWidth ?? Math.max(2, Math.round((2 * width) / 640));
    const fontSize = Math.max(12, Math.round(line * 6));
    context.lineWidth = line;
    context.font = `${fontSize}px sans-serif`;
    context.textBaseline = 'top';
    for (const p of result.predictions) {
      const colour = colorFor(p.class_id, p.class);
      const x0 = p.x - p.width / 2;
      const y0 = p.y - p.height / 2;
      context.strokeStyle = colour;
      context.strokeRect(x0, y0, p.width, p.height);
      const label = `${p.class} ${(p.confidence * 100).toFixed(0)}%`;
      const textWidth = context.measureText(label).width + 2 * line;
      const ty = y0 - fontSize - line >= 0 ? y0 - fontSize - line : y0;
      context.fillStyle = colour;
      context.fillRect(x0 - line / 2, ty, textWidth, fontSize + line);
      context.fillStyle = '#ffffff';
      context.fillText(label, x0 + line / 2, ty + line / 2);
    }
    if (options.displayStatistics) {
      const text = `${frame.measuredFps.toFixed(1)} fps · ${frame.latencyMs.toFixed(0)} ms · dropped ${frame.droppedFrames}`;
      const w = context.measureText(text).width + 12;
      context.fillStyle = 'rgba(0,0,0,0.6)';
      context.fillRect(0, 0, w, fontSize + 10);
      context.fillStyle = '#ffffff';
      context.fillText(text, 6, 5);
    }
  };
}
