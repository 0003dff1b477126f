import { expect, test } from '@playwright/test';
import { FPS, FRAME_COUNT, HEIGHT, WIDTH, groundTruth } from '../fixtures/ground-truth.ts';
import { defaultColorFor } from '../../src/sinks/render-boxes-sink.ts';
import type { Probes } from './pages/sinks-harness.ts';
import { callHarness, isSinkError, openSinksHarness } from './sinks-helpers.ts';

const SAMPLE = '/tests/fixtures/generated/sample.mp4';
/** Wide strokes so that 4:2:0 chroma blocks at the ground-truth edges lie entirely inside the outline. */
const LINE = 8;
/** Largest per-channel difference accepted between a decoded pixel and the colour drawn there (codec drift). */
const TOLERANCE = 60;
/** Rectangle fill colours, by class: what is under the outline where no annotation was drawn. */
const FILL: Record<string, readonly [number, number, number]> = { person: [230, 30, 30], car: [30, 200, 30], dog: [30, 30, 230] };

function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

interface Expectation {
  what: string;
  /** The colour the pixel must be near, or 'grey' for the background (R ≈ G ≈ B). */
  colour: readonly [number, number, number] | 'grey';
}

/**
 * Whether (x, y) may be covered by the label renderBoxes draws for `box`: above the box when there is room,
 * else inside its top. The text width is unknown here, so the band is taken generously (400 px), with 4 px of
 * margin for the predicted box being off the ground truth.
 */
function inLabel(box: { x0: number; y0: number }, x: number, y: number): boolean {
  const fontSize = Math.max(12, Math.round(LINE * 6));
  const top = box.y0 - fontSize - LINE >= 0 ? box.y0 - fontSize - LINE : box.y0;
  return y >= top - 4 && y < top + fontSize + LINE + 4 && x >= box.x0 - LINE / 2 - 4 && x < box.x0 + 400;
}

/**
 * Probes on every frame: for each ground-truth box, pixels on its left, right and bottom edges (where the
 * outline must be, in the class colour), and one pixel 12 px left of it (grey background: no outline there).
 * Rows are 12 px above the bottom edge, below any label drawn inside the box.
 */
function groundTruthProbes(offsetX = 0): { probes: Probes; expected: Expectation[][] } {
  const points: [number, number][][] = [];
  const expected: Expectation[][] = [];
  for (let f = 1; f <= FRAME_COUNT; f++) {
    const p: [number, number][] = [];
    const e: Expectation[] = [];
    const boxes = groundTruth(f).boxes;
    for (const b of boxes) {
      const stroke = rgbOf(defaultColorFor(b.class_id));
      const y = b.y1 - 12;
      const xm = b.x0 + 2 * Math.floor(b.width / 4);
      const add = (x: number, yy: number, what: string, colour: Expectation['colour']): void => {
        if (boxes.some((other) => other !== b && inLabel(other, x, yy))) return; // another box's label covers it
        p.push([x + offsetX, yy]);
        e.push({ what: `frame ${f} ${b.class} ${what} (${x + offsetX}, ${yy})`, colour });
      };
      add(b.x0 - 1, y, 'left edge', stroke);
      add(b.x0, y, 'left edge', stroke);
      add(b.x1 - 1, y, 'right edge', stroke);
      add(b.x1, y, 'right edge', stroke);
      add(xm, b.y1 - 1, 'bottom edge', stroke);
      add(xm, b.y1, 'bottom edge', stroke);
      add(b.x0 - 12, y, 'background left of the box', 'grey');
    }
    points.push(p);
    expected.push(e);
  }
  return { probes: { fps: FPS, points }, expected };
}

function checkSamples(samples: { index: number; rgb: [number, number, number][] }[], expected: Expectation[][]): void {
  expect(samples.map((s) => s.index)).toEqual(Array.from({ length: FRAME_COUNT }, (_, i) => i));
  for (const s of samples) {
    const e = expected[s.index]!;
    expect(s.rgb.length).toBe(e.length);
    s.rgb.forEach((rgb, i) => {
      const want = e[i]!;
      if (want.colour === 'grey') {
        expect(Math.max(...rgb) - Math.min(...rgb), `${want.what}: got rgb(${rgb.join(', ')})`).toBeLessThanOrEqual(24);
      } else {
        expect(distance(rgb, want.colour), `${want.what}: got rgb(${rgb.join(', ')}), want rgb(${want.colour.join(', ')})`).toBeLessThanOrEqual(TOLERANCE);
      }
    });
  }
}

test.beforeEach(async ({ page }) => openSinksHarness(page));

test('a file source processed slower than real time records 60 frames, 2 s, 640×360, with boxes at the ground truth (WebCodecs, MP4)', async ({ page }) => {
  const { probes, expected } = groundTruthProbes();
  // Sanity of the probes themselves: the outline colour is far from the fill under it, so unannotated frames fail.
  for (const { colour } of expected.flat()) {
    if (colour !== 'grey') expect(Math.min(...Object.values(FILL).map((f) => distance(f, colour)))).toBeGreaterThan(TOLERANCE);
  }

  const result = await callHarness(page, 'record', {
    videoReference: SAMPLE,
    useModel: true,
    throttleMs: 60, // 60 frames × ≥ 60 ms: well below the 30 fps of the file
    sink: { render: { lineWidth: LINE } },
    probes: { '0': probes },
  });
  console.log(`processed 60 frames in ${(result.elapsedMs / 1000).toFixed(2)} s; recordings: ${JSON.stringify(result.recordings)}`);
  expect(result.error).toBeUndefined();
  expect(result.statuses.filter(isSinkError)).toEqual([]);
  expect(result.sinkFrames).toEqual({ '0': FRAME_COUNT });
  expect(result.leakedFrames).toBe(0);

  expect(result.recordings).toHaveLength(1);
  const rec = result.recordings[0]!;
  expect(rec.error).toBeUndefined();
  expect(rec).toMatchObject({ key: 0, method: 'webcodecs', extension: 'mp4', frames: FRAME_COUNT, width: WIDTH, height: HEIGHT });
  expect(rec.mimeType).toMatch(/^video\/mp4/);
  expect(rec.durationSeconds).toBeCloseTo(FRAME_COUNT / FPS, 4);

  const video = result.decoded['0']!;
  console.log(`decoded: ${video.frames} frames, ${video.packets} packets, ${video.duration} s (metadata ${video.metadataDuration} s), ${video.width}×${video.height}, ${video.codec}, ${rec.size} bytes`);
  expect(video.packets).toBe(FRAME_COUNT);
  expect(video.frames).toBe(FRAME_COUNT);
  expect(Math.abs(video.duration - FRAME_COUNT / FPS)).toBeLessThan(1 / FPS);
  expect(video.width).toBe(WIDTH);
  expect(video.height).toBe(HEIGHT);
  // Source timestamps, not wall-clock ones: frame i at i / 30 s.
  video.timestamps.forEach((t, i) => expect(Math.abs(t - i / FPS), `timestamp of frame ${i}`).toBeLessThan(0.5 / FPS));
  checkSamples(video.samples, expected);
});

test('a WebM (VP9) recording of a file source processed with a custom logic keeps the frame count and duration', async ({ page }) => {
  const box = { x: 320, y: 180, width: 200, height: 100 };
  const stroke = rgbOf(defaultColorFor(1));
  const points: [number, number][][] = Array.from({ length: FRAME_COUNT }, () => [[box.x - box.width / 2, box.y]]);
  const result = await callHarness(page, 'record', {
    videoReference: SAMPLE,
    useModel: false,
    fakeBox: box,
    throttleMs: 0, // as fast as it goes: faster than real time here
    sink: { container: 'webm', codec: 'vp9', bitrate: 2_000_000, render: { lineWidth: LINE } },
    probes: { '0': { fps: FPS, points } },
  });
  console.log(`processed in ${(result.elapsedMs / 1000).toFixed(2)} s; recordings: ${JSON.stringify(result.recordings)}`);
  expect(result.error).toBeUndefined();
  const rec = result.recordings[0]!;
  expect(rec).toMatchObject({ key: 0, method: 'webcodecs', extension: 'webm', frames: FRAME_COUNT, width: WIDTH, height: HEIGHT });
  expect(rec.codec).toMatch(/^vp09/);
  const video = result.decoded['0']!;
  console.log(`decoded: ${video.frames} frames, ${video.packets} packets, ${video.duration} s from packets, ${video.metadataDuration} s in metadata, ${video.codec}`);
  expect(video.codec).toMatch(/^vp09/);
  expect(video.frames).toBe(FRAME_COUNT);
  // WebM SimpleBlocks carry no duration, so the packets end at the last frame's start (1.967 s); the segment's
  // Duration element, written from the source timestamps, states the full 2 s.
  expect(Math.abs(video.duration - FRAME_COUNT / FPS)).toBeLessThanOrEqual(1 / FPS + 1e-3);
  expect(Math.abs(video.metadataDuration! - FRAME_COUNT / FPS)).toBeLessThan(1 / FPS);
  expect(rec.durationSeconds).toBeCloseTo(FRAME_COUNT / FPS, 4);
  expect(video.samples).toHaveLength(FRAME_COUNT);
  for (const s of video.samples) expect(distance(s.rgb[0]!, stroke), `frame ${s.index}: rgb(${s.rgb[0]!.join(', ')})`).toBeLessThanOrEqual(TOLERANCE);
  expect(result.leakedFrames).toBe(0);
});

test('a recording scaled to 320 px wide goes to a FileSystemWritableFileStream (OPFS) and keeps 60 frames and 2 s', async ({ page }) => {
  const result = await callHarness(page, 'record', {
    videoReference: SAMPLE,
    useModel: false,
    fakeBox: { x: 320, y: 180, width: 200, height: 100 },
    throttleMs: 0,
    sink: { width: 320, codec: 'avc', bitrate: 500_000 },
    opfsTarget: true,
  });
  console.log(`OPFS: ${JSON.stringify(result.recordings)}`);
  expect(result.error).toBeUndefined();
  expect(result.recordings).toHaveLength(1);
  const rec = result.recordings[0]!;
  expect(rec.error).toBeUndefined();
  expect(rec).toMatchObject({ key: 0, method: 'webcodecs', extension: 'mp4', frames: FRAME_COUNT, width: 320, height: 180, size: 0 });
  expect(rec.codec).toMatch(/^avc1\./);
  const video = result.decoded['0']!;
  console.log(`OPFS decoded: ${video.frames} frames, ${video.duration} s, ${video.width}×${video.height}, ${video.codec}`);
  expect(video.frames).toBe(FRAME_COUNT);
  expect(Math.abs(video.duration - FRAME_COUNT / FPS)).toBeLessThan(1 / FPS);
  expect([video.width, video.height]).toEqual([320, 180]);
});

test('two file sources without tiling give one recording per source, keyed by source id', async ({ page }) => {
  const result = await callHarness(page, 'record', {
    videoReference: [SAMPLE, '/tests/fixtures/generated/sample.webm'],
    useModel: false,
    throttleMs: 0,
    sink: {},
  });
  console.log(`per source: ${JSON.stringify(result.recordings)}`);
  expect(result.error).toBeUndefined();
  expect(result.sinkFrames).toEqual({ '0': FRAME_COUNT, '1': FRAME_COUNT });
  expect(result.recordings.map((r) => r.key).sort()).toEqual([0, 1]);
  for (const key of ['0', '1']) {
    const video = result.decoded[key]!;
    expect(video.frames, `source ${key}`).toBe(FRAME_COUNT);
    expect(Math.abs(video.duration - FRAME_COUNT / FPS), `source ${key}`).toBeLessThan(1 / FPS);
    expect([video.width, video.height]).toEqual([WIDTH, HEIGHT]);
  }
  expect(result.leakedFrames).toBe(0);
});

test('two file sources, tiled into one 1280×360 recording, keep 60 frames with each source in its tile', async ({ page }) => {
  const left = groundTruthProbes(0);
  const right = groundTruthProbes(WIDTH);
  const probes: Probes = { fps: FPS, points: left.probes.points.map((p, i) => [...p, ...right.probes.points[i]!]) };
  const expected = left.expected.map((e, i) => [...e, ...right.expected[i]!]);
  const result = await callHarness(page, 'record', {
    videoReference: [SAMPLE, SAMPLE],
    useModel: true,
    throttleMs: 0,
    sink: { tiled: { sources: 2 }, render: { lineWidth: LINE } },
    probes: { tiled: probes },
  });
  console.log(`tiled: ${JSON.stringify(result.recordings)}`);
  expect(result.error).toBeUndefined();
  expect(result.sinkFrames).toEqual({ '0': FRAME_COUNT, '1': FRAME_COUNT });
  expect(result.recordings).toHaveLength(1);
  expect(result.recordings[0]).toMatchObject({ key: 'tiled', method: 'webcodecs', frames: FRAME_COUNT, width: 2 * WIDTH, height: HEIGHT });
  const video = result.decoded.tiled!;
  expect(video.frames).toBe(FRAME_COUNT);
  expect(Math.abs(video.duration - FRAME_COUNT / FPS)).toBeLessThan(1 / FPS);
  expect([video.width, video.height]).toEqual([2 * WIDTH, HEIGHT]);
  // Source 1's tile may lag source 0's by a frame (the clock is source 0): check only source 0's tile exactly,
  // and that source 1's tile carries outlines on the last frame, when both sources have finished.
  checkSamples(
    video.samples.map((s) => ({ index: s.index, rgb: s.rgb.slice(0, left.expected[s.index]!.length) })),
    left.expected,
  );
  const last = video.samples.find((s) => s.index === FRAME_COUNT - 1)!;
  const lastRight = last.rgb.slice(left.expected[FRAME_COUNT - 1]!.length);
  const lastExpected = expected[FRAME_COUNT - 1]!.slice(left.expected[FRAME_COUNT - 1]!.length);
  const matches = lastRight.filter((rgb, i) => {
    const want = lastExpected[i]!.colour;
    return want === 'grey' ? Math.max(...rgb) - Math.min(...rgb) <= 24 : distance(rgb, want) <= TOLERANCE;
  }).length;
  expect(matches, `source 1 tile on the last frame: ${JSON.stringify(lastRight)}`).toBeGreaterThan(0);
});

test('a live source (fake webcam) is recorded with MediaRecorder for about 2 s: the file decodes and has frames', async ({ page, context }) => {
  await context.grantPermissions(['camera']);
  const box = { x: 320, y: 180, width: 200, height: 100 };
  const stroke = rgbOf(defaultColorFor(1));
  const result = await callHarness(page, 'record', {
    videoReference: 0,
    useModel: false,
    fakeBox: box,
    throttleMs: 0,
    stopAfterMs: 2000,
    sink: { render: { lineWidth: LINE } },
    probes: { '0': { fps: FPS, points: [[[box.x - box.width / 2, box.y]]], sameForAll: true } },
  });
  console.log(`live: ${JSON.stringify(result.recordings)}; sink frames ${JSON.stringify(result.sinkFrames)}`);
  expect(result.error).toBeUndefined();
  expect(result.leakedFrames).toBe(0);
  expect(result.recordings).toHaveLength(1);
  const rec = result.recordings[0]!;
  expect(rec.error).toBeUndefined();
  expect(rec.method).toBe('mediarecorder');
  expect(rec.mimeType).toMatch(/^video\/(webm|mp4)/);
  expect(rec.frames).toBe(result.sinkFrames['0']);
  expect(rec.frames).toBeGreaterThan(10);
  expect(rec.size).toBeGreaterThan(0);
  const video = result.decoded['0']!;
  console.log(`live decoded: ${video.frames} frames, ${video.packets} packets, ${video.duration.toFixed(3)} s, ${video.width}×${video.height}, ${video.codec}`);
  expect(video.frames).toBeGreaterThan(0);
  expect(video.frames).toBeLessThanOrEqual(rec.frames);
  expect([video.width, video.height]).toEqual([WIDTH, HEIGHT]);
  // The annotation is in the recording: the outline's left edge, on every decoded frame.
  expect(video.samples).toHaveLength(video.frames);
  for (const s of video.samples) expect(distance(s.rgb[0]!, stroke), `live frame ${s.index}: rgb(${s.rgb[0]!.join(', ')})`).toBeLessThanOrEqual(TOLERANCE);
});
