/**
 * supervision's LineZone: counts tracked objects crossing a line. An object counts only while all its anchors
 * lie between the perpendiculars through the line's ends and on one side of the line (the side comes from the
 * cross product); each confirmed change of side is one crossing, `in` when the anchors move to the side where the
 * cross product is negative (left of the line's direction in image coordinates), `out` the other way.
 */
import { anchor, detectionsLength, type Detections, type Position } from './detections.ts';

type Point = readonly [number, number];

/** LineZone's default anchors: the four corners. */
export const LINE_ZONE_DEFAULT_ANCHORS: readonly Position[] = ['BOTTOM_LEFT', 'BOTTOM_RIGHT', 'TOP_LEFT', 'TOP_RIGHT'];

const cross = (start: Point, end: Point, p: Point) => (end[0] - start[0]) * (p[1] - start[1]) - (end[1] - start[1]) * (p[0] - start[0]);

/** A counting line for one video. */
export class LineZone {
  /** Crossings into the line's "in" side. */
  inCount = 0;
  /** Crossings into the "out" side. */
  outCount = 0;
  private readonly limits: [[Point, Point], [Point, Point]];
  private readonly historyLength: number;
  private readonly history = new Map<number, boolean[]>();

  constructor(
    private readonly start: Point,
    private readonly end: Point,
    private readonly anchors: readonly Position[] = LINE_ZONE_DEFAULT_ANCHORS,
    minimumCrossingThreshold = 1,
  ) {
    const dx = end[0] - start[0];
    const dy = end[1] - start[1];
    const magnitude = Math.hypot(dx, dy);
    if (magnitude === 0) throw new RangeError(`the line's start and end are the same point (${start.join(', ')})`);
    const px = -dy / magnitude;
    const py = dx / magnitude;
    this.limits = [
      [start, [start[0] + px, start[1] + py]],
      [end, [end[0] - px, end[1] - py]],
    ];
    this.historyLength = Math.max(2, minimumCrossingThreshold + 1);
  }

  /** Updates the counts with one frame; returns which detections crossed in and out. Requires tracker ids. */
  trigger(detections: Detections): { crossedIn: boolean[]; crossedOut: boolean[] } {
    const n = detectionsLength(detections);
    const crossedIn = new Array<boolean>(n).fill(false);
    const crossedOut = new Array<boolean>(n).fill(false);
    if (n === 0) return { crossedIn, crossedOut };
    if (!detections.trackerId) throw new TypeError('the line counter requires tracked detections (tracker_id is missing): put a tracker such as byte_tracker before it');
    for (let i = 0; i < n; i++) {
      const points = this.anchors.map((a) => anchor(detections, i, a));
      const inLimits = points.every((p) => cross(this.limits[0][0], this.limits[0][1], p) > 0 === cross(this.limits[1][0], this.limits[1][1], p) > 0);
      if (!inLimits) continue;
      const triggers = points.map((p) => cross(this.start, this.end, p) < 0);
      const anyLeft = triggers.some(Boolean);
      const anyRight = triggers.some((t) => !t);
      if (anyLeft && anyRight) continue;
      const state = anyLeft;
      const trackerId = detections.trackerId[i]!;
      const history = this.history.get(trackerId) ?? [];
      history.push(state);
      if (history.length > this.historyLength) history.shift();
      this.history.set(trackerId, history);
      if (history.length < this.historyLength) continue;
      const oldest = history[0];
      if (history.filter((h) => h === oldest).length > 1) continue;
      if (state) {
        this.inCount += 1;
        crossedIn[i] = true;
      } else {
        this.outCount += 1;
        crossedOut[i] = true;
      }
    }
    return { crossedIn, crossedOut };
  }
}
