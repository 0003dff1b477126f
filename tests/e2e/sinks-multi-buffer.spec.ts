import { expect, test } from '@playwright/test';
import { FRAME_COUNT, HEIGHT, WIDTH } from '../fixtures/ground-truth.ts';
import { callHarness, isSinkError, openSinksHarness } from './sinks-helpers.ts';

const ALL_FRAME_IDS = Array.from({ length: FRAME_COUNT }, (_, i) => i + 1);

test.beforeEach(async ({ page }) => openSinksHarness(page));

test('multiSink: a throwing and a rejecting sink do not stop the others; each failure is a SINK_ERROR naming the sink', async ({ page }) => {
  const throwOn = [3, 10, 11, 40];
  const rejectOn = [10, 25];
  const result = await callHarness(page, 'multi', { throwOn, rejectOn, bufferSize: 5, keepFrames: false });
  expect(result.error).toBeUndefined();
  for (const name of ['first', 'thrower', 'rejecter', 'last']) expect(result.seenBy[name], name).toEqual(ALL_FRAME_IDS);
  expect(result.buffer.received).toBe(FRAME_COUNT);
  const errors = result.statuses.filter(isSinkError);
  const failedFrames = [...new Set([...throwOn, ...rejectOn])].sort((a, b) => a - b);
  expect(errors).toHaveLength(failedFrames.length);
  errors.forEach((e, i) => {
    const id = failedFrames[i]!;
    const expected = [throwOn.includes(id) ? `sink #1 (thrower): thrower fails on frame ${id}` : null, rejectOn.includes(id) ? `sink #2 (rejecter): rejecter fails on frame ${id}` : null].filter(Boolean);
    expect(e.message).toContain(`${expected.length} of 5 sinks failed on frame ${id} of source 0`);
    for (const part of expected) expect(e.message).toContain(part!);
  });
  expect(result.leakedFrames).toBe(0);
  // Called directly: the aggregated error names the failing sink and is thrown after the others ran.
  expect(result.direct).toEqual({
    name: 'MultiSinkError',
    message: '1 of 3 sinks failed on frame 7 of source 0: sink #1 (always-throws): nope',
    failures: [{ index: 1, name: 'always-throws' }],
    othersSaw: 2,
  });
});

test('bufferSink keeps the last N results in order, with their frames when asked, and closes them', async ({ page }) => {
  const size = 7;
  const result = await callHarness(page, 'multi', { throwOn: [], rejectOn: [], bufferSize: size, keepFrames: true });
  expect(result.error).toBeUndefined();
  expect(result.statuses.filter(isSinkError)).toEqual([]);
  expect(result.buffer).toMatchObject({
    frameIds: ALL_FRAME_IDS.slice(-size),
    length: size,
    received: FRAME_COUNT,
    evicted: FRAME_COUNT - size,
    latestFrameId: FRAME_COUNT,
    openImages: size,
    openImagesAfterClose: 0,
    consumedFrameId: FRAME_COUNT - size + 1,
  });
  expect(result.buffer.imageSizes).toEqual(Array.from({ length: size }, () => [WIDTH, HEIGHT]));
  // The pipeline's own frames were all closed: the buffer kept clones, not the originals.
  expect(result.leakedFrames).toBe(0);
});
