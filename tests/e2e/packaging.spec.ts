/**
 * Issue 8: the npm package works inside other people's apps and on static hosts, offline, with nothing fetched
 * from a third party.
 *
 * The library is packed with `npm pack`, installed from the tarball into a fresh Vite app and a fresh webpack 5 app
 * in a temporary folder, built with their own bundlers, served as static sites by a plain Node server (with or
 * without COOP/COEP, with or without a strict CSP), and run in Chromium on the fixture video. Packing, installing
 * and building happen once per spec run (and are reused from `$TMPDIR/framewise-consumers/` while the tarball is
 * the same).
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_COUNT } from '../fixtures/ground-truth.ts';
import { offOriginRequests, probeInlineScript, recordRequests, runConsumerPage, type AppResult, type PageRun, type RecordedRequest } from '../consumers/browser.ts';
import { buildConsumerApps, REPO_ROOT, startViteDevServer, timings, type ConsumerApp, type ConsumerApps } from '../consumers/consumer-apps.ts';
import { SAME_ORIGIN_CSP, startStaticServer, STRICT_CSP, type StaticServer } from '../consumers/static-server.ts';
import { COLOUR_BOX, GENERATED, expectMatchesGroundTruth, openHarness, runInPage } from './helpers.ts';
import type { RunResult } from './pages/harness.ts';

// Installs and bundler builds are slow on a small machine: generous limits, one app build shared by every test.
test.describe.configure({ timeout: 600_000 });

let apps: Promise<ConsumerApps> | undefined;
const getApps = (): Promise<ConsumerApps> => (apps ??= buildConsumerApps());

const ALL_FRAME_IDS = Array.from({ length: FRAME_COUNT }, (_, i) => i + 1);
const ISOLATION_HEADERS = ['Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Embedder-Policy: require-corp'];

interface Served {
  run: PageRun;
  requests: RecordedRequest[];
  server: StaticServer;
}

/** Serves `app.dist` with the given headers and runs the app's pipeline in a fresh page. */
async function serveAndRun(
  page: Page,
  app: ConsumerApp,
  options: { crossOriginIsolation: boolean; csp?: string; query?: string; mounts?: Record<string, string> },
): Promise<Served> {
  const server = await startStaticServer({ root: app.dist, crossOriginIsolation: options.crossOriginIsolation, csp: options.csp, mounts: options.mounts });
  try {
    const requests = recordRequests(page.context());
    const run = await runConsumerPage(page, `${server.origin}/${options.query ?? ''}`);
    return { run, requests, server };
  } finally {
    await server.close();
  }
}

/** Every frame, in order, with the colour-box detector's boxes within 2 px of the ground truth. */
function expectEveryFrameCorrect(result: AppResult): void {
  expect(result.error, 'the pipeline failed').toBeUndefined();
  expect(result.predictions.map((p) => p.frame_id)).toEqual(ALL_FRAME_IDS);
  expect(result.predictions.every((p) => p.image.width === 640 && p.image.height === 360)).toBe(true);
  // The harness's comparison reads only `predictions`.
  expectMatchesGroundTruth({ predictions: result.predictions } as Pick<RunResult, 'predictions'> as RunResult);
  expect(result.statuses.find((s) => s.eventType === 'BACKEND_SELECTED')?.message).toContain('wasm');
}

/** Nothing left the page's origin, and the recorder did see the workers' requests (the WASM binary). */
function expectOnlySameOrigin(served: Served): void {
  const off = offOriginRequests(served.requests, served.server.origin);
  expect(off, `requests to other hosts: ${off.map((r) => r.url).join(', ')}`).toEqual([]);
  expect(served.requests.some((r) => r.url.endsWith('.wasm')), 'the WASM request (made by the inference worker) was recorded').toBe(true);
  expect(served.requests.some((r) => r.url.endsWith('.onnx')), 'the model request was recorded').toBe(true);
}

function threading(result: AppResult): AppResult['statuses'][number] {
  const event = result.statuses.find((s) => s.eventType === 'THREADING');
  expect(event, 'a THREADING status event').toBeDefined();
  return event!;
}

function expectMultithreaded(run: PageRun, hardwareConcurrency: number): void {
  const { result } = run;
  expect(result.crossOriginIsolated).toBe(true);
  const event = threading(result);
  expect(event.severity).toBe('info');
  expect(event.payload?.crossOriginIsolated).toBe(true);
  const threads = Math.max(1, Math.min(4, hardwareConcurrency));
  expect(event.payload?.threads).toBe(threads);
  // onnxruntime-web really started its threads: one inference worker plus its pthread workers.
  if (threads > 1) expect(run.workers.length, `workers started: ${run.workers.join(', ')}`).toBeGreaterThan(1);
}

function expectSingleThreadedWithAdvice(run: PageRun): void {
  const { result } = run;
  expect(result.crossOriginIsolated).toBe(false);
  expect(run.workers, 'only the inference worker (no pthreads)').toHaveLength(1);
  const event = threading(result);
  expect(event.severity).toBe('warning');
  expect(event.payload).toMatchObject({ threads: 1, crossOriginIsolated: false });
  expect(event.message).toContain('not cross-origin isolated');
  expect(event.message).toContain('single-threaded');
  for (const header of ISOLATION_HEADERS) expect(event.message).toContain(header.split(': ')[0]!);
  expect(event.message).toContain('same-origin');
  expect(event.message).toContain('require-corp');
}

/** The policy was sent and enforced (an inline script is refused), and the app itself caused no violation. */
async function expectCspEnforcedWithoutViolations(page: Page, run: PageRun, csp: string): Promise<void> {
  expect(run.headers['content-security-policy']).toBe(csp);
  expect(run.result.cspViolations).toEqual([]);
  expect(run.problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
  const probe = await probeInlineScript(page);
  expect(probe, 'an inline script is blocked, so the policy is in force').toEqual({ ran: false, violations: ['script-src-elem'] });
}

test('npm pack: only the built library (ESM, types, worker entries), no WASM, workers kept for the consumer\'s bundler', async () => {
  const { packed } = await getApps();
  const paths = packed.files.map((f) => f.path).sort();
  console.log(`${packed.filename}: ${packed.files.length} files, ${(packed.size / 1024).toFixed(1)} kB packed, ${(packed.unpackedSize / 1024).toFixed(1)} kB unpacked`);
  const unexpected = paths.filter((p) => !/^(package\.json|README\.md|LICENSE(\.\w+)?|dist\/(?!types\/).+\.js|dist\/types\/.+\.d\.ts)$/.test(p));
  expect(unexpected, 'files outside dist/*.js, dist/types/*.d.ts, package.json, README').toEqual([]);
  expect(paths.filter((p) => /\.(wasm|mjs|map|onnx|ts)$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
  for (const required of ['package.json', 'README.md', 'dist/index.js', 'dist/types/index.d.ts', 'dist/inference/inference-worker.js']) expect(paths).toContain(required);
  expect(packed.size, 'tarball size').toBeLessThan(512 * 1024);

  // package.json points at files that are in the tarball.
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string; types: string; exports: Record<string, string | Record<string, string>> };
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v)))];
  for (const target of targets) expect(paths, `package.json target ${target}`).toContain(target.replace(/^\.\//, ''));

  // Every worker the library starts is created with the pattern bundlers follow, and its entry is in the tarball.
  const dist = join(REPO_ROOT, 'dist');
  const workerUrls = paths
    .filter((p) => p.endsWith('.js'))
    .flatMap((p) => [...readFileSync(join(REPO_ROOT, p), 'utf8').matchAll(/new Worker\(new URL\('(\.{1,2}\/[^']+)', import\.meta\.url\)/g)].map((m) => join(p, '..', m[1]!)));
  expect(workerUrls).toContain('dist/inference/inference-worker.js');
  for (const url of workerUrls) expect(paths, `worker entry ${url}`).toContain(url);
  // onnxruntime-web is imported by name (resolved and bundled by the consumer), not copied.
  expect(readFileSync(join(dist, 'inference/worker-pool.js'), 'utf8')).toMatch(/new Worker\(new URL\('\.\/inference-worker\.js', import\.meta\.url\), \{\s*type: "module"/);
  const worker = readFileSync(join(dist, 'inference/inference-worker.js'), 'utf8');
  expect(worker).toMatch(/from "onnxruntime-web\/webgpu"/);
  expect(worker).not.toContain('ort-wasm-simd-threaded');
  expect(readFileSync(join(dist, 'types/index.d.ts'), 'utf8')).not.toMatch(/from '\.[^']*\.ts'/);
});

test('Vite app from the tarball, served with COOP/COEP: every frame, boxes within 2 px, multithreaded WASM, nothing off-origin', async ({ page }) => {
  const { vite, buildSeconds } = await getApps();
  console.log(`consumer apps ${buildSeconds ? `built in ${buildSeconds.toFixed(0)} s` : 'reused from the cache'} (${vite.dir})`);
  for (const t of timings) console.log(`  ${t.seconds.toFixed(1).padStart(6)} s  ${t.step}`);
  const served = await serveAndRun(page, vite, { crossOriginIsolation: true });
  expectEveryFrameCorrect(served.run.result);
  expectMultithreaded(served.run, await page.evaluate(() => navigator.hardwareConcurrency));
  expectOnlySameOrigin(served);
  expect(served.run.problems.filter((p) => p.startsWith('[page error]'))).toEqual([]);
});

test('the same Vite build without COOP/COEP (a static host like GitHub Pages): single-threaded WASM, THREADING says why and which headers help', async ({ page }) => {
  const { vite } = await getApps();
  const served = await serveAndRun(page, vite, { crossOriginIsolation: false });
  expectEveryFrameCorrect(served.run.result);
  expectSingleThreadedWithAdvice(served.run);
  expectOnlySameOrigin(served);
});

test(`the Vite build under a strict CSP (${STRICT_CSP}) with COOP/COEP, and under "${SAME_ORIGIN_CSP}" without`, async ({ page, context }) => {
  const { vite } = await getApps();
  const isolated = await serveAndRun(page, vite, { crossOriginIsolation: true, csp: STRICT_CSP });
  expectEveryFrameCorrect(isolated.run.result);
  await expectCspEnforcedWithoutViolations(page, isolated.run, STRICT_CSP);
  expectOnlySameOrigin(isolated);
  const second = await context.newPage();
  const plain = await serveAndRun(second, vite, { crossOriginIsolation: false, csp: SAME_ORIGIN_CSP });
  expectEveryFrameCorrect(plain.run.result);
  await expectCspEnforcedWithoutViolations(second, plain.run, SAME_ORIGIN_CSP);
});

test('the Vite app under its dev server (`vite`, COOP/COEP from its config): every frame, boxes within 2 px, multithreaded', async ({ page }) => {
  const { vite } = await getApps();
  const server = await startViteDevServer(vite);
  try {
    const requests = recordRequests(page.context());
    const run = await runConsumerPage(page, `${server.origin}/`);
    console.log(`dev server: result after ${(run.elapsedMs / 1000).toFixed(1)} s, ${run.navigations} navigation(s); problems: ${run.problems.join(' | ') || 'none'}`);
    expectEveryFrameCorrect(run.result);
    expectMultithreaded(run, await page.evaluate(() => navigator.hardwareConcurrency));
    const off = offOriginRequests(requests, server.origin);
    expect(off, `requests to other hosts: ${off.map((r) => r.url).join(', ')}`).toEqual([]);
  } finally {
    await server.close();
  }
});

test('wasmPaths: with onnxruntime-web\'s files moved to /vendor/ort/ by the host, the WASM comes from there', async ({ page }) => {
  const { vite } = await getApps();
  const ortDist = join(vite.dir, 'node_modules/onnxruntime-web/dist');
  const served = await serveAndRun(page, vite, { crossOriginIsolation: true, query: '?wasmPaths=/vendor/ort/', mounts: { '/vendor/ort/': ortDist } });
  expectEveryFrameCorrect(served.run.result);
  expectOnlySameOrigin(served);
  const wasm = served.requests.filter((r) => r.url.endsWith('.wasm')).map((r) => new URL(r.url).pathname);
  expect(wasm.length).toBeGreaterThan(0);
  for (const path of wasm) expect(path).toMatch(/^\/vendor\/ort\/ort-wasm-simd-threaded\.[\w.]*wasm$/);
});

test('webpack 5 app from the tarball, with COOP/COEP and the strict CSP: every frame, boxes within 2 px, multithreaded WASM, nothing off-origin', async ({ page }) => {
  const { webpack, webpackError, webpackSkipReason } = await getApps();
  test.skip(webpackSkipReason !== undefined, webpackSkipReason);
  expect(webpackError, 'the webpack app build').toBeUndefined();
  const served = await serveAndRun(page, webpack!, { crossOriginIsolation: true, csp: STRICT_CSP });
  expectEveryFrameCorrect(served.run.result);
  expectMultithreaded(served.run, await page.evaluate(() => navigator.hardwareConcurrency));
  await expectCspEnforcedWithoutViolations(page, served.run, STRICT_CSP);
  expectOnlySameOrigin(served);
});

test('the same webpack build without COOP/COEP: single-threaded WASM with the THREADING advice', async ({ page }) => {
  const { webpack, webpackError, webpackSkipReason } = await getApps();
  test.skip(webpackSkipReason !== undefined, webpackSkipReason);
  expect(webpackError, 'the webpack app build').toBeUndefined();
  const served = await serveAndRun(page, webpack!, { crossOriginIsolation: false });
  expectEveryFrameCorrect(served.run.result);
  expectSingleThreadedWithAdvice(served.run);
  expectOnlySameOrigin(served);
});

test('a pipeline page (the test harness: a URL model, a video URL, renderBoxes) requests nothing from another host', async ({ page, baseURL }) => {
  const requests = recordRequests(page.context());
  await openHarness(page);
  const result = await runInPage(page, { modelId: COLOUR_BOX, videoReference: `${GENERATED}/sample.mp4`, backend: 'wasm', render: true });
  expect(result.error).toBeUndefined();
  expect(result.predictions).toHaveLength(FRAME_COUNT);
  const origin = new URL(baseURL!).origin;
  const off = offOriginRequests(requests, origin);
  expect(off, `requests to other hosts: ${off.map((r) => r.url).join(', ')}`).toEqual([]);
  expect(requests.some((r) => r.url.includes('.wasm')), 'worker requests are recorded').toBe(true);

  // Positive control: a request to another host, from the page and from a worker, is caught.
  await page.evaluate(async () => {
    await fetch('http://third-party.invalid/from-page').catch(() => undefined);
    const source = "fetch('http://third-party.invalid/from-worker').catch(() => undefined).finally(() => postMessage('done'));";
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    await new Promise((resolve) => worker.addEventListener('message', resolve, { once: true }));
    worker.terminate();
  });
  await expect.poll(() => offOriginRequests(requests, origin).map((r) => new URL(r.url).pathname).sort()).toEqual(['/from-page', '/from-worker']);
});
