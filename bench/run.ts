/**
 * `npm run bench`: framewise against a raw onnxruntime-web loop (the ceiling) and transformers.js (the peer) on the
 * same ONNX file, backend (WASM) and threads, in headless Debian Chromium; then a live 30 fps run for latency,
 * drops, queue depth, open VideoFrames and heap.
 *
 * Options (all optional):
 *   --runs N              measured runs per contender (default 3); the table gives the median and min–max
 *   --frames N            frames timed per throughput run (default 15; 0 = the whole 60-frame file)
 *   --memory-minutes M    length of the live/memory run (default 0.5; the full check is 5)
 *   --threads N           WASM threads for the one-worker runs (default: the number of cores)
 *   --port N              Vite port (default 5201)
 *   --skip a,b            skip sections: ceiling, framewise, peer, cores, light, auto, live, live-adaptive
 *   --verbose             print the page's console (framewise status events)
 *
 * Writes bench/results/<timestamp>.json and bench/results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import type { Bench, CeilingResult, FramewiseResult, LiveMark, LiveSample, PeerResult, StageSample } from './pages/bench.ts';
import type { BufferFillingStrategy } from '../src/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GENERATED = 'tests/fixtures/generated';
const MODEL = `${GENERATED}/rfdetr-nano-shaped.onnx`;
const HUB_MODEL = `${GENERATED}/rfdetr-nano-shaped-hub.onnx`;
const VIDEO = `${GENERATED}/sample.mp4`;
const TENSOR = `${GENERATED}/parity-input-384.bin`;
const INPUT_SIZE = 384;
const RESULTS = join(ROOT, 'bench/results');
const HUB_ROOT = join(RESULTS, 'hub');
const HUB_NAME = 'rfdetr-nano-shaped';
/**
 * The light model: the colour-box detector (a few ops, exact boxes) at 320 px, where inference is cheap and the
 * frame path (decode, preprocessing, post-processing, messaging) is most of a frame's cost.
 */
const LIGHT = {
  model: `${GENERATED}/colour-box-320.onnx`,
  hubModel: `${GENERATED}/colour-box-320-hub.onnx`,
  hubName: 'colour-box-320',
  inputSize: 320,
  tensor: 'bench/results/zeros-320.bin',
} as const;
const PEER_LIBRARY = '/node_modules/@huggingface/transformers/dist/transformers.min.js';
const PEER_WASM = '/node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/';
/**
 * Untimed first runs of the ceiling and the peer. framewise's span starts at its first prediction, so its timed
 * frames are the session's runs 2…N+1: one warm-up run gives the others the same runs.
 */
const WARMUP_RUNS = 1;
/** For the steady-state figures, the first timed frames/runs left out of every contender (the session warms up). */
const STEADY_SKIP = 3;

// ---------------------------------------------------------------------------------------------------------------
// Options

interface Options {
  runs: number;
  frames: number;
  memoryMinutes: number;
  threads: number;
  port: number;
  skip: Set<string>;
  verbose: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { runs: 3, frames: 15, memoryMinutes: 0.5, threads: os.cpus().length, port: 5201, skip: new Set(), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [key, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    const number = (min: number) => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < min) throw new Error(`${key} must be a number ≥ ${min}`);
      return n;
    };
    switch (key) {
      case '--runs':
        options.runs = Math.round(number(1));
        break;
      case '--frames':
        options.frames = Math.round(number(0));
        break;
      case '--memory-minutes':
        options.memoryMinutes = number(0.05);
        break;
      case '--threads':
        options.threads = Math.round(number(1));
        break;
      case '--port':
        options.port = Math.round(number(1));
        break;
      case '--skip':
        value()
          .split(',')
          .forEach((s) => options.skip.add(s.trim()));
        break;
      case '--verbose':
        options.verbose = true;
        break;
      case '--help':
        console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg} (see --help)`);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics

const sorted = (values: number[]) => [...values].filter(Number.isFinite).sort((a, b) => a - b);
function quantile(values: number[], q: number): number {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
const median = (values: number[]) => quantile(values, 0.5);
const mean = (values: number[]) => (values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length);

interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}
function spread(values: number[]): Spread {
  const s = sorted(values);
  return { median: median(s), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, values };
}
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const fmtSpread = (s: Spread, digits = 2) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

// ---------------------------------------------------------------------------------------------------------------
// Machine

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const flags = /^flags\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  return {
    cores: os.cpus().length,
    cpuModel: model,
    simd: ['avx2', 'avx512f', 'fma'].filter((f) => flags.includes(f)),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

function loadAverage(): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/** The heaviest other processes right now (pid, %cpu, command), to explain a high load average. */
function busiestProcesses(): string[] {
  try {
    return execFileSync('ps', ['-eo', 'pid,pcpu,comm', '--sort=-pcpu', '--no-headers'], { encoding: 'utf8' })
      .split('\n')
      .slice(0, 5)
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures and the hub-layout folder for transformers.js

function ensureFixtures(): void {
  const missing = [MODEL, HUB_MODEL, VIDEO, TENSOR, `${GENERATED}/sample.y4m`].filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length === 0) return;
  console.log(`fixtures missing (${missing.join(', ')}): running npm run fixtures`);
  execFileSync('npm', ['run', 'fixtures'], { cwd: ROOT, stdio: 'inherit' });
}

/** A hub-layout folder (config, preprocessor config, onnx/model.onnx) that transformers.js loads locally. */
function prepareHubFolder(name = HUB_NAME, model = HUB_MODEL, inputSize = INPUT_SIZE): void {
  const folder = join(HUB_ROOT, name);
  mkdirSync(join(folder, 'onnx'), { recursive: true });
  const target = join(folder, 'onnx/model.onnx');
  rmSync(target, { force: true });
  try {
    linkSync(join(ROOT, model), target);
  } catch {
    copyFileSync(join(ROOT, model), target);
  }
  const classes = 91;
  const id2label = Object.fromEntries(Array.from({ length: classes }, (_, i) => [String(i), `LABEL_${i}`]));
  writeFileSync(
    join(folder, 'config.json'),
    JSON.stringify({ model_type: 'rf_detr', architectures: ['RFDetrForObjectDetection'], id2label, label2id: Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)])), num_labels: classes }, null, 2),
  );
  writeFileSync(
    join(folder, 'preprocessor_config.json'),
    JSON.stringify(
      {
        image_processor_type: 'RTDetrImageProcessor',
        do_resize: true,
        size: { height: inputSize, width: inputSize },
        resample: 2,
        do_rescale: true,
        rescale_factor: 1 / 255,
        do_normalize: true,
        image_mean: [0.485, 0.456, 0.406],
        image_std: [0.229, 0.224, 0.225],
        do_pad: false,
      },
      null,
      2,
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Browser plumbing

interface Session {
  server: ViteDevServer;
  browser: Browser;
  context: BrowserContext;
  base: string;
  consoleWarnings: string[];
  verbose: boolean;
}

async function openBench(session: Session): Promise<Page> {
  const page = await session.context.newPage();
  page.on('pageerror', (error) => console.log(`  [page error] ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (/garbage collected without being closed|VideoFrame/i.test(text)) session.consoleWarnings.push(text);
    if (message.type() === 'error' && !text.includes('404')) console.log(`  [console] ${text.slice(0, 300)}`);
    else if (session.verbose) console.log(`  [page ${message.type()}] ${text.slice(0, 300)}`);
  });
  await page.goto(`${session.base}/bench/pages/bench.html`);
  await page.waitForFunction(() => document.title === 'bench ready', undefined, { timeout: 120_000 });
  return page;
}

type BenchFn = keyof Bench;
async function call<K extends BenchFn>(page: Page, name: K, arg?: Parameters<Bench[K]>[0]): Promise<Awaited<ReturnType<Bench[K]>>> {
  return page.evaluate(
    ([n, a]) => {
      const bench = (window as unknown as { bench: Record<string, (x: unknown) => unknown> }).bench;
      return bench[n as string]!(a);
    },
    [name, arg] as const,
  ) as Promise<Awaited<ReturnType<Bench[K]>>>;
}

/** Runs `fn` in a fresh page (same context, so framewise's IndexedDB model cache is shared) and closes it. */
/**
 * Runs `fn` in a fresh page, then closes it and pauses: onnxruntime-web's WASM threads go on using the cores for
 * a few seconds after their workers end (see src/inference/worker-layout.ts), which would slow the next contender.
 */
async function inPage<T>(session: Session, fn: (page: Page) => Promise<T>): Promise<T> {
  const page = await openBench(session);
  try {
    return await fn(page);
  } finally {
    await page.close();
    await sleep(SETTLE_MS);
  }
}

const SETTLE_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// Sections

interface StageSummary {
  frames: number;
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
  /** Round trip seen from the page minus the worker's three stages: transfer, messaging, scheduling. */
  messagingMs: number;
  roundTripMs: number;
  /** Worker idle between frames: result on the page → next frame sent (same worker). */
  idleGapMs: number;
  /** Means of the same (they add up to the mean frame interval with one worker; medians need not). */
  meanMs: { preprocess: number; inference: number; decode: number; messaging: number; idleGap: number };
}

/** Stage medians over several runs (the first frame of each run, which warms the session up, left out). */
function summariseStages(runs: StageSample[][], skipFirst = 1): StageSummary {
  const s = runs.flatMap((run) => run.slice(skipFirst));
  // Per run and worker: from one result arriving on the page to the next frame being sent to the same worker.
  const gaps: number[] = [];
  for (const run of runs) {
    const byWorker = new Map<number, StageSample[]>();
    for (const x of run.slice(skipFirst)) byWorker.set(x.worker, [...(byWorker.get(x.worker) ?? []), x]);
    for (const list of byWorker.values()) {
      list.sort((a, b) => a.at - b.at);
      for (let i = 1; i < list.length; i++) gaps.push(list[i]!.at - list[i]!.roundTripMs - list[i - 1]!.at);
    }
  }
  return {
    meanMs: {
      preprocess: mean(s.map((x) => x.preprocessMs)),
      inference: mean(s.map((x) => x.inferenceMs)),
      decode: mean(s.map((x) => x.decodeMs)),
      messaging: mean(s.map((x) => x.roundTripMs - x.preprocessMs - x.inferenceMs - x.decodeMs)),
      idleGap: mean(gaps),
    },
    idleGapMs: median(gaps),
    frames: s.length,
    preprocessMs: median(s.map((x) => x.preprocessMs)),
    inferenceMs: median(s.map((x) => x.inferenceMs)),
    decodeMs: median(s.map((x) => x.decodeMs)),
    messagingMs: median(s.map((x) => x.roundTripMs - x.preprocessMs - x.inferenceMs - x.decodeMs)),
    roundTripMs: median(s.map((x) => x.roundTripMs)),
  };
}

interface ThroughputRuns<R> {
  label: string;
  workers: number;
  threads: number;
  runs: R[];
  fps: Spread;
}

async function runCeiling(session: Session, workers: number, threads: number, frames: number, light = false): Promise<CeilingResult> {
  const model = light ? { modelUrl: `/${LIGHT.model}`, tensorUrl: `/${LIGHT.tensor}`, inputSize: LIGHT.inputSize } : { modelUrl: `/${MODEL}`, tensorUrl: `/${TENSOR}`, inputSize: INPUT_SIZE };
  return inPage(session, (page) => call(page, 'ceiling', { ...model, threads, workers, runs: Math.max(1, Math.ceil(frames / workers)), warmup: WARMUP_RUNS }));
}

async function runFramewise(session: Session, workers: number | 'auto', threads: number | undefined, frames: number, light = false): Promise<FramewiseResult> {
  return inPage(session, async (page) => {
    const result = await call(page, 'framewise', { modelUrl: `/${light ? LIGHT.model : MODEL}`, videoUrl: `/${VIDEO}`, threads, workers, maxFrames: frames === 0 ? 0 : frames + 1 });
    if (result.error) throw new Error(`framewise run failed: ${result.error}`);
    return result;
  });
}

async function runPeer(session: Session, threads: number, frames: number, light = false): Promise<PeerResult> {
  return inPage(session, (page) =>
    call(page, 'peer', {
      libraryUrl: PEER_LIBRARY,
      wasmPaths: PEER_WASM,
      localModelPath: '/bench/results/hub/',
      modelName: light ? LIGHT.hubName : HUB_NAME,
      videoUrl: `/${VIDEO}`,
      threads,
      warmup: WARMUP_RUNS,
      maxFrames: frames,
      threshold: 0.4,
    }),
  );
}

interface LiveReport {
  seconds: number;
  source: string;
  backend: string;
  threading: string;
  /** The camera's pace read alone for 5 s before the run. */
  cameraAloneFps: number;
  /** Camera pace while the reader keeps its last `hold` frames open (as CPU copies when `copy`). */
  cameraHoldProbes: { hold: number; copy: boolean; fps: number }[];
  /** The camera track's own counters over the window (MediaStreamTrack.stats). */
  camera: { producedFps: number; delivered: number; discarded: number } | null;
  latencyMs: { p50: number; p95: number; max: number; firstThirdP50: number; lastThirdP50: number };
  processed: number;
  captured: number;
  dropped: number;
  processedFps: number;
  capturedFps: number;
  buffered: { max: number | null; mean: number | null; samples: number };
  queueGrows: boolean;
  stages: StageSummary;
  /** p50 latency ÷ the worker's median inference time in the same run. */
  latencyOverInference: number;
  memory: {
    start: LiveMark & { cdpHeapUsed: number; uaMemoryBytes: number | null };
    end: LiveMark & { cdpHeapUsed: number; uaMemoryBytes: number | null };
    heapChange: number;
    uaMemoryChange: number | null;
    sinkFramesLeftOpen: number;
    openFramesAfterStop: number;
    gcWithoutCloseWarnings: number;
  };
  error?: string;
}

async function runLive(session: Session, workers: number, threads: number, minutes: number, bufferFillingStrategy?: BufferFillingStrategy): Promise<LiveReport> {
  const page = await openBench(session);
  const cdp = await session.context.newCDPSession(page);
  let warningsBefore = session.consoleWarnings.length;
  const holdProbes: { hold: number; copy: boolean; fps: number }[] = [];
  try {
    const probe = await call(page, 'cameraProbe', { seconds: 5 });
    console.log(`  live: the fake camera alone delivers ${fmt(probe.fps, 1)} fps (${probe.settings.width}×${probe.settings.height})`);
    {
      // Does the capture pipeline stall while page code holds its frames? (Why framewise copies the frame in flight.)
      for (const [hold, copy] of [[1, false], [2, false], [3, true]] as const) {
        const p = await call(page, 'cameraProbe', { seconds: 4, hold, copy });
        holdProbes.push({ hold, copy, fps: p.fps });
        console.log(`  live: reading the camera while holding the last ${hold} frame(s)${copy ? ' as CPU copies' : ''} open: ${fmt(p.fps, 1)} fps`);
      }
      // A frame still queued inside the stalled probe's track processor is collected unclosed: that is the probe's,
      // not framewise's, so the count starts here.
      warningsBefore = session.consoleWarnings.length;
    }
    const started = await call(page, 'liveStart', { modelUrl: `/${MODEL}`, threads, workers, bufferFillingStrategy });
    console.log(`  live: ${started.source}; ${started.threading}; first prediction after ${fmt(started.firstPredictionMs / 1000, 1)} s`);
    await sleep(5000); // settle: the first runs of a session are slower
    const t0 = Date.now();
    const step = (what: string) => session.verbose && console.log(`  live +${fmt((Date.now() - t0) / 1000, 1)} s: ${what}`);
    const snapshot = async () => {
      step('garbage collection');
      await cdp.send('HeapProfiler.collectGarbage');
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
      step('measureUserAgentSpecificMemory');
      // measureUserAgentSpecificMemory (page + workers) waits for a GC, up to ~20 s or more: only on long runs.
      const uaMemoryBytes = minutes >= 2 ? await call(page, 'measureMemory', 90_000) : null;
      step('mark');
      return { ...(await call(page, 'liveMark')), cdpHeapUsed: heap.usedSize, uaMemoryBytes };
    };
    const start = await snapshot();
    const seconds = minutes * 60;
    const deadline = Date.now() + seconds * 1000;
    let lastLog = Date.now();
    while (Date.now() < deadline) {
      await sleep(Math.min(5000, deadline - Date.now()));
      if (Date.now() - lastLog >= 30_000) {
        const mark = await call(page, 'liveMark');
        console.log(`  live: ${fmt((seconds * 1000 - (deadline - Date.now())) / 1000, 0)} s, ${mark.predictions} predictions, ${mark.openFrames} open frames, buffered ${mark.buffered}`);
        lastLog = Date.now();
      }
    }
    const end = await snapshot();
    step('stopping');
    const stopped = await call(page, 'liveStop');
    step('stopped');
    const inWindow = stopped.samples.filter((s: LiveSample) => s.at >= start.at && s.at <= end.at);
    const third = Math.max(1, Math.floor(inWindow.length / 3));
    const latencies = inWindow.map((s) => s.latencyMs);
    const buffered = inWindow.map((s) => s.buffered).filter((b): b is number => b !== null);
    const windowMs = end.at - start.at;
    const processed = end.predictions - start.predictions;
    const captured = end.captured - start.captured;
    const firstDropped = inWindow[0]?.droppedFrames ?? 0;
    const lastDropped = inWindow[inWindow.length - 1]?.droppedFrames ?? 0;
    const stages = summariseStages([stopped.stages.filter((s) => s.at >= start.at && s.at <= end.at)], 0);
    const firstThirdP50 = median(latencies.slice(0, third));
    const lastThirdP50 = median(latencies.slice(-third));
    const maxBuffered = buffered.length ? Math.max(...buffered) : null;
    return {
      seconds: windowMs / 1000,
      source: started.source,
      backend: started.backend,
      threading: started.threading,
      cameraAloneFps: probe.fps,
      cameraHoldProbes: holdProbes,
      camera:
        start.camera && end.camera
          ? {
              producedFps: ((end.camera.totalFrames - start.camera.totalFrames) * 1000) / windowMs,
              delivered: end.camera.deliveredFrames - start.camera.deliveredFrames,
              discarded: end.camera.discardedFrames - start.camera.discardedFrames,
            }
          : null,
      latencyMs: { p50: median(latencies), p95: quantile(latencies, 0.95), max: Math.max(...latencies), firstThirdP50, lastThirdP50 },
      processed,
      captured,
      dropped: lastDropped - firstDropped,
      processedFps: (processed * 1000) / windowMs,
      capturedFps: (captured * 1000) / windowMs,
      buffered: { max: maxBuffered, mean: buffered.length ? mean(buffered) : null, samples: buffered.length },
      // The queue grows if frames pile up (buffer beyond its bound of one fresh frame) or latency drifts upwards.
      queueGrows: (maxBuffered !== null && maxBuffered > 1) || lastThirdP50 > firstThirdP50 * 1.25 + 50,
      stages,
      latencyOverInference: median(latencies) / stages.inferenceMs,
      memory: {
        start,
        end,
        heapChange: end.cdpHeapUsed / start.cdpHeapUsed - 1,
        uaMemoryChange: start.uaMemoryBytes && end.uaMemoryBytes ? end.uaMemoryBytes / start.uaMemoryBytes - 1 : null,
        sinkFramesLeftOpen: stopped.sinkFramesLeftOpen,
        openFramesAfterStop: stopped.openFramesAfterStop,
        gcWithoutCloseWarnings: session.consoleWarnings.length - warningsBefore,
      },
      error: stopped.error,
    };
  } finally {
    await cdp.detach().catch(() => undefined);
    await page.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  process.chdir(ROOT); // Chromium reads the fake-camera Y4M relative to the working directory
  ensureFixtures();
  prepareHubFolder();
  prepareHubFolder(LIGHT.hubName, LIGHT.hubModel, LIGHT.inputSize);
  writeFileSync(join(ROOT, LIGHT.tensor), Buffer.alloc(3 * LIGHT.inputSize ** 2 * 4));
  mkdirSync(RESULTS, { recursive: true });

  const loadBefore = loadAverage();
  const busyBefore = busiestProcesses();
  const started = new Date();
  console.log(`framewise bench: load average ${loadBefore.join(' ')}; ${options.runs} runs × ${options.frames || 'all'} frames; live ${options.memoryMinutes} min`);
  if (loadBefore[0]! > 1.5) console.log(`  warning: the 1-minute load average is ${loadBefore[0]} (> 1.5): other processes compete for the cores; numbers will be low and noisy`);

  const server = await createServer({
    configFile: join(ROOT, 'vite.config.ts'),
    root: ROOT,
    logLevel: 'warn',
    // The repo's config scans only the demo for dependencies; without these entries Vite discovers the bench page's
    // and the workers' dependencies on first use and reloads the page in the middle of a run.
    optimizeDeps: { entries: ['bench/pages/bench.html', 'bench/pages/raw-worker.ts', 'src/inference/inference-worker.ts', 'demo/index.html'] },
    // No HMR and no watcher: other people edit src/ while the bench runs, and a reload would kill a run midway.
    server: { port: options.port, strictPort: true, host: '127.0.0.1', open: false, hmr: false, watch: null },
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext();
  await context.grantPermissions(['camera']);
  const session: Session = { server, browser, context, base: `http://127.0.0.1:${options.port}`, consoleWarnings: [], verbose: options.verbose };

  const threads = options.threads;
  const cores = os.cpus().length;
  const frames = options.frames;
  const ceilingRuns: CeilingResult[] = [];
  const ceilingSplit: CeilingResult[] = [];
  const framewiseRuns: FramewiseResult[] = [];
  const framewiseSplit: FramewiseResult[] = [];
  const peerRuns: PeerResult[] = [];
  const loads: { section: string; run: number; load: number[] }[] = [];
  let environment: Awaited<ReturnType<Bench['environment']>> | undefined;
  let live: LiveReport | undefined;
  let liveAdaptive: LiveReport | undefined;
  const light: { ceiling: CeilingResult; framewise: FramewiseResult; peer: PeerResult }[] = [];
  let auto: FramewiseResult | undefined;

  try {
    environment = await inPage(session, (page) => call(page, 'environment'));
    console.log(`  ${browser.version()}; cross-origin isolated: ${environment.crossOriginIsolated}; hardwareConcurrency ${environment.hardwareConcurrency}`);
    // Warm-up (not reported): Vite transforms, framewise's IndexedDB model cache, the WASM compile cache.
    if (!options.skip.has('framewise')) await runFramewise(session, 1, threads, 2);

    for (let run = 1; run <= options.runs; run++) {
      // Interleaved, so drift in machine load hits every contender alike.
      if (!options.skip.has('ceiling')) {
        const r = await runCeiling(session, 1, threads, frames || 60);
        ceilingRuns.push(r);
        loads.push({ section: 'ceiling', run, load: loadAverage() });
        console.log(`  run ${run} ceiling   1×${threads}: ${fmt(r.fps, 3)} fps (session.run median ${fmt(median(r.runMs), 0)} ms)`);
      }
      if (!options.skip.has('framewise')) {
        const r = await runFramewise(session, 1, threads, frames);
        framewiseRuns.push(r);
        loads.push({ section: 'framewise', run, load: loadAverage() });
        const st = summariseStages([r.stages]);
        console.log(
          `  run ${run} framewise 1×${threads}: ${fmt(r.fps, 3)} fps over ${r.frames} frames (pre ${fmt(st.preprocessMs, 1)} / inf ${fmt(st.inferenceMs, 0)} / dec ${fmt(st.decodeMs, 1)} / msg ${fmt(st.messagingMs, 1)} / idle ${fmt(st.idleGapMs, 1)} ms)`,
        );
      }
      if (!options.skip.has('peer')) {
        const r = await runPeer(session, threads, frames || 60);
        peerRuns.push(r);
        loads.push({ section: 'peer', run, load: loadAverage() });
        console.log(`  run ${run} transformers.js ${r.version} ×${threads}: ${fmt(r.fps, 3)} fps (call median ${fmt(median(r.callMs), 0)} ms)`);
      }
      if (!options.skip.has('cores') && cores > 1) {
        const c = await runCeiling(session, cores, 1, frames || 60);
        ceilingSplit.push(c);
        console.log(`  run ${run} ceiling   ${cores}×1: ${fmt(c.fps, 3)} fps (session.run median ${fmt(median(c.runMs), 0)} ms)`);
        const f = await runFramewise(session, cores, 1, frames);
        framewiseSplit.push(f);
        loads.push({ section: 'cores', run, load: loadAverage() });
        console.log(`  run ${run} framewise ${cores}×1: ${fmt(f.fps, 3)} fps over ${f.frames} frames`);
      }
    }

    if (!options.skip.has('live')) {
      console.log(`  live run: fake webcam at 30 fps, ${options.memoryMinutes} min, 1 worker × ${threads} threads`);
      live = await runLive(session, 1, threads, options.memoryMinutes);
      loads.push({ section: 'live', run: 1, load: loadAverage() });
    }
    if (!options.skip.has('light')) {
      // The light model, every frame of the file: where the frame path, not inference, is the cost.
      await runFramewise(session, 1, threads, 2, true); // warm-up
      for (let run = 1; run <= options.runs; run++) {
        const c = await runCeiling(session, 1, threads, 60, true);
        const f = await runFramewise(session, 1, threads, 0, true);
        const p = await runPeer(session, threads, 0, true);
        light.push({ ceiling: c, framewise: f, peer: p });
        loads.push({ section: 'light', run, load: loadAverage() });
        console.log(`  run ${run} light model (colour-box 320): ceiling ${fmt(c.fps, 1)} fps, framewise ${fmt(f.fps, 1)} fps, transformers.js ${fmt(p.fps, 1)} fps`);
      }
    }
    if (!options.skip.has('auto') && !options.skip.has('framewise')) {
      // workers 'auto': the first run in this browser profile probes (1×N vs N×1) and remembers; this run reuses it.
      await runFramewise(session, 'auto', undefined, 2);
      auto = await runFramewise(session, 'auto', undefined, frames);
      loads.push({ section: 'auto', run: 1, load: loadAverage() });
      console.log(`  framewise workers 'auto': ${auto.threading}; ${fmt(auto.fps, 3)} fps over ${auto.frames} frames; probe ${JSON.stringify(auto.layout?.measured ?? [])}`);
    }
    if (!options.skip.has('live-adaptive') && !options.skip.has('live')) {
      const minutes = Math.min(options.memoryMinutes, 1);
      console.log(`  live run with the reference's ADAPTIVE_DROP_OLDEST instead of the default DROP_OLDEST: ${minutes} min`);
      liveAdaptive = await runLive(session, 1, threads, minutes, 'ADAPTIVE_DROP_OLDEST');
      loads.push({ section: 'live-adaptive', run: 1, load: loadAverage() });
    }
  } finally {
    await context.close().catch(() => undefined);
    await browser.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  }

  const loadAfter = loadAverage();
  const busyAfter = busiestProcesses();

  // -------------------------------------------------------------------------------------------------------------
  // Summary

  const ceilingFps = spread(ceilingRuns.map((r) => r.fps));
  const framewiseFps = spread(framewiseRuns.map((r) => r.fps));
  const peerFps = spread(peerRuns.map((r) => r.fps));
  const ceilingSplitFps = spread(ceilingSplit.map((r) => r.fps));
  const framewiseSplitFps = spread(framewiseSplit.map((r) => r.fps));
  // Ratios per run (runs are interleaved, so run i of each contender ran under the same load), then the spread.
  const pairRatios = (a: number[], b: number[]) => a.slice(0, Math.min(a.length, b.length)).map((x, i) => x / b[i]!);
  const vsCeiling = spread(pairRatios(framewiseRuns.map((r) => r.fps), ceilingRuns.map((r) => r.fps)));
  const vsPeer = spread(pairRatios(framewiseRuns.map((r) => r.fps), peerRuns.map((r) => r.fps)));
  // Steady state: the first STEADY_SKIP timed frames of every contender left out (session warm-up).
  const steadyFps = (ms: number[]) => 1000 / mean(ms.slice(STEADY_SKIP));
  const ceilingSteady = spread(ceilingRuns.map((r) => steadyFps(r.runMs)));
  const framewiseSteady = spread(framewiseRuns.map((r) => steadyFps(r.intervalsMs)));
  const peerSteady = spread(peerRuns.map((r) => steadyFps(r.callMs)));
  const vsCeilingSteady = spread(pairRatios(framewiseSteady.values, ceilingSteady.values));
  const vsPeerSteady = spread(pairRatios(framewiseSteady.values, peerSteady.values));
  // Within each framewise run (immune to load drift between runs): the share of the frame interval that is not
  // the worker's session.run, i.e. framewise's own overhead, on steady frames.
  const ownOverhead = spread(
    framewiseRuns.map((r) => {
      const intervals = r.intervalsMs.slice(STEADY_SKIP);
      const inference = r.stages.slice(1 + STEADY_SKIP).map((x) => x.inferenceMs);
      return 1 - mean(inference) / mean(intervals);
    }),
  );
  // Warm-up: framewise's first timed frames against the steady interval.
  const warmupFrames = framewiseRuns.map((r) => r.intervalsMs.slice(0, STEADY_SKIP));
  const ceilingRunMs = median(ceilingRuns.flatMap((r) => r.runMs));
  const stages = summariseStages(framewiseRuns.map((r) => r.stages));
  const framewiseInterval = median(framewiseRuns.flatMap((r) => r.intervalsMs));
  const peerCallMs = median(peerRuns.flatMap((r) => r.callMs));

  const targets = {
    framewiseVsCeiling: { target: '≥ 0.97', value: vsCeiling.median, met: vsCeiling.median >= 0.97 },
    framewiseVsPeer: { target: '≥ 1.5', value: vsPeer.median, met: vsPeer.median >= 1.5 },
    liveLatency: live
      ? { target: 'p50 ≤ 1.2 × one inference', value: live.latencyMs.p50 / ceilingRunMs, valueVsInRunInference: live.latencyOverInference, met: live.latencyMs.p50 <= 1.2 * ceilingRunMs && !live.queueGrows }
      : undefined,
    memoryFlat: live
      ? {
          target: 'open frames do not grow, heap within 10%',
          openFrames: [live.memory.start.openFrames, live.memory.end.openFrames],
          heapChange: live.memory.heapChange,
          met: live.memory.end.openFrames <= Math.max(live.memory.start.openFrames, 3) && Math.abs(live.memory.heapChange) <= 0.1 && live.memory.sinkFramesLeftOpen === 0,
        }
      : undefined,
    wasmAcrossCores: {
      oneWorkerNThreads: { ceiling: ceilingFps.median, framewise: framewiseFps.median },
      nWorkersOneThread: { ceiling: ceilingSplitFps.median, framewise: framewiseSplitFps.median },
      faster: Number.isFinite(framewiseSplitFps.median) ? (framewiseSplitFps.median > framewiseFps.median ? `${cores} workers × 1 thread` : `1 worker × ${threads} threads`) : 'not measured',
    },
  };

  const report = {
    date: started.toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 1000),
    machine: machine(),
    browser: browser.version(),
    environment,
    load: { before: loadBefore, after: loadAfter, perSection: loads, busiestBefore: busyBefore, busiestAfter: busyAfter },
    settings: { backend: 'wasm', threads, workers: 1, runs: options.runs, framesPerRun: frames || 60, memoryMinutes: options.memoryMinutes, model: MODEL, peerModel: HUB_MODEL, video: VIDEO, inputSize: INPUT_SIZE },
    throughput: {
      ceiling: { fps: ceilingFps, sessionRunMs: { median: ceilingRunMs, p95: quantile(ceilingRuns.flatMap((r) => r.runMs), 0.95) }, loadMs: median(ceilingRuns.map((r) => r.loadMs)) },
      framewise: {
        fps: framewiseFps,
        frameIntervalMs: framewiseInterval,
        stagesMs: stages,
        firstPredictionMs: median(framewiseRuns.map((r) => r.firstPredictionMs)),
        backend: framewiseRuns[0]?.backend,
        threading: framewiseRuns[0]?.threading,
        sinkFramesLeftOpen: framewiseRuns.reduce((a, r) => a + r.sinkFramesLeftOpen, 0),
      },
      peer: { fps: peerFps, callMs: peerCallMs, version: peerRuns[0]?.version, loadMs: median(peerRuns.map((r) => r.loadMs)) },
      ratios: { framewiseOverCeiling: vsCeiling, framewiseOverPeer: vsPeer },
      steady: {
        skip: STEADY_SKIP,
        ceilingFps: ceilingSteady,
        framewiseFps: framewiseSteady,
        peerFps: peerSteady,
        framewiseOverCeiling: vsCeilingSteady,
        framewiseOverPeer: vsPeerSteady,
      },
      framewiseOwnOverhead: ownOverhead,
      framewiseWarmupIntervalsMs: warmupFrames,
      ceilingWarmupRunMs: ceilingRuns.map((r) => r.warmupMs),
      acrossCores: { ceiling: { oneByN: ceilingFps, nByOne: ceilingSplitFps }, framewise: { oneByN: framewiseFps, nByOne: framewiseSplitFps } },
    },
    live,
    liveAdaptiveDropOldest: liveAdaptive,
    lightModel:
      light.length > 0
        ? {
            model: LIGHT.model,
            ceilingFps: spread(light.map((l) => l.ceiling.fps)),
            framewiseFps: spread(light.map((l) => l.framewise.fps)),
            peerFps: spread(light.map((l) => l.peer.fps)),
            framewiseOverPeer: spread(light.map((l) => l.framewise.fps / l.peer.fps)),
            framewiseOverCeiling: spread(light.map((l) => l.framewise.fps / l.ceiling.fps)),
          }
        : undefined,
    workersAuto: auto && { fps: auto.fps, frames: auto.frames, threading: auto.threading, layout: auto.layout },
    targets,
    raw: { ceilingRuns, ceilingSplit, framewiseRuns, framewiseSplit, peerRuns },
  };
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS, `${stamp}.json`), JSON.stringify(report, null, 2));
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(report, null, 2));

  // -------------------------------------------------------------------------------------------------------------
  // Table

  const m = report.machine;
  const rows: [string, string, string][] = [
    ['contender (WASM)', 'frames/s median (min–max)', 'notes'],
    [`ceiling: raw session.run loop, 1 worker × ${threads} thr`, fmtSpread(ceilingFps, 3), `session.run median ${fmt(ceilingRunMs, 0)} ms`],
    [`framewise: file, every frame, 1 worker × ${threads} thr`, fmtSpread(framewiseFps, 3), `frame interval median ${fmt(framewiseInterval, 0)} ms`],
    [`transformers.js ${peerRuns[0]?.version ?? ''}: pipe(canvas), ${threads} thr`, fmtSpread(peerFps, 3), `call median ${fmt(peerCallMs, 0)} ms`],
    [`ceiling: ${cores} workers × 1 thr`, fmtSpread(ceilingSplitFps, 3), ''],
    [`framewise: ${cores} workers × 1 thr`, fmtSpread(framewiseSplitFps, 3), ''],
    ['framewise ÷ ceiling', fmtSpread(vsCeiling, 3), `target ≥ 0.97: ${targets.framewiseVsCeiling.met ? 'met' : 'MISSED'}`],
    ['framewise ÷ transformers.js', fmtSpread(vsPeer, 2), `target ≥ 1.5: ${targets.framewiseVsPeer.met ? 'met' : 'MISSED'}`],
    [`steady state (first ${STEADY_SKIP} timed frames left out): ceiling`, fmtSpread(ceilingSteady, 3), ''],
    ['steady state: framewise', fmtSpread(framewiseSteady, 3), ''],
    ['steady state: transformers.js', fmtSpread(peerSteady, 3), ''],
    ['steady state: framewise ÷ ceiling', fmtSpread(vsCeilingSteady, 3), ''],
    ['steady state: framewise ÷ transformers.js', fmtSpread(vsPeerSteady, 2), ''],
    ['framewise overhead beyond session.run, same run', `${fmt(ownOverhead.median * 100, 1)}% (${fmt(ownOverhead.min * 100, 1)}–${fmt(ownOverhead.max * 100, 1)}%)`, 'share of the frame interval'],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: [string, string, string]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log('');
  console.log(`machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB; ${report.browser}; load ${loadBefore.join(' ')} → ${loadAfter.join(' ')}`);
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  rows.slice(1).forEach((r) => console.log(line(r)));
  console.log(
    `framewise stages (median ms): preprocess ${fmt(stages.preprocessMs, 1)}, inference ${fmt(stages.inferenceMs, 1)}, decode ${fmt(stages.decodeMs, 1)}, transfer+messaging ${fmt(stages.messagingMs, 1)}; round trip ${fmt(stages.roundTripMs, 1)}; worker idle between frames ${fmt(stages.idleGapMs, 1)}; frame interval ${fmt(framewiseInterval, 1)}`,
  );
  console.log(`framewise warm-up: first ${STEADY_SKIP} timed frame intervals ${warmupFrames.map((w) => w.map((x) => fmt(x, 0)).join('/')).join(', ')} ms against a steady ${fmt(1000 / framewiseSteady.median, 0)} ms`);
  console.log(`WASM across cores: ${targets.wasmAcrossCores.faster} is faster`);
  if (live) {
    console.log(
      `live (${fmt(live.seconds, 0)} s, ${live.source}): latency p50 ${fmt(live.latencyMs.p50, 0)} ms, p95 ${fmt(live.latencyMs.p95, 0)} ms (p50 ÷ session.run ${fmt(live.latencyMs.p50 / ceilingRunMs)}, ÷ in-run inference ${fmt(live.latencyOverInference)}); processed ${live.processed}, dropped ${live.dropped}, grabbed ${live.captured} (${fmt(live.capturedFps, 1)} fps); camera alone ${fmt(live.cameraAloneFps, 1)} fps, during the run ${live.camera ? `${fmt(live.camera.producedFps, 1)} fps produced, ${live.camera.delivered} delivered, ${live.camera.discarded} discarded` : 'n/a'}; buffered max ${live.buffered.max}; queue grows: ${live.queueGrows}`,
    );
    console.log(
      `memory: open VideoFrames ${live.memory.start.openFrames} → ${live.memory.end.openFrames} (after stop ${live.memory.openFramesAfterStop}; sink frames left open ${live.memory.sinkFramesLeftOpen}; GC-without-close warnings ${live.memory.gcWithoutCloseWarnings}); page heap ${fmt(live.memory.start.cdpHeapUsed / 2 ** 20, 1)} → ${fmt(live.memory.end.cdpHeapUsed / 2 ** 20, 1)} MiB (${fmt(live.memory.heapChange * 100, 1)}%); all-agent memory ${live.memory.start.uaMemoryBytes === null ? 'n/a' : fmt(live.memory.start.uaMemoryBytes / 2 ** 20, 1)} → ${live.memory.end.uaMemoryBytes === null ? 'n/a' : fmt(live.memory.end.uaMemoryBytes / 2 ** 20, 1)} MiB`,
    );
  }
  if (liveAdaptive) {
    console.log(
      `live with ADAPTIVE_DROP_OLDEST (${fmt(liveAdaptive.seconds, 0)} s): latency p50 ${fmt(liveAdaptive.latencyMs.p50, 0)} ms, p95 ${fmt(liveAdaptive.latencyMs.p95, 0)} ms (÷ in-run inference ${fmt(liveAdaptive.latencyOverInference)}); processed ${liveAdaptive.processed}, dropped ${liveAdaptive.dropped}`,
    );
  }
  if (light.length > 0) {
    const r = report.lightModel!;
    console.log(
      `light model (colour-box 320, whole file): ceiling ${fmtSpread(r.ceilingFps, 1)} fps, framewise ${fmtSpread(r.framewiseFps, 1)} fps, transformers.js ${fmtSpread(r.peerFps, 1)} fps; framewise ÷ transformers.js ${fmtSpread(r.framewiseOverPeer, 2)}`,
    );
  }
  if (auto) {
    const chosen = auto.layout?.chosen as { workers: number; threads: number } | undefined;
    const probe = ((auto.layout?.measured ?? []) as { workers: number; threads: number; fps: number }[]).map((m) => `${m.workers}×${m.threads} ${fmt(m.fps, 2)} fps`).join(', ');
    const agrees = chosen && Number.isFinite(framewiseSplitFps.median) ? (chosen.workers > 1) === framewiseSplitFps.median > framewiseFps.median : undefined;
    console.log(
      `workers 'auto' chose ${auto.threading} (its probe: ${probe || 'none'}; ${auto.layout?.fromCache ? 'remembered' : 'measured now'}): ${fmt(auto.fps, 3)} fps; the across-cores runs above say ${targets.wasmAcrossCores.faster} is faster${agrees === undefined ? '' : agrees ? ' (agrees)' : ' (DISAGREES)'}`,
    );
  }
  console.log(`results: bench/results/${stamp}.json and bench/results/latest.json (${report.durationS} s)`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
