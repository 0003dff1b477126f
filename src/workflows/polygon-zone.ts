/**
 * supervision's PolygonZone test: a detection is in the zone when its anchor (rounded up to a pixel, after
 * clipping the box to the frame) falls inside the filled polygon, edges included.
 */
import { anchor, detectionsLength, type Detections, type Position } from './detections.ts';

type Point = readonly [number, number];

function onSegment(p: Point, a: Point, b: Point): boolean {
  const crossValue = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  if (Math.abs(crossValue) > 1e-9) return false;
  return p[0] >= Math.min(a[0], b[0]) && p[0] <= Math.max(a[0], b[0]) && p[1] >= Math.min(a[1], b[1]) && p[1] <= Math.max(a[1], b[1]);
}

/** Whether `p` is inside `polygon` or on its boundary. */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if (onSegment(p, a, b)) return true;
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** Which detections have their `position` anchor inside `polygon`. */
export function inPolygonZone(detections: Detections, polygon: readonly Point[], position: Position = 'CENTER'): boolean[] {
  const { width, height } = detections.image;
  return Array.from({ length: detectionsLength(detections) }, (_, i) => {
    const [x, y] = anchor(detections, i, position);
    const cx = Math.ceil(Math.min(Math.max(x, 0), width > 0 ? width : x));
    const cy = Math.ceil(Math.min(Math.max(y, 0), height > 0 ? height : y));
    return pointInPolygon([cx, cy], polygon);
  });
}
