/**
 * `workers: 'auto'`: how the cores are split between inference workers, chosen by measurement.
 *
 * On WASM a machine's cores can run one worker with N threads (1×N: each frame finishes sooner) or N workers with
 * one thread each (N×1: frames run side by side). Which gives more frames per second depends on the model and the
 * machine (on a 2-core Xeon with the RF-DETR-Nano-shaped network, 2×1 gave 1.77 fps against 1.57 for 1×2), so
 * 'auto' measures both on the actual model with a prepared tensor, one pool at a time, keeps the faster, and
 * remembers the choice in IndexedDB per model file and core count, so later runs skip the probe.
 *
 * No probe runs when there is nothing to choose: WebGPU (one worker; the GPU serialises the work anyway), one
 * core, or a page that isn't cross-origin isolated (WASM is single-threaded there, so N×1 is the only way to use
 * the cores).
 */
import { clear, createStore, get, set, type UseStore } from 'idb-keyval';
import type { WorkerDecodeOptions, WorkerLoadRequest, WorkerLoadResult } from './worker-protocol.ts';
import { WorkerPool } from './worker-pool.ts';

/** How the cores are split. */
export interface WorkerLayout {
  workers: number;
  threads: number;
}

/** One measured layout. */
export interface LayoutMeasurement extends WorkerLayout {
  /** Frames per second of `session.run` + decode on a prepared tensor, all workers busy. */
  fps: number;
}

/** What 'auto' decided and why (the `WORKER_LAYOUT` event's payload). */
export interface LayoutDecision {
  chosen: WorkerLayout;
  /** The probe's measurements (the cached ones when `fromCache`); empty when nothing was measured. */
  measured: LayoutMeasurement[];
  fromCache: boolean;
  /** Why this layout, in words. */
  reason: string;
}

/** Most workers or threads 'auto' uses (more rarely helps a single model and costs memory per worker). */
export const MAX_AUTO_PARALLELISM = 4;
/** Pause after releasing a pool before measuring or starting another (see startAutoPool). */
const SETTLE_MS = 3000;
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, SETTLE_MS));
/** Timed runs per probe, after the warm-up runs. */
const PROBE_RUNS = 3;

const LAYOUT_DB = 'framewise-worker-layouts';
let layoutStore: UseStore | undefined;
function store(): UseStore {
  layoutStore ??= createStore(LAYOUT_DB, 'layouts');
  return layoutStore;
}

interface StoredDecision {
  chosen: WorkerLayout;
  measured: LayoutMeasurement[];
  decidedAt: number;
}

function layoutKey(modelSha256: string, cores: number): string {
  return `v1|${modelSha256}|cores=${cores}|${navigator.userAgent}`;
}

/** The remembered choice for this model file on this machine, if any (IndexedDB problems read as "none"). */
export async function rememberedLayout(modelSha256: string, cores: number): Promise<StoredDecision | undefined> {
  try {
    return await get<StoredDecision>(layoutKey(modelSha256, cores), store());
  } catch {
    return undefined;
  }
}

async function remember(modelSha256: string, cores: number, decision: StoredDecision): Promise<void> {
  try {
    await set(layoutKey(modelSha256, cores), decision, store());
  } catch {
    // Best effort: without IndexedDB the next run probes again.
  }
}

/** Warm-up runs per worker at most: a fresh session's first runs are slow (WASM tier-up, arena growth). */
const MAX_WARMUP_RUNS = 5;
/** A worker counts as warm once two consecutive runs differ by less than this fraction. */
const WARM_TOLERANCE = 0.15;

/**
 * Throughput of `pool` with every worker busy: each worker first runs until two consecutive runs agree (a fresh
 * session's first runs can take 2–3× a steady one), then `runs` timed runs are spread over the workers (at least
 * two each).
 */
export async function measurePool(pool: WorkerPool, inputSize: number, decode: WorkerDecodeOptions, timeoutMs: number, runs = PROBE_RUNS): Promise<number> {
  const tensor = new Float32Array(3 * inputSize * inputSize).fill(0.5);
  const once = async (index: number) => {
    const t = performance.now();
    await pool.workers[index]!.inferTensor(tensor, inputSize, inputSize, decode, timeoutMs);
    return performance.now() - t;
  };
  await Promise.all(
    pool.workers.map(async (_, i) => {
      let previous = await once(i);
      for (let k = 1; k < MAX_WARMUP_RUNS; k++) {
        const ms = await once(i);
        if (Math.abs(ms - previous) < WARM_TOLERANCE * ms) break;
        previous = ms;
      }
    }),
  );
  const perWorker = Math.max(2, Math.ceil(runs / pool.workers.length));
  const started = performance.now();
  await Promise.all(
    pool.workers.map(async (_, i) => {
      for (let r = 0; r < perWorker; r++) await once(i);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return (perWorker * pool.workers.length) / seconds;
}

/** Forgets every remembered `workers: 'auto'` choice, so the next run with 'auto' measures again. */
export async function clearWorkerLayouts(): Promise<void> {
  try {
    await clear(store());
  } catch {
    // no IndexedDB: nothing is remembered
  }
}

export interface AutoLayoutInput {
  request: Omit<WorkerLoadRequest, 'numThreads'>;
  modelSha256: string;
  decode: WorkerDecodeOptions;
  modelLoadTimeoutMs: number;
  inferenceTimeoutMs: number;
  /** Threads the user fixed per worker, if any: then only the worker count is chosen. */
  threads?: number;
}

/**
 * Starts the worker pool for `workers: 'auto'`: loads one worker with all (≤ 4) cores' threads, and, on WASM with
 * a choice to make, measures it against N single-threaded workers (or reuses the remembered choice), keeping
 * the faster pool. The other pool is disposed. On failure every worker started here is stopped.
 */
export async function startAutoPool(input: AutoLayoutInput): Promise<{ pool: WorkerPool; load: WorkerLoadResult; decision: LayoutDecision }> {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const n = Math.min(cores, MAX_AUTO_PARALLELISM);
  const create = (layout: WorkerLayout) => WorkerPool.create(layout.workers, { ...input.request, numThreads: layout.threads }, input.modelLoadTimeoutMs);

  if (input.threads !== undefined) {
    const layout = { workers: Math.max(1, Math.min(MAX_AUTO_PARALLELISM, Math.floor(cores / input.threads))), threads: input.threads };
    const started = await create(layout);
    return { ...started, decision: { chosen: layout, measured: [], fromCache: false, reason: `threads fixed at ${input.threads}: ${cores} core(s) ÷ ${input.threads}` } };
  }
  const wide: WorkerLayout = { workers: 1, threads: isolated ? n : 1 };
  const split: WorkerLayout = { workers: n, threads: 1 };
  if (input.request.backend === 'webgpu') {
    const started = await create({ workers: 1, threads: 1 });
    return { ...started, decision: { chosen: { workers: 1, threads: 1 }, measured: [], fromCache: false, reason: 'WebGPU runs one worker: the GPU serialises the work' } };
  }
  // A remembered choice counts only while it is one of today's two layouts (same cores, same isolation).
  const remembered = isolated && n > 1 ? await rememberedLayout(input.modelSha256, cores) : undefined;
  const layout = remembered && [wide, split].find((l) => l.workers === remembered.chosen.workers && l.threads === remembered.chosen.threads);
  const recalled =
    remembered && layout
      ? { layout, why: { measured: remembered.measured, fromCache: true, reason: `remembered for this model and machine (measured ${describe(remembered.measured)})` } }
      : undefined;
  if (recalled && input.request.backend === 'wasm') {
    return { ...(await create(recalled.layout)), decision: { chosen: recalled.layout, ...recalled.why } };
  }
  const first = await create(wide);
  if (first.load.backend === 'webgpu') {
    return { ...first, decision: { chosen: wide, measured: [], fromCache: false, reason: 'WebGPU runs one worker: the GPU serialises the work' } };
  }
  if (n === 1) return { ...first, decision: { chosen: wide, measured: [], fromCache: false, reason: 'one core' } };
  const startSplit = async (why: Omit<LayoutDecision, 'chosen'>) => {
    await first.pool.close('worker layout: another layout was chosen');
    return { ...(await create(split)), decision: { chosen: split, ...why } };
  };
  if (!isolated) {
    return startSplit({ measured: [], fromCache: false, reason: `the page is not cross-origin isolated, so WASM is single-threaded: ${n} workers × 1 thread use the cores` });
  }

  if (recalled) {
    if (recalled.layout === wide) return { ...first, decision: { chosen: wide, ...recalled.why } };
    return startSplit(recalled.why);
  }

  // One pool at a time, with a pause between: onnxruntime-web's threads go on competing for the cores for a while
  // after their worker is released (measured: single-threaded workers started right after the wide pool closed ran
  // at about half speed, 2.1 s a run instead of 1.05 s; after a pause of a few seconds, at full speed). So the wide
  // pool is measured and released, the split one is measured after a pause, and the wide one is started again if
  // it wins.
  const inputSize = first.load.inputSize;
  let wideFps: number;
  try {
    wideFps = await measurePool(first.pool, inputSize, input.decode, input.inferenceTimeoutMs);
  } finally {
    await first.pool.close('worker layout: measuring the other layout');
  }
  await settle();
  const second = await create(split);
  let splitFps: number;
  try {
    splitFps = await measurePool(second.pool, inputSize, input.decode, input.inferenceTimeoutMs);
  } catch (error) {
    await second.pool.close('worker layout probe failed');
    throw error;
  }
  const measured: LayoutMeasurement[] = [
    { ...wide, fps: wideFps },
    { ...split, fps: splitFps },
  ];
  const splitWins = splitFps > wideFps;
  const chosen = splitWins ? split : wide;
  await remember(input.modelSha256, cores, { chosen, measured, decidedAt: Date.now() });
  const decision = { chosen, measured, fromCache: false, reason: `measured ${describe(measured)}` };
  if (splitWins) return { ...second, decision };
  await second.pool.close('worker layout: another layout was chosen');
  await settle();
  return { ...(await create(wide)), decision };
}

function describe(measured: LayoutMeasurement[]): string {
  return measured.map((m) => `${m.workers}×${m.threads}: ${m.fps.toFixed(2)} fps`).join(', ');
}
