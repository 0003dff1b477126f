/** Draws each frame with its boxes, labels and (optionally) throughput and latency onto a canvas. */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';

/** Options of {@link renderBoxes}. */
export interface RenderBoxesOptions {
  /** Where to draw; it is resized to the frame size. An OffscreenCanvas works too. */
  canvas: HTMLCanvasElement | OffscreenCanvas;
  /** Draw throughput (frames/s) and latency (ms) in the corner. Default false. */
  displayStatistics?: boolean;
  /** Line width in pixels. Default: 2 px per 640 px of frame width, at least 2. */
  lineWidth?: number;
  /**
   * Draw several sources side by side: the canvas becomes `columns` × rows tiles of `tileWidth` × `tileHeight`
   * pixels (default: the first frame's size), and each source draws, scaled, into the tile of its `source_id`.
   */
  tiles?: { sources: number; columns?: number; tileWidth?: number; tileHeight?: number };
  /** Colour for a class; default: a fixed palette indexed by class id. */
  colorFor?: (classId: number, className: string) => string;
}

/** A fixed, high-contrast palette (indexed by class id) so a class keeps its colour across frames and runs. */
const PALETTE = ['#ff3838', '#2c99a8', '#ff701f', '#6473ff', '#cfd231', '#48f90a', '#92cc17', '#3ddb86', '#1a9334', '#00d4bb', '#ff9d97', '#00c2ff', '#344593', '#ffb21d', '#0018ec', '#8438ff', '#520085', '#cb38ff', '#ff95c8', '#ff37c7'];

/** Black or white, whichever reads better on a `#rrggbb` background (other CSS colours get white). */
function readableTextOn(colour: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!m) return '#ffffff';
  const [r, g, b] = [m[1]!, m[2]!, m[3]!].map((h) => parseInt(h, 16) / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6 ? '#000000' : '#ffffff';
}

/**
 * The default box colour of {@link renderBoxes}: a CSS colour from a fixed palette of 20, indexed by class id, so a
 * class keeps its colour across frames and runs.
 */
export function defaultColorFor(classId: number): string {
  return PALETTE[Math.abs(classId) % PALETTE.length]!;
}

/**
 * Returns a sink that draws each frame, its boxes and `class confidence%` labels (and, with `displayStatistics`,
 * throughput and latency) on `options.canvas`. The sink draws synchronously and keeps no reference to the frame,
 * which stays owned by the pipeline; the canvas stays the caller's. Nothing to release: drop the function.
 */
export function renderBoxes(options: RenderBoxesOptions): (predictions: FramePredictions, frame: FrameMetadata) => void {
  const context = options.canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new TypeError('renderBoxes: options.canvas has no 2d context (is it already used for WebGL/WebGPU?)');
  const colorFor = options.colorFor ?? defaultColorFor;
  let tile: { width: number; height: number; columns: number } | undefined;
  return (result, frame) => {
    const { width, height } = result.image;
    const canvas = options.canvas;
    if (options.tiles) {
      const columns = options.tiles.columns ?? Math.ceil(Math.sqrt(options.tiles.sources));
      tile ??= { width: options.tiles.tileWidth ?? width, height: options.tiles.tileHeight ?? height, columns };
      const rows = Math.ceil(options.tiles.sources / columns);
      if (canvas.width !== tile.width * columns || canvas.height !== tile.height * rows) {
        canvas.width = tile.width * columns;
        canvas.height = tile.height * rows;
      }
      context.save();
      context.translate((result.source_id % columns) * tile.width, Math.floor(result.source_id / columns) * tile.height);
      context.scale(tile.width / width, tile.height / height);
    } else if (canvas.width !== width || canvas.height !== height) {
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
      context.fillStyle = readableTextOn(colour);
      context.fillText(label, x0 + line / 2, ty + line / 2);
    }
    if (options.displayStatistics) {
      // Bottom-left, where it hides the least: labels sit above their boxes.
      const text = `${frame.measuredFps.toFixed(1)} fps · ${frame.latencyMs.toFixed(0)} ms · dropped ${frame.droppedFrames}`;
      const w = context.measureText(text).width + 12;
      context.fillStyle = 'rgba(0,0,0,0.6)';
      context.fillRect(0, height - fontSize - 10, w, fontSize + 10);
      context.fillStyle = '#ffffff';
      context.fillText(text, 6, height - fontSize - 5);
    }
    if (options.tiles) context.restore();
  };
}
