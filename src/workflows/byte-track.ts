/**
 * ByteTrack as supervision implements it (`sv.ByteTrack`): two-stage association (high-score detections, then
 * low-score ones), a constant-velocity Kalman filter, lost tracks kept for `lost_track_buffer × fps / 30` frames,
 * and the output matched back to the input boxes (IoU ≥ 0.5), so boxes are the detector's, not the filter's.
 */
import { detectionsLength, selectDetections, type Detections } from './detections.ts';
import { kalmanInitiate, kalmanPredict, kalmanUpdate, type KalmanState } from './kalman-filter.ts';
import { linearAssignment } from './linear-assignment.ts';

/** ByteTrack's parameters (supervision's names, camelCased). */
export interface ByteTrackOptions {
  /** Detections scoring above this start tracks (a new track needs this + 0.1). Default 0.25. */
  trackActivationThreshold?: number;
  /** Frames (at 30 fps) a lost track is kept. Default 30. */
  lostTrackBuffer?: number;
  /** Matching threshold of the first association. Default 0.8. */
  minimumMatchingThreshold?: number;
  /** The video's frame rate. Default 30. */
  frameRate?: number;
  /** Consecutive frames before a track gets an id. Default 1. */
  minimumConsecutiveFrames?: number;
}

type TrackState = 'new' | 'tracked' | 'lost' | 'removed';

type Tlbr = [number, number, number, number];

const tlbrToXyah = ([x0, y0, x1, y1]: Tlbr): number[] => {
  const w = x1 - x0;
  const h = y1 - y0;
  return [x0 + w / 2, y0 + h / 2, w / h, h];
};

class STrack {
  kalman?: KalmanState;
  isActivated = false;
  state: TrackState = 'new';
  trackletLen = 0;
  internalId = -1;
  externalId = -1;
  frameId = 0;
  startFrame = 0;

  constructor(
    private readonly box: Tlbr,
    public score: number,
  ) {}

  get tlbr(): Tlbr {
    if (!this.kalman) return [...this.box] as Tlbr;
    const [x, y, a, h] = this.kalman.mean as unknown as [number, number, number, number];
    const w = a * h;
    return [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
  }

  predict(): void {
    if (!this.kalman) return;
    const mean = Float64Array.from(this.kalman.mean);
    if (this.state !== 'tracked') mean[7] = 0;
    this.kalman = kalmanPredict({ mean, covariance: this.kalman.covariance });
  }
}

function boxIou(a: Tlbr, b: Tlbr): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

const iouDistance = (a: readonly STrack[], b: readonly STrack[]) => a.map((t) => b.map((d) => 1 - boxIou(t.tlbr, d.tlbr)));
const fuseScore = (cost: number[][], detections: readonly STrack[]) => cost.map((row) => row.map((c, j) => 1 - (1 - c) * detections[j]!.score));

function jointTracks(a: readonly STrack[], b: readonly STrack[]): STrack[] {
  const seen = new Set(a.map((t) => t.internalId));
  return [...a, ...b.filter((t) => !seen.has(t.internalId) && (seen.add(t.internalId), true))];
}

function subTracks(a: readonly STrack[], b: readonly STrack[]): STrack[] {
  const ids = new Set(b.map((t) => t.internalId));
  return a.filter((t) => !ids.has(t.internalId));
}

function removeDuplicates(a: STrack[], b: STrack[]): [STrack[], STrack[]] {
  const dist = iouDistance(a, b);
  const dupA = new Set<number>();
  const dupB = new Set<number>();
  dist.forEach((row, p) =>
    row.forEach((d, q) => {
      if (d >= 0.15) return;
      const timeP = a[p]!.frameId - a[p]!.startFrame;
      const timeQ = b[q]!.frameId - b[q]!.startFrame;
      if (timeP > timeQ) dupB.add(q);
      else dupA.add(p);
    }),
  );
  return [a.filter((_, i) => !dupA.has(i)), b.filter((_, i) => !dupB.has(i))];
}

/** A ByteTrack tracker for one video. */
export class ByteTrack {
  private readonly activationThreshold: number;
  private readonly matchingThreshold: number;
  private readonly detThresh: number;
  private readonly maxTimeLost: number;
  private readonly minimumConsecutiveFrames: number;
  private frameId = 0;
  private tracked: STrack[] = [];
  private lost: STrack[] = [];
  private removed: STrack[] = [];
  private internalCounter = 0;
  private externalCounter = 0;

  constructor(options: ByteTrackOptions = {}) {
    this.activationThreshold = options.trackActivationThreshold ?? 0.25;
    this.matchingThreshold = options.minimumMatchingThreshold ?? 0.8;
    this.detThresh = this.activationThreshold + 0.1;
    this.maxTimeLost = Math.trunc(((options.frameRate ?? 30) / 30) * (options.lostTrackBuffer ?? 30));
    this.minimumConsecutiveFrames = options.minimumConsecutiveFrames ?? 1;
  }

  private activate(track: STrack): void {
    track.internalId = this.internalCounter++;
    track.kalman = kalmanInitiate(tlbrToXyah(track.tlbr));
    track.trackletLen = 0;
    track.state = 'tracked';
    if (this.frameId === 1) track.isActivated = true;
    if (this.minimumConsecutiveFrames === 1) track.externalId = ++this.externalCounter;
    track.frameId = this.frameId;
    track.startFrame = this.frameId;
  }

  private update(track: STrack, detection: STrack): void {
    track.frameId = this.frameId;
    track.trackletLen += 1;
    track.kalman = kalmanUpdate(track.kalman!, tlbrToXyah(detection.tlbr));
    track.state = 'tracked';
    if (track.trackletLen === this.minimumConsecutiveFrames) {
      track.isActivated = true;
      if (track.externalId === -1) track.externalId = ++this.externalCounter;
    }
    track.score = detection.score;
  }

  private reactivate(track: STrack, detection: STrack): void {
    track.kalman = kalmanUpdate(track.kalman!, tlbrToXyah(detection.tlbr));
    track.trackletLen = 0;
    track.state = 'tracked';
    track.frameId = this.frameId;
    track.score = detection.score;
  }

  /**
   * Applies one association's matches: a tracked track is updated with its detection (into `activated`), a lost
   * one reactivated (into `refound`).
   */
  private applyMatches(matches: readonly (readonly [number, number])[], tracks: readonly STrack[], detections: readonly STrack[], activated: STrack[], refound: STrack[]): void {
    for (const [ti, di] of matches) {
      const track = tracks[ti]!;
      if (track.state === 'tracked') {
        this.update(track, detections[di]!);
        activated.push(track);
      } else {
        this.reactivate(track, detections[di]!);
        refound.push(track);
      }
    }
  }

  private step(boxes: Tlbr[], scores: number[]): STrack[] {
    this.frameId += 1;
    const activated: STrack[] = [];
    const refound: STrack[] = [];
    const lostNow: STrack[] = [];
    const removedNow: STrack[] = [];
    const high: STrack[] = [];
    const low: STrack[] = [];
    scores.forEach((s, i) => {
      if (s > this.activationThreshold) high.push(new STrack(boxes[i]!, s));
      else if (s > 0.1) low.push(new STrack(boxes[i]!, s));
    });
    const unconfirmed = this.tracked.filter((t) => !t.isActivated);
    const confirmed = this.tracked.filter((t) => t.isActivated);
    // First association: confirmed and lost tracks with high-score detections.
    const pool = jointTracks(confirmed, this.lost);
    for (const t of pool) t.predict();
    const first = linearAssignment(fuseScore(iouDistance(pool, high), high), pool.length, high.length, this.matchingThreshold);
    this.applyMatches(first.matches, pool, high, activated, refound);
    // Second association: the tracks left with low-score detections.
    const remaining = first.unmatchedRows.map((i) => pool[i]!).filter((t) => t.state === 'tracked');
    const second = linearAssignment(iouDistance(remaining, low), remaining.length, low.length, 0.5);
    this.applyMatches(second.matches, remaining, low, activated, refound);
    for (const ti of second.unmatchedRows) {
      const track = remaining[ti]!;
      if (track.state !== 'lost') {
        track.state = 'lost';
        lostNow.push(track);
      }
    }
    // Unconfirmed tracks (one frame old) with the high-score detections left.
    const leftover = first.unmatchedCols.map((i) => high[i]!);
    const third = linearAssignment(fuseScore(iouDistance(unconfirmed, leftover), leftover), unconfirmed.length, leftover.length, 0.7);
    for (const [ti, di] of third.matches) {
      this.update(unconfirmed[ti]!, leftover[di]!);
      activated.push(unconfirmed[ti]!);
    }
    for (const ti of third.unmatchedRows) {
      unconfirmed[ti]!.state = 'removed';
      removedNow.push(unconfirmed[ti]!);
    }
    // New tracks.
    for (const di of third.unmatchedCols) {
      const track = leftover[di]!;
      if (track.score < this.detThresh) continue;
      this.activate(track);
      activated.push(track);
    }
    for (const track of this.lost) {
      if (this.frameId - track.frameId > this.maxTimeLost) {
        track.state = 'removed';
        removedNow.push(track);
      }
    }
    this.tracked = this.tracked.filter((t) => t.state === 'tracked');
    this.tracked = jointTracks(this.tracked, activated);
    this.tracked = jointTracks(this.tracked, refound);
    this.lost = subTracks(this.lost, this.tracked);
    this.lost.push(...lostNow);
    this.lost = subTracks(this.lost, this.removed);
    this.removed = removedNow;
    [this.tracked, this.lost] = removeDuplicates(this.tracked, this.lost);
    return this.tracked.filter((t) => t.isActivated);
  }

  /** Tracks one frame's detections: returns those matched to a confirmed track, with `trackerId` set. */
  updateWithDetections(detections: Detections): Detections {
    const n = detectionsLength(detections);
    const boxes: Tlbr[] = Array.from({ length: n }, (_, i) => [detections.xyxy[i * 4]!, detections.xyxy[i * 4 + 1]!, detections.xyxy[i * 4 + 2]!, detections.xyxy[i * 4 + 3]!]);
    const tracks = this.step(boxes, Array.from(detections.confidence));
    if (tracks.length === 0) {
      const empty = selectDetections(detections, []);
      return { ...empty, trackerId: new Int32Array(0) };
    }
    const cost = boxes.map((b) => tracks.map((t) => 1 - boxIou(b, t.tlbr)));
    const { matches } = linearAssignment(cost, n, tracks.length, 0.5);
    const ids = new Int32Array(n).fill(-1);
    for (const [di, ti] of matches) ids[di] = tracks[ti]!.externalId;
    const keep = [...ids.keys()].filter((i) => ids[i] !== -1);
    const out = selectDetections(detections, keep);
    return { ...out, trackerId: Int32Array.from(keep, (i) => ids[i]!) };
  }
}
