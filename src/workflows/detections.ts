/**
 * Detections inside the engine: typed arrays, as supervision's `sv.Detections` holds them. Roboflow's JSON
 * appears only at the edges ({@link serializeDetections}).
 */

/** A per-detection column of extra data (supervision's `data` dict). */
export type DetectionsColumn = string[] | number[] | Float64Array;

/** Extra data per detection: `class_name` and `detection_id` always, others as blocks add them (`time_in_zone`, …). */
export interface DetectionsData {
  /** Class name per detection. */
  class_name: string[];
  /** A unique id (UUID) per detection. */
  detection_id: string[];
  [key: string]: DetectionsColumn;
}

/** Keypoints per detection (MediaPipe landmarkers): `xy` [n, k, 2] flattened, `confidence` [n, k]. */
export interface DetectionsKeypoints {
  /** Keypoints per detection. */
  perDetection: number;
  /** Keypoint coordinates in image pixels, `[n, k, 2]` flattened. */
  xy: Float32Array;
  /** Keypoint scores, `[n, k]` flattened. */
  confidence: Float32Array;
  /** Names of the keypoints, when known. */
  names?: string[];
}

/** Where an image lies inside another one (Roboflow's parent / root coordinates of a crop). */
export interface ImageOrigin {
  /** Id of the image cropped from (`parent_id` / `root_parent_id`). */
  parentId: string;
  /** Left edge of the crop in that image's pixels. */
  offsetX: number;
  /** Top edge of the crop in that image's pixels. */
  offsetY: number;
  /** Width of that image. */
  width: number;
  /** Height of that image. */
  height: number;
}

/** The coordinates systems of a crop: its direct parent and the root image (the frame); equal for a first-level crop. */
export interface CoordinatesOrigin {
  /** The image the crop was taken from. */
  parent: ImageOrigin;
  /** The frame at the top of the chain of crops. */
  root: ImageOrigin;
}

/** A set of detections in the pixels of the image they were made on (the frame, or a crop: see `origin`). */
export interface Detections {
  /** `[x0, y0, x1, y1]` per detection, flattened (length 4n). */
  xyxy: Float32Array;
  /** Score per detection, 0..1. */
  confidence: Float32Array;
  /** Class id per detection. */
  classId: Int32Array;
  /** Tracker id per detection, once a tracker has run. */
  trackerId?: Int32Array;
  /** Extra columns. */
  data: DetectionsData;
  /** Keypoints, for landmark models. */
  keypoints?: DetectionsKeypoints;
  /** Size of the image the detections refer to. */
  image: {
    /** Width in pixels. */
    width: number;
    /** Height in pixels. */
    height: number;
  };
  /** Set when the detections were made on a crop: where the crop lies in its parent and in the frame. */
  origin?: CoordinatesOrigin;
}

/** Number of detections. */
export function detectionsLength(d: Detections): number {
  return d.confidence.length;
}

/** Whether `value` looks like {@link Detections}. */
export function isDetections(value: unknown): value is Detections {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Detections).xyxy instanceof Float32Array &&
    (value as Detections).confidence instanceof Float32Array &&
    (value as Detections).classId instanceof Int32Array &&
    typeof (value as Detections).data === 'object'
  );
}

/** No detections, for an image of the given size. */
export function emptyDetections(image: { width: number; height: number }, tracked = false): Detections {
  return {
    xyxy: new Float32Array(0),
    confidence: new Float32Array(0),
    classId: new Int32Array(0),
    trackerId: tracked ? new Int32Array(0) : undefined,
    data: { class_name: [], detection_id: [] },
    image: { ...image },
  };
}

function pickColumn(column: DetectionsColumn, indices: readonly number[]): DetectionsColumn {
  if (column instanceof Float64Array) return Float64Array.from(indices, (i) => column[i]!);
  return indices.map((i) => (column as (string | number)[])[i]!) as DetectionsColumn;
}

/** The detections at `indices`, in that order (supervision's `detections[mask]`). */
export function selectDetections(d: Detections, indices: readonly number[]): Detections {
  const xyxy = new Float32Array(indices.length * 4);
  indices.forEach((i, k) => xyxy.set(d.xyxy.subarray(i * 4, i * 4 + 4), k * 4));
  const data = {} as DetectionsData;
  for (const [key, column] of Object.entries(d.data)) data[key] = pickColumn(column, indices);
  let keypoints: DetectionsKeypoints | undefined;
  if (d.keypoints) {
    const k = d.keypoints.perDetection;
    const xy = new Float32Array(indices.length * k * 2);
    const confidence = new Float32Array(indices.length * k);
    indices.forEach((i, n) => {
      xy.set(d.keypoints!.xy.subarray(i * k * 2, (i + 1) * k * 2), n * k * 2);
      confidence.set(d.keypoints!.confidence.subarray(i * k, (i + 1) * k), n * k);
    });
    keypoints = { perDetection: k, xy, confidence, names: d.keypoints.names };
  }
  return {
    xyxy,
    confidence: Float32Array.from(indices, (i) => d.confidence[i]!),
    classId: Int32Array.from(indices, (i) => d.classId[i]!),
    trackerId: d.trackerId ? Int32Array.from(indices, (i) => d.trackerId![i]!) : undefined,
    data,
    keypoints,
    image: { ...d.image },
    origin: d.origin,
  };
}

/** Indices where `mask` is true. */
export function maskToIndices(mask: readonly boolean[]): number[] {
  const out: number[] = [];
  mask.forEach((m, i) => m && out.push(i));
  return out;
}

/** A copy with a number column set (e.g. `time_in_zone`). */
export function withColumn(d: Detections, key: string, values: Float64Array | string[]): Detections {
  return { ...d, data: { ...d.data, [key]: values } };
}

/**
 * Concatenates detections (supervision's `Detections.merge`): columns present in only some of them are filled with
 * `''` (text) or `NaN` (numbers); tracker ids and keypoints are kept only when every part has them. `image` and
 * `origin` come from the first part; `empty` gives them when there is none.
 */
export function mergeDetections(parts: readonly Detections[], empty: Pick<Detections, 'image' | 'origin'>): Detections {
  if (parts.length === 0) return { ...emptyDetections(empty.image), origin: empty.origin };
  const lengths = parts.map(detectionsLength);
  const total = lengths.reduce((a, b) => a + b, 0);
  const xyxy = new Float32Array(total * 4);
  const confidence = new Float32Array(total);
  const classId = new Int32Array(total);
  const tracked = parts.every((p) => p.trackerId);
  const trackerId = tracked ? new Int32Array(total) : undefined;
  let at = 0;
  for (const p of parts) {
    xyxy.set(p.xyxy, at * 4);
    confidence.set(p.confidence, at);
    classId.set(p.classId, at);
    if (trackerId) trackerId.set(p.trackerId!, at);
    at += detectionsLength(p);
  }
  const keys = [...new Set(parts.flatMap((p) => Object.keys(p.data)))];
  const data = {} as DetectionsData;
  for (const key of keys) {
    const columns = parts.map((p, k) => p.data[key] ?? new Array<string | number>(lengths[k]!).fill(parts.some((q) => typeof q.data[key]?.[0] === 'string') ? '' : Number.NaN));
    if (columns.every((c) => c instanceof Float64Array)) {
      const merged = new Float64Array(total);
      let offset = 0;
      for (const c of columns) {
        merged.set(c as Float64Array, offset);
        offset += c.length;
      }
      data[key] = merged;
    } else data[key] = columns.flatMap((c) => Array.from(c as ArrayLike<string | number>)) as string[] | number[];
  }
  let keypoints: DetectionsKeypoints | undefined;
  const k = parts[0]!.keypoints?.perDetection;
  if (k !== undefined && parts.every((p) => p.keypoints?.perDetection === k)) {
    keypoints = {
      perDetection: k,
      xy: Float32Array.from(parts.flatMap((p) => Array.from(p.keypoints!.xy))),
      confidence: Float32Array.from(parts.flatMap((p) => Array.from(p.keypoints!.confidence))),
      names: parts[0]!.keypoints!.names,
    };
  }
  return { xyxy, confidence, classId, trackerId, data, keypoints, image: { ...parts[0]!.image }, origin: parts[0]!.origin };
}

/** Shifts boxes (and keypoints) by `(dx, dy)`. */
export function moveDetections(d: Detections, dx: number, dy: number): Detections {
  const xyxy = Float32Array.from(d.xyxy, (v, i) => v + (i % 2 === 0 ? dx : dy));
  const keypoints = d.keypoints ? { ...d.keypoints, xy: Float32Array.from(d.keypoints.xy, (v, i) => v + (i % 2 === 0 ? dx : dy)) } : undefined;
  return { ...d, xyxy, keypoints };
}

/**
 * Detections made on a crop, moved into the frame's coordinates (Roboflow's `sv_detections_to_root_coordinates`):
 * boxes and keypoints shifted by the crop's offset in the frame, `image` the frame's size, `parent_id` the frame's
 * id. Detections made on the frame come back as they are.
 */
export function detectionsToRootCoordinates(d: Detections): Detections {
  if (!d.origin) return d;
  const { root } = d.origin;
  const moved = moveDetections(d, root.offsetX, root.offsetY);
  const n = detectionsLength(d);
  return {
    ...moved,
    data: { ...moved.data, parent_id: Array.from({ length: n }, () => root.parentId) },
    image: { width: root.width, height: root.height },
    origin: undefined,
  };
}

/** Anchor positions, as supervision's `sv.Position`. */
export const POSITIONS = [
  'CENTER',
  'CENTER_LEFT',
  'CENTER_RIGHT',
  'TOP_CENTER',
  'TOP_LEFT',
  'TOP_RIGHT',
  'BOTTOM_LEFT',
  'BOTTOM_CENTER',
  'BOTTOM_RIGHT',
  'CENTER_OF_MASS',
] as const;

/** An anchor position on a box. */
export type Position = (typeof POSITIONS)[number];

/** The anchor point of detection `i` (supervision's `get_anchors_coordinates`; CENTER_OF_MASS falls back to CENTER). */
export function anchor(d: Detections, i: number, position: Position): [number, number] {
  const x0 = d.xyxy[i * 4]!;
  const y0 = d.xyxy[i * 4 + 1]!;
  const x1 = d.xyxy[i * 4 + 2]!;
  const y1 = d.xyxy[i * 4 + 3]!;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  switch (position) {
    case 'CENTER_LEFT':
      return [x0, cy];
    case 'CENTER_RIGHT':
      return [x1, cy];
    case 'TOP_CENTER':
      return [cx, y0];
    case 'TOP_LEFT':
      return [x0, y0];
    case 'TOP_RIGHT':
      return [x1, y0];
    case 'BOTTOM_LEFT':
      return [x0, y1];
    case 'BOTTOM_CENTER':
      return [cx, y1];
    case 'BOTTOM_RIGHT':
      return [x1, y1];
    default:
      return [cx, cy];
  }
}

/** One detection in Roboflow's JSON. */
export interface SerializedDetection {
  /** Box width in pixels. */
  width: number;
  /** Box height in pixels. */
  height: number;
  /** Box centre x in pixels. */
  x: number;
  /** Box centre y in pixels. */
  y: number;
  /** Score, 0..1. */
  confidence: number;
  /** Class id in the model's head. */
  class_id: number;
  /** Class name. */
  class: string;
  /** A unique id (UUID) for this detection. */
  detection_id: string;
  /** Tracker id, after a tracker step. */
  tracker_id?: number;
  /** Id of the image the detection was made on. */
  parent_id?: string;
  /** Seconds in the zone, after a time_in_zone step. */
  time_in_zone?: number;
  /** Keypoints, for landmark models: position in pixels, score, index and name. */
  keypoints?: {
    /** x in pixels. */
    x: number;
    /** y in pixels. */
    y: number;
    /** Score, 0..1. */
    confidence: number;
    /** Keypoint name, when known. */
    class_name?: string;
    /** Keypoint index. */
    class_id: number;
  }[];
  [key: string]: unknown;
}

/** Detections in Roboflow's JSON (`serialise_sv_detections`). */
export interface SerializedDetections {
  /** Size of the image. */
  image: {
    /** Width in pixels. */
    width: number;
    /** Height in pixels. */
    height: number;
  };
  /** The detections. */
  predictions: SerializedDetection[];
}

const RESERVED = new Set(['class_name', 'detection_id', 'time_in_zone', 'parent_id']);

/** Roboflow's JSON for detections: centre `x`, `y`, `width`, `height`, `class`, `tracker_id`, `time_in_zone`, … */
export function serializeDetections(d: Detections): SerializedDetections {
  const predictions: SerializedDetection[] = [];
  for (let i = 0; i < detectionsLength(d); i++) {
    const x0 = d.xyxy[i * 4]!;
    const y0 = d.xyxy[i * 4 + 1]!;
    const x1 = d.xyxy[i * 4 + 2]!;
    const y1 = d.xyxy[i * 4 + 3]!;
    const width = Math.abs(x1 - x0);
    const height = Math.abs(y1 - y0);
    const p: SerializedDetection = {
      width,
      height,
      x: x0 + width / 2,
      y: y0 + height / 2,
      confidence: d.confidence[i]!,
      class_id: d.classId[i]!,
      class: d.data.class_name[i] ?? String(d.classId[i]),
      detection_id: d.data.detection_id[i] ?? '',
    };
    if (d.trackerId) p.tracker_id = d.trackerId[i]!;
    const parent = d.data.parent_id;
    if (parent) p.parent_id = String(parent[i]);
    const timeInZone = d.data.time_in_zone;
    if (timeInZone) p.time_in_zone = Number(timeInZone[i]);
    for (const [key, column] of Object.entries(d.data)) if (!RESERVED.has(key)) p[key] = column[i];
    if (d.keypoints) {
      const k = d.keypoints.perDetection;
      p.keypoints = Array.from({ length: k }, (_, j) => ({
        x: d.keypoints!.xy[(i * k + j) * 2]!,
        y: d.keypoints!.xy[(i * k + j) * 2 + 1]!,
        confidence: d.keypoints!.confidence[i * k + j]!,
        class_id: j,
        ...(d.keypoints!.names?.[j] ? { class_name: d.keypoints!.names[j] } : {}),
      }));
    }
    predictions.push(p);
  }
  return { image: { ...d.image }, predictions };
}
