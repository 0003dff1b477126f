/**
 * Visualisation blocks: bounding boxes, labels (incl. Tracker Id and Time In Zone), line counter, polygon zone,
 * trace and segmentation masks, drawn on an OffscreenCanvas with supervision's default palette and `color_axis` (CLASS, INDEX, TRACK).
 * Each outputs `image`.
 */
import * as v from 'valibot';
import { anchor, detectionsLength, isDetections, type Detections, type Position } from '../detections.ts';
import { DETECTION_KINDS, KIND } from '../kinds.ts';
import { decodeMaskRle } from '../mask-rle.ts';
import { isWorkflowImage, type BlockManifest, type PropertySpec, type WorkflowImageValue } from './block.ts';
import { SEMANTIC_SEGMENTATION_PREDICTION_KIND } from './mediapipe-image-segmenter.ts';
import { PerVideo } from './per-video.ts';
import { color, integerFrom, lineSegment, numberIn, position, stringList, zones } from './props.ts';
import { COPY_IMAGE, IMAGE_INPUT, ZONE_COLOR, ZONE_OPACITY } from './shared-properties.ts';
import { toPolygons } from './time-in-zone.ts';

/** supervision's `ColorPalette.DEFAULT`. */
export const SUPERVISION_DEFAULT_PALETTE: readonly string[] = [
  '#A351FB',
  '#FF4040',
  '#FFA1A0',
  '#FF7633',
  '#FFB633',
  '#D1D435',
  '#4CFB12',
  '#94CF1A',
  '#40DE8A',
  '#1B9640',
  '#00D6C1',
  '#2E9CAA',
  '#00C4FF',
  '#364797',
  '#6675FF',
  '#0019EF',
  '#863AFF',
  '#530087',
  '#CD3AFF',
  '#FF97FF',
  '#FF39C9',
];

const NAMED: Record<string, string> = { WHITE: '#FFFFFF', BLACK: '#000000', RED: '#FF0000', GREEN: '#00FF00', BLUE: '#0000FF', YELLOW: '#FFFF00', ROBOFLOW: '#A351FB' };

/** A colour as written in a spec (`#RRGGBB`, `rgb(r, g, b)`, `(r, g, b)`, a name) as CSS. */
export function cssColor(value: string): string {
  const named = NAMED[value.toUpperCase()];
  if (named) return named;
  const tuple = /^\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(value);
  if (tuple) return `rgb(${tuple[1]}, ${tuple[2]}, ${tuple[3]})`;
  return value;
}

/** How colours are chosen for detections. */
export type ColorAxis = 'CLASS' | 'INDEX' | 'TRACK';

/** The colour of detection `i`. */
export function detectionColor(d: Detections, i: number, palette: readonly string[], axis: ColorAxis): string {
  let index: number;
  if (axis === 'INDEX') index = i;
  else if (axis === 'TRACK') {
    if (!d.trackerId) throw new TypeError('color_axis TRACK needs tracked detections (tracker_id is missing)');
    index = d.trackerId[i]!;
  } else index = d.classId[i]!;
  return palette[((index % palette.length) + palette.length) % palette.length]!;
}

/** What every visualisation takes: the image and whether to draw on a copy of it. */
const drawable: Record<string, PropertySpec> = {
  image: IMAGE_INPUT,
  copy_image: COPY_IMAGE,
};

const colorable: Record<string, PropertySpec> = {
  ...drawable,
  color_palette: { kinds: [KIND.STRING], literal: v.picklist(['DEFAULT', 'CUSTOM']), default: 'DEFAULT' },
  palette_size: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 10 },
  custom_colors: { kinds: [KIND.LIST_OF_VALUES], literal: stringList, default: [] },
  color_axis: { kinds: [KIND.STRING], literal: v.picklist(['CLASS', 'INDEX', 'TRACK']), default: 'CLASS' },
};

const predictionsProperty: PropertySpec = { kinds: DETECTION_KINDS, required: true };

function paletteOf(inputs: Record<string, unknown>): readonly string[] {
  if (inputs.color_palette === 'CUSTOM') {
    const custom = (inputs.custom_colors as string[]).map(cssColor);
    if (custom.length === 0) throw new TypeError('color_palette CUSTOM needs custom_colors');
    return custom;
  }
  return SUPERVISION_DEFAULT_PALETTE;
}

/** Where a visualisation draws: a copy of the image (or the image's own canvas when `copy_image` is false). */
function canvasFor(image: unknown, copy: boolean): { canvas: OffscreenCanvas; ctx: OffscreenCanvasRenderingContext2D; image: WorkflowImageValue } {
  if (!isWorkflowImage(image)) throw new TypeError('image must be an image');
  if (!copy && image.source instanceof OffscreenCanvas) {
    return { canvas: image.source, ctx: image.source.getContext('2d')!, image };
  }
  const canvas = new OffscreenCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d')!;
  if (image.source) ctx.drawImage(image.source, 0, 0, image.width, image.height);
  return { canvas, ctx, image: { ...image, source: canvas } };
}

function imageOutputs(): { name: string; kinds: string[] }[] {
  return [{ name: 'image', kinds: [KIND.IMAGE] }];
}

function detectionsInput(value: unknown): Detections {
  if (!isDetections(value)) throw new TypeError('predictions must be detections');
  return value;
}

/**
 * What a detections visualisation draws with: the step's detections, where to draw them (`canvasFor`), and each
 * detection's colour by the step's palette and `color_axis`.
 */
function detectionsDrawing(inputs: Record<string, unknown>): {
  d: Detections;
  ctx: OffscreenCanvasRenderingContext2D;
  image: WorkflowImageValue;
  colorOf: (i: number) => string;
} {
  const d = detectionsInput(inputs.predictions);
  const { ctx, image } = canvasFor(inputs.image, inputs.copy_image as boolean);
  const palette = paletteOf(inputs);
  const axis = inputs.color_axis as ColorAxis;
  return { d, ctx, image, colorOf: (i) => detectionColor(d, i, palette, axis) };
}

/** `roboflow_core/bounding_box_visualization@v1`. */
export const BoundingBoxVisualizationV1: BlockManifest = {
  type: 'roboflow_core/bounding_box_visualization@v1',
  aliases: ['BoundingBoxVisualization', 'bounding_box_visualization@v1'],
  description: 'Draws detection boxes.',
  properties: {
    ...colorable,
    predictions: predictionsProperty,
    thickness: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 2 },
    roundness: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: numberIn(0, 1), default: 0 },
  },
  outputs: imageOutputs,
  create: () => ({
    run(inputs) {
      const { d, ctx, image, colorOf } = detectionsDrawing(inputs);
      const t = inputs.thickness as number;
      ctx.lineWidth = t;
      for (let i = 0; i < detectionsLength(d); i++) {
        const [x0, y0, x1, y1] = [d.xyxy[i * 4]!, d.xyxy[i * 4 + 1]!, d.xyxy[i * 4 + 2]!, d.xyxy[i * 4 + 3]!];
        ctx.strokeStyle = colorOf(i);
        const r = ((inputs.roundness as number) * Math.min(x1 - x0, y1 - y0)) / 2;
        ctx.beginPath();
        if (r > 0) ctx.roundRect(x0, y0, x1 - x0, y1 - y0, r);
        else ctx.rect(x0, y0, x1 - x0, y1 - y0);
        ctx.stroke();
      }
      return { image };
    },
  }),
};

/** The label text modes. */
export const LABEL_TEXTS = ['Class', 'Confidence', 'Class and Confidence', 'Index', 'Dimensions', 'Area', 'Tracker Id', 'Time In Zone'] as const;

/** The label text of detection `i` in `mode`. */
export function labelText(d: Detections, i: number, mode: (typeof LABEL_TEXTS)[number]): string {
  const w = d.xyxy[i * 4 + 2]! - d.xyxy[i * 4]!;
  const h = d.xyxy[i * 4 + 3]! - d.xyxy[i * 4 + 1]!;
  switch (mode) {
    case 'Class':
      return d.data.class_name[i] ?? String(d.classId[i]);
    case 'Confidence':
      return d.confidence[i]!.toFixed(2);
    case 'Class and Confidence':
      return `${d.data.class_name[i] ?? d.classId[i]} ${d.confidence[i]!.toFixed(2)}`;
    case 'Index':
      return String(i);
    case 'Dimensions':
      return `${Math.round(w)} x ${Math.round(h)}`;
    case 'Area':
      return String(Math.round(w * h));
    case 'Tracker Id':
      return d.trackerId ? String(d.trackerId[i]) : '';
    case 'Time In Zone': {
      const t = d.data.time_in_zone?.[i];
      return t === undefined ? '' : `${Number(t).toFixed(2)}s`;
    }
  }
}

/** `roboflow_core/label_visualization@v1`. */
export const LabelVisualizationV1: BlockManifest = {
  type: 'roboflow_core/label_visualization@v1',
  aliases: ['LabelVisualization', 'label_visualization@v1'],
  description: 'Draws a text label per detection (class, confidence, tracker id, time in zone, …).',
  properties: {
    ...colorable,
    predictions: predictionsProperty,
    text: { kinds: [KIND.STRING], literal: v.picklist(LABEL_TEXTS), default: 'Class' },
    text_position: { kinds: [KIND.STRING], literal: position, default: 'TOP_LEFT' },
    text_color: { kinds: [KIND.STRING], literal: color, default: 'WHITE' },
    text_scale: { kinds: [KIND.FLOAT], literal: numberIn(0.1, 10), default: 1.0 },
    text_thickness: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
    text_padding: { kinds: [KIND.INTEGER], literal: integerFrom(0), default: 10 },
    border_radius: { kinds: [KIND.INTEGER], literal: integerFrom(0), default: 0 },
  },
  outputs: imageOutputs,
  create: () => ({
    run(inputs) {
      const { d, ctx, image, colorOf } = detectionsDrawing(inputs);
      const size = Math.max(6, Math.round(20 * (inputs.text_scale as number)));
      const pad = inputs.text_padding as number;
      ctx.font = `${inputs.text_thickness as number > 1 ? 'bold ' : ''}${size}px sans-serif`;
      ctx.textBaseline = 'top';
      for (let i = 0; i < detectionsLength(d); i++) {
        const text = labelText(d, i, inputs.text as (typeof LABEL_TEXTS)[number]);
        if (!text) continue;
        const [ax, ay] = anchor(d, i, inputs.text_position as Position);
        const w = ctx.measureText(text).width + 2 * pad;
        const h = size + 2 * pad;
        // supervision places a TOP_* label above the anchor, a BOTTOM_* one below, others centred on it.
        const pos = inputs.text_position as string;
        const x = pos.endsWith('LEFT') ? ax : pos.endsWith('RIGHT') ? ax - w : ax - w / 2;
        const y = pos.startsWith('TOP') ? ay - h : pos.startsWith('BOTTOM') ? ay : ay - h / 2;
        ctx.fillStyle = colorOf(i);
        ctx.beginPath();
        ctx.roundRect(x, y, w, h, inputs.border_radius as number);
        ctx.fill();
        ctx.fillStyle = cssColor(inputs.text_color as string);
        ctx.fillText(text, x + pad, y + pad);
      }
      return { image };
    },
  }),
};

/** `roboflow_core/line_counter_visualization@v1`. */
export const LineCounterVisualizationV1: BlockManifest = {
  type: 'roboflow_core/line_counter_visualization@v1',
  aliases: ['line_counter_visualization@v1'],
  description: 'Draws a counting line and its in/out counts.',
  properties: {
    ...drawable,
    zone: { kinds: [KIND.LIST_OF_VALUES, KIND.ZONE], literal: lineSegment, required: true },
    count_in: { kinds: [KIND.INTEGER], literal: integerFrom(0), required: true },
    count_out: { kinds: [KIND.INTEGER], literal: integerFrom(0), required: true },
    color: ZONE_COLOR,
    thickness: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 2 },
    text_thickness: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
    text_scale: { kinds: [KIND.FLOAT], literal: numberIn(0.1, 10), default: 1.0 },
    opacity: ZONE_OPACITY,
  },
  outputs: imageOutputs,
  create: () => ({
    run(inputs) {
      const { ctx, image } = canvasFor(inputs.image, inputs.copy_image as boolean);
      const [[x0, y0], [x1, y1]] = inputs.zone as [[number, number], [number, number]];
      ctx.strokeStyle = cssColor(inputs.color as string);
      ctx.lineWidth = inputs.thickness as number;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      const size = Math.max(6, Math.round(20 * (inputs.text_scale as number)));
      const text = `in: ${inputs.count_in as number}, out: ${inputs.count_out as number}`;
      ctx.font = `${size}px sans-serif`;
      ctx.textBaseline = 'top';
      const w = ctx.measureText(text).width + 10;
      const tx = Math.min(Math.max(x0, 0), Math.max(0, image.width - w));
      const ty = Math.min(Math.max(y0, 0), Math.max(0, image.height - size - 10));
      ctx.fillStyle = cssColor(inputs.color as string);
      ctx.fillRect(tx, ty, w, size + 10);
      ctx.fillStyle = '#FFFFFF';
      ctx.fillText(text, tx + 5, ty + 5);
      return { image };
    },
  }),
};

/** `roboflow_core/polygon_zone_visualization@v1`. */
export const PolygonZoneVisualizationV1: BlockManifest = {
  type: 'roboflow_core/polygon_zone_visualization@v1',
  aliases: ['polygon_zone_visualization@v1'],
  description: 'Fills polygon zones with a translucent colour.',
  properties: {
    ...drawable,
    zone: { kinds: [KIND.LIST_OF_VALUES, KIND.ZONE], literal: zones, required: true },
    color: ZONE_COLOR,
    opacity: ZONE_OPACITY,
  },
  outputs: imageOutputs,
  create: () => ({
    run(inputs) {
      const { ctx, image } = canvasFor(inputs.image, inputs.copy_image as boolean);
      ctx.fillStyle = cssColor(inputs.color as string);
      ctx.globalAlpha = inputs.opacity as number;
      for (const polygon of toPolygons(inputs.zone)) {
        ctx.beginPath();
        polygon.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
        ctx.closePath();
        ctx.fill();
      }
      ctx.globalAlpha = 1;
      return { image };
    },
  }),
};

/** `roboflow_core/trace_visualization@v1`. */
export const TraceVisualizationV1: BlockManifest = {
  type: 'roboflow_core/trace_visualization@v1',
  aliases: ['TraceVisualization', 'trace_visualization@v1'],
  description: "Draws each tracked detection's recent path.",
  properties: {
    ...colorable,
    predictions: predictionsProperty,
    position: { kinds: [KIND.STRING], literal: position, default: 'CENTER' },
    trace_length: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 30 },
    thickness: { kinds: [KIND.INTEGER], literal: integerFrom(1), default: 1 },
  },
  outputs: imageOutputs,
  create: () => {
    const traces = new PerVideo(() => new Map<number, [number, number][]>());
    return {
      run(inputs, { video }) {
        const { d, ctx, image, colorOf } = detectionsDrawing(inputs);
        const trackerId = d.trackerId;
        if (!trackerId) throw new TypeError('trace_visualization requires tracked detections (tracker_id is missing)');
        const history = traces.get(video.video_identifier);
        const length = inputs.trace_length as number;
        ctx.lineWidth = inputs.thickness as number;
        for (let i = 0; i < detectionsLength(d); i++) {
          const id = trackerId[i]!;
          const points = history.get(id) ?? [];
          points.push(anchor(d, i, inputs.position as Position));
          while (points.length > length) points.shift();
          history.set(id, points);
          ctx.strokeStyle = colorOf(i);
          ctx.beginPath();
          points.forEach(([x, y], k) => (k === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
          ctx.stroke();
        }
        return { image };
      },
    };
  },
};

/** Predictions with masks, as the reference's mask visualisation accepts them. */
const MASK_PREDICTION_KINDS = [KIND.INSTANCE_SEGMENTATION_PREDICTION, 'rle_instance_segmentation_prediction', SEMANTIC_SEGMENTATION_PREDICTION_KIND];

/**
 * `roboflow_core/mask_visualization@v1`: each detection's mask (COCO RLE in the `rle_mask` column, in the pixels of
 * the detections' `image`) filled with its colour, the filled layer blended over the image at `opacity` (later
 * detections cover earlier ones where masks overlap, as supervision's MaskAnnotator does). Detections without a
 * mask are skipped.
 */
export const MaskVisualizationV1: BlockManifest = {
  type: 'roboflow_core/mask_visualization@v1',
  aliases: ['MaskVisualization', 'mask_visualization@v1'],
  description: "Fills each detection's mask (rle_mask) with its colour at opacity.",
  properties: {
    ...colorable,
    predictions: { kinds: MASK_PREDICTION_KINDS, required: true },
    opacity: { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: numberIn(0, 1), default: 0.5 },
  },
  outputs: imageOutputs,
  create: () => ({
    run(inputs) {
      const { d, ctx, image, colorOf } = detectionsDrawing(inputs);
      const masks = d.data.rle_mask as string[] | undefined;
      const { width, height } = d.image;
      let layer: OffscreenCanvasRenderingContext2D | undefined;
      let shape: OffscreenCanvasRenderingContext2D | undefined;
      for (let i = 0; i < detectionsLength(d); i++) {
        const counts = masks?.[i];
        if (typeof counts !== 'string' || counts === '') continue;
        const mask = decodeMaskRle(counts, width, height);
        const pixels = new ImageData(width, height);
        for (let k = 0; k < mask.length; k++) if (mask[k]) pixels.data[k * 4 + 3] = 255;
        layer ??= new OffscreenCanvas(width, height).getContext('2d')!;
        shape ??= new OffscreenCanvas(width, height).getContext('2d')!;
        // The mask as alpha, then painted in the detection's colour where it is set.
        shape.globalCompositeOperation = 'copy';
        shape.putImageData(pixels, 0, 0);
        shape.globalCompositeOperation = 'source-in';
        shape.fillStyle = colorOf(i);
        shape.fillRect(0, 0, width, height);
        layer.drawImage(shape.canvas, 0, 0);
      }
      if (layer) {
        ctx.globalAlpha = inputs.opacity as number;
        ctx.drawImage(layer.canvas, 0, 0, image.width, image.height);
        ctx.globalAlpha = 1;
      }
      return { image };
    },
  }),
};
