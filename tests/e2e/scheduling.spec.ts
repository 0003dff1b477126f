import { expect, test } from '@playwright/test';
import { FRAME_COUNT } from '../fixtures/ground-truth.ts';
import { COLOUR_BOX, GENERATED, expectMatchesGroundTruth, openHarness, runInPage } from './helpers.ts';
import type { Harness } from './pages/harness.ts';

const ALL_FRAME_IDS = Array.from({ length: FRAME_COUNT }, (_, i) => i + 1);

test.describe('buffer strategies on a live source whose timing the test controls', () => {
  // Frame 1 blocks the consumer; frames 2..6 arrive one by one; then the consumer is released.
  const cases = [
    { filling: 'DROP_OLDEST', consumption: 'LAZY', processed: [1, 5, 6], dropped: [[2, 'buffer_full_drop_oldest'], [3, 'buffer_full_drop_oldest'], [4, 'buffer_full_drop_oldest']] },
    { filling: 'DROP_LATEST', consumption: 'LAZY', processed: [1, 2, 3], dropped: [[4, 'buffer_full_drop_latest'], [5, 'buffer_full_drop_latest'], [6, 'buffer_full_drop_latest']] },
    { filling: 'DROP_OLDEST', consumption: 'EAGER', processed: [1, 6], dropped: [[2, 'buffer_full_drop_oldest'], [3, 'buffer_full_drop_oldest'], [4, 'buffer_full_drop_oldest'], [5, 'eager_consumption']] },
  ] as const;
  for (const c of cases) {
    test(`${c.filling} + ${c.consumption}, buffer 2`, async ({ page }) => {
      await openHarness(page);
      const out = await page.evaluate(
        (r) => (window as unknown as { harness: Harness }).harness.runControlled(r),
        { bufferSize: 2, filling: c.filling, consumption: c.consumption, pushedWhileBlocked: 5, expectProcessed: c.processed.length },
      );
      expect(out.error).toBeUndefined();
      expect(out.processed).toEqual(c.processed);
      expect(out.dropped).toEqual(c.dropped);
    });
  }
});

test('maxFps on a live source drops frames that arrive sooner than 1/maxFps after the last kept one', async ({ page }) => {
  await openHarness(page);
  // Frames 2..6 arrive within well under a second of frame 1, so at maxFps 1 every one of them is dropped.
  const out = await page.evaluate(
    (r) => (window as unknown as { harness: Harness }).harness.runControlled(r),
    { bufferSize: 2, filling: 'DROP_OLDEST' as const, consumption: 'LAZY' as const, pushedWhileBlocked: 5, maxFps: 1, expectProcessed: 1 },
  );
  expect(out.error).toBeUndefined();
  expect(out.processed).toEqual([1]);
  expect(out.dropped).toEqual([2, 3, 4, 5, 6].map((id) => [id, 'max_fps']));
});

test.beforeEach(async ({ page }) => openHarness(page));

test('WAIT + LAZY on a file processes every frame', async ({ page }) => {
  const result = await runInPage(page, {
    modelId: COLOUR_BOX,
    videoReference: `${GENERATED}/sample.mp4`,
    backend: 'wasm',
    bufferSize: 1,
    bufferFillingStrategy: 'WAIT',
    bufferConsumptionStrategy: 'LAZY',
  });
  expect(result.error).toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
});

test('maxFps on a file processes every Nth frame (30 fps ÷ 10 = every 3rd) and counts the rest as dropped', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', maxFps: 10 });
  expect(result.error).toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS.filter((id) => (id - 1) % 3 === 0));
  expectMatchesGroundTruth(result);
  const drops = result.statuses.filter((s) => s.eventType === 'SOURCE_ENDED');
  expect(drops).toHaveLength(1);
});

test('batch mode: two files and one live stream give arrays in source order, nulls where due, every file frame once', async ({ page, context }) => {
  await context.grantPermissions(['camera']);
  const result = await runInPage(page, {
    modelId: COLOUR_BOX,
    videoReference: [`${GENERATED}/sample.mp4`, `${GENERATED}/sample.webm`, 0],
    videoSourceProperties: { frameWidth: 640, frameHeight: 360 },
    backend: 'wasm',
    sinkMode: 'batch',
    batchCollectionTimeout: 0.05,
    stopWhenSourcesDone: [0, 1],
  });
  expect(result.error).toBeUndefined();
  expect(result.batches.length).toBeGreaterThan(0);
  for (const batch of result.batches) expect(batch).toHaveLength(3);
  for (const sourceId of [0, 1]) {
    expect(result.batches.map((b) => b[sourceId]).filter((id) => id !== null)).toEqual(ALL_FRAME_IDS);
  }
  const live = result.batches.map((b) => b[2]).filter((id): id is number => id !== null);
  expect(live.length).toBeGreaterThan(0);
  expect(live).toEqual([...live].sort((a, b) => a - b));
  // Once a file has ended its entry is null.
  const lastOfFile0 = result.batches.findIndex((b) => b[0] === FRAME_COUNT);
  expect(result.batches.slice(lastOfFile0 + 1).every((b) => b[0] === null)).toBe(true);
});

test('adaptive mode with one source calls the sink per frame', async ({ page }) => {
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', sinkMode: 'adaptive' });
  expect(result.error).toBeUndefined();
  expect(result.batches).toEqual([]);
  expect(result.predictions).toHaveLength(FRAME_COUNT);
});

test('addSource and removeSource on a running pipeline', async ({ page }) => {
  const out = await page.evaluate(async (g) => {
    const { framewise } = (window as unknown as { harness: Harness }).harness;
    const seen: [number, number][] = [];
    let added = -1;
    const pipeline = framewise.InferencePipeline.init({
      modelId: { url: `${g}/colour-box-320.onnx` },
      videoReference: `${g}/sample.mp4`,
      backend: 'wasm',
      onPrediction: (p) => {
        seen.push([p.source_id, p.frame_id]);
        if (p.source_id === 0 && p.frame_id === 5) added = pipeline.addSource(`${g}/sample.webm`);
        if (p.source_id === 1 && p.frame_id === 3) pipeline.removeSource(0);
      },
    });
    pipeline.start();
    await pipeline.join();
    return { seen, added, report: pipeline.watchdog.getReport() };
  }, GENERATED);
  expect(out.added).toBe(1);
  const source1 = out.seen.filter(([s]) => s === 1).map(([, f]) => f);
  expect(source1).toEqual(ALL_FRAME_IDS);
  const source0 = out.seen.filter(([s]) => s === 0).map(([, f]) => f);
  expect(source0.length).toBeGreaterThanOrEqual(5);
  expect(source0.length).toBeLessThan(FRAME_COUNT);
  // After removal, source 0 delivers at most the frames already dispatched.
  const removedAt = out.seen.findIndex(([s, f]) => s === 1 && f === 3);
  expect(out.seen.slice(removedAt + 1).filter(([s]) => s === 0).length).toBeLessThanOrEqual(2);
  expect(out.report.sources.map((s) => s.sourceId)).toEqual([0, 1]);
  expect(out.report.sources[1]!.framesProcessed).toBe(FRAME_COUNT);
});

test('the watchdog reports latencies, throughput, drops, states and recent events', async ({ page }) => {
  const out = await page.evaluate(async (g) => {
    const { framewise } = (window as unknown as { harness: Harness }).harness;
    const pipeline = framewise.InferencePipeline.init({ modelId: { url: `${g}/colour-box-320.onnx` }, videoReference: `${g}/sample.mp4`, backend: 'wasm', maxFps: 15 });
    pipeline.start();
    await pipeline.join();
    return pipeline.watchdog.getReport();
  }, GENERATED);
  const [source] = out.sources;
  expect(source!.framesProcessed).toBe(30);
  expect(source!.droppedFrames).toBe(30);
  expect(source!.state).toBe('ENDED');
  expect(source!.inferenceLatencyMs).toBeGreaterThan(0);
  expect(source!.e2eLatencyMs).toBeGreaterThanOrEqual(source!.inferenceLatencyMs);
  expect(out.statusUpdates.length).toBeGreaterThan(3);
  expect(out.statusUpdates.every((s) => s.severity !== 'debug')).toBe(true);
  expect(out.statusUpdates.map((s) => s.eventType)).toContain('SOURCE_STATE_UPDATE');
});
