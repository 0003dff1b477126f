import { describe, expect, it } from 'vitest';
import { ByteTrack } from '../../src/workflows/byte-track.ts';
import { LineZone } from '../../src/workflows/line-zone.ts';
import { ByteTrackerV3 } from '../../src/workflows/blocks/byte-tracker.ts';
import { TimeInZoneV3 } from '../../src/workflows/blocks/time-in-zone.ts';
import { LineCounterV2 } from '../../src/workflows/blocks/line-counter.ts';
import type { BlockRuntime } from '../../src/workflows/blocks/block.ts';
import type { Detections } from '../../src/workflows/detections.ts';
import { CAR, DOG, FRAME_COUNT, PERSON, isVisible, rectBox, type RectSpec } from '../fixtures/ground-truth.ts';
import { dets, image, meta } from './workflows-helpers.ts';

const runtime: BlockRuntime = { detect: () => Promise.reject(new Error('none')), newId: () => 'id' };

function truthDetections(frame: number, score = 0.9, skip: (spec: RectSpec) => boolean = () => false): Detections {
  const rows = [PERSON, CAR, DOG]
    .filter((s) => isVisible(s, frame) && !skip(s))
    .map((s) => {
      const b = rectBox(s, frame);
      return [b.x0, b.y0, b.x1, b.y1, score, s.class_id];
    });
  return dets(rows);
}

function idsByClass(history: Detections[]): Map<number, Set<number>> {
  const out = new Map<number, Set<number>>();
  for (const d of history) d.classId.forEach((c, i) => (out.get(c) ?? out.set(c, new Set()).get(c)!).add(d.trackerId![i]!));
  return out;
}

describe('ByteTrack (supervision semantics)', () => {
  it('keeps one id per rectangle over the fixture video; new tracks are confirmed on their second frame', () => {
    const tracker = new ByteTrack({ frameRate: 30 });
    const history: Detections[] = [];
    const dogFrames: number[] = [];
    for (let f = 1; f <= FRAME_COUNT; f++) {
      const out = tracker.updateWithDetections(truthDetections(f));
      history.push(out);
      if (out.classId.includes(DOG.class_id)) dogFrames.push(f);
      // Output boxes are the input boxes (matched back), not the filter's.
      out.classId.forEach((c, i) => {
        const spec = [PERSON, CAR, DOG].find((s) => s.class_id === c)!;
        expect(out.xyxy[i * 4]).toBe(rectBox(spec, f).x0);
      });
    }
    const ids = idsByClass(history);
    expect([...ids.get(1)!]).toEqual([1]);
    expect([...ids.get(3)!]).toEqual([2]);
    expect([...ids.get(18)!]).toEqual([3]);
    expect(dogFrames).toEqual(Array.from({ length: 40 - 1 }, (_, i) => 12 + i));
  });

  it('re-finds a lost track within the lost buffer and keeps its id; low-score boxes keep a track alive', () => {
    const tracker = new ByteTrack({ frameRate: 30 });
    const history: Detections[] = [];
    for (let f = 1; f <= 40; f++) {
      // The person is missing on frames 10..14 and scores 0.2 (second association only) on frames 20..25.
      const d = truthDetections(f, 0.9, (s) => s === PERSON && f >= 10 && f <= 14);
      if (f >= 20 && f <= 25) d.confidence[0] = 0.2;
      history.push(tracker.updateWithDetections(d));
    }
    expect([...idsByClass(history).get(1)!]).toEqual([1]);
    expect(history[12]!.classId.includes(1)).toBe(false);
    expect(history[22]!.classId.includes(1)).toBe(true);
  });

  it('drops a track lost for longer than lost_track_buffer × fps / 30 frames', () => {
    const tracker = new ByteTrack({ frameRate: 30, lostTrackBuffer: 5 });
    const box = (x: number) => dets([[x, 10, x + 50, 60, 0.9, 1]]);
    tracker.updateWithDetections(box(10));
    tracker.updateWithDetections(box(12));
    for (let i = 0; i < 7; i++) tracker.updateWithDetections(dets([]));
    tracker.updateWithDetections(box(14)); // unconfirmed new track
    const out = tracker.updateWithDetections(box(16));
    expect(Array.from(out.trackerId!)).toEqual([2]);
  });

  it('the byte_tracker@v3 block keeps one tracker and instance cache per video', async () => {
    const block = ByteTrackerV3.create('tracker');
    const inputs = (f: number, video: string) => ({
      image: image(meta(f, { video_identifier: video })),
      detections: truthDetections(f),
      track_activation_threshold: 0.25,
      lost_track_buffer: 30,
      minimum_matching_threshold: 0.8,
      minimum_consecutive_frames: 1,
      instances_cache_size: 16384,
    });
    const a1 = (await block.run(inputs(1, 'a'), { step: 'tracker', video: meta(1, { video_identifier: 'a' }), runtime })) as Record<string, Detections>;
    const b1 = (await block.run(inputs(1, 'b'), { step: 'tracker', video: meta(1, { video_identifier: 'b' }), runtime })) as Record<string, Detections>;
    const a2 = (await block.run(inputs(2, 'a'), { step: 'tracker', video: meta(2, { video_identifier: 'a' }), runtime })) as Record<string, Detections>;
    expect(Array.from(a1.tracked_detections!.trackerId!)).toEqual([1, 2]);
    expect(Array.from(b1.tracked_detections!.trackerId!)).toEqual([1, 2]); // its own ids, not 3 and 4
    expect(a1.new_instances!.confidence.length).toBe(2);
    expect(a2.new_instances!.confidence.length).toBe(0);
    expect(Array.from(a2.already_seen_instances!.trackerId!)).toEqual([1, 2]);
  });
});

describe('LineZone (supervision semantics)', () => {
  const vertical = () => new LineZone([200, 0], [200, 360], ['CENTER']);
  const at = (cx: number, id = 7, cy = 100) => dets([[cx - 10, cy - 10, cx + 10, cy + 10, 0.9, 0, id]], true);

  it('counts every confirmed change of side: → is in, ← is out', () => {
    const zone = vertical();
    const path = [150, 190, 210, 230, 190, 170, 250];
    const events = path.map((x) => zone.trigger(at(x)));
    expect([zone.inCount, zone.outCount]).toEqual([2, 1]);
    expect(events.map((e) => (e.crossedIn[0] ? 'in' : e.crossedOut[0] ? 'out' : '-'))).toEqual(['-', '-', 'in', '-', 'out', '-', 'in']);
  });

  it('with the default four corners, a box straddling the line does not change side', () => {
    const zone = new LineZone([200, 0], [200, 360]);
    for (const x of [150, 195, 205, 195, 205]) zone.trigger(at(x)); // the 20-px box straddles x = 200 at 195 and 205
    expect([zone.inCount, zone.outCount]).toEqual([0, 0]);
    zone.trigger(at(230));
    expect([zone.inCount, zone.outCount]).toEqual([1, 0]);
  });

  it('ignores anchors beyond the perpendiculars through the line ends', () => {
    const zone = new LineZone([200, 0], [200, 100], ['CENTER']);
    for (const x of [150, 250, 150]) zone.trigger(at(x, 1, 150)); // below the line's end (y = 100)
    expect([zone.inCount, zone.outCount]).toEqual([0, 0]);
    for (const x of [150, 250, 150]) zone.trigger(at(x, 2, 50));
    expect([zone.inCount, zone.outCount]).toEqual([1, 1]);
  });

  it('keeps the side history per tracker id', () => {
    const zone = vertical();
    zone.trigger(dets([[140, 0, 160, 20, 0.9, 0, 1], [240, 0, 260, 20, 0.9, 0, 2]], true));
    zone.trigger(dets([[240, 0, 260, 20, 0.9, 0, 1], [140, 0, 160, 20, 0.9, 0, 2]], true));
    expect([zone.inCount, zone.outCount]).toEqual([1, 1]);
  });

  it('the line_counter@v2 block says when tracker ids are missing', async () => {
    const block = LineCounterV2.create('counter');
    const run = () => block.run({ detections: dets([[0, 0, 10, 10, 0.9, 0]]), line_segment: [[200, 0], [200, 360]] }, { step: 'counter', video: meta(1), runtime });
    await expect(Promise.resolve().then(run)).rejects.toThrow(/tracker_id is missing/);
  });
});

describe('time_in_zone@v3', () => {
  const zone = [
    [200, 0],
    [640, 0],
    [640, 360],
    [200, 360],
  ];
  const inputs = (d: Detections, video: ReturnType<typeof meta>, extra: Record<string, unknown> = {}) => ({
    image: image(video),
    detections: d,
    zone,
    triggering_anchor: 'CENTER',
    remove_out_of_zone_detections: true,
    reset_out_of_zone_detections: true,
    ...extra,
  });
  const box = (cx: number, id = 1) => dets([[cx - 10, 90, cx + 10, 110, 0.9, 0, id]], true);

  it('on a file: frame_number / fps differences since entering; out-of-zone detections removed', async () => {
    const block = TimeInZoneV3.create('t');
    const times: (number | null)[] = [];
    const xs = [100, 150, 210, 260, 300, 350];
    for (const [k, x] of xs.entries()) {
      const video = meta(k + 1);
      const out = (await block.run(inputs(box(x), video), { step: 't', video, runtime })).timed_detections as Detections;
      times.push(out.confidence.length ? Number(out.data.time_in_zone![0]) : null);
    }
    expect(times.slice(0, 2)).toEqual([null, null]);
    [0, 1 / 30, 2 / 30, 3 / 30].forEach((t, i) => expect(times[i + 2]).toBeCloseTo(t, 12));
  });

  it('on a live source: frame timestamps; leaving resets; state per video', async () => {
    const block = TimeInZoneV3.create('t');
    const live = (frame: number, ts: number, video = 'cam') => meta(frame, { comes_from_video_file: false, frame_timestamp: ts, video_identifier: video });
    const run = async (x: number, v: ReturnType<typeof meta>, extra = {}) => (await block.run(inputs(box(x), v, extra), { step: 't', video: v, runtime })).timed_detections as Detections;
    expect(Number((await run(300, live(1, 1000))).data.time_in_zone![0])).toBe(0);
    expect(Number((await run(300, live(2, 1002.5))).data.time_in_zone![0])).toBe(2.5);
    expect(Number((await run(300, live(1, 5000, 'other'))).data.time_in_zone![0])).toBe(0); // separate video
    const kept = await run(100, live(3, 1003), { remove_out_of_zone_detections: false });
    expect(Number(kept.data.time_in_zone![0])).toBe(0); // outside: kept with 0
    expect(Number((await run(300, live(4, 1004))).data.time_in_zone![0])).toBe(0); // re-entered: the clock restarted
  });
});
