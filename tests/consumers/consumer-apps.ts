/**
 * Consumers of the published package, built for real: the library is built and packed (`npm pack`), then fresh
 * apps in a temporary folder install the tarball (`npm install ./framewise-x.y.z.tgz`, from the machine's npm
 * registry and cache) and build with their own bundler: a Vite app (TypeScript, type-checked against the
 * package's `.d.ts`) and, when it installs, a webpack 5 app. Each app runs one pipeline on the fixture video and
 * publishes the result on `window.__framewise`.
 *
 * Building takes minutes on a slow machine, so the built apps are cached in `$TMPDIR/framewise-consumers/<key>/`,
 * where the key hashes the tarball, this file and the bundler versions: a second run (or a restarted Playwright
 * worker) with the same package reuses them.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(REPO_ROOT, 'tests/fixtures/generated');
/** The fixture video and the colour-box model, copied into each app's public files. */
export const APP_ASSETS = ['sample.mp4', 'colour-box-320.onnx'] as const;

/** Bundler versions the apps install: the ones this repo pins (already in the npm cache). */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Seconds each step took (`npm install` in the Vite app, `vite build`, …), for the test log. */
export const timings: Array<{ step: string; seconds: number }> = [];

/** Runs a command; rejects with its output's tail when it fails or runs past `timeoutMs`. */
export async function run(command: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const started = Date.now();
  const result = await runUntimed(command, args, cwd, timeoutMs, env);
  timings.push({ step: `${cwd.split('/').pop()}: ${command} ${args.slice(0, 2).join(' ')}`, seconds: (Date.now() - started) / 1000 });
  return result;
}

function runUntimed(command: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolveRun({ stdout, stderr });
      const why = signal ? `killed by ${signal} (limit ${timeoutMs} ms)` : `exit ${code}`;
      reject(new Error(`${command} ${args.join(' ')} in ${cwd}: ${why}\n--- stdout ---\n${stdout.slice(-4000)}\n--- stderr ---\n${stderr.slice(-4000)}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The package

export interface PackedFile {
  path: string;
  size: number;
}

export interface PackedLibrary {
  /** Absolute path of `framewise-<version>.tgz`. */
  tarball: string;
  /** `framewise-<version>.tgz`. */
  filename: string;
  /** Compressed size in bytes. */
  size: number;
  /** Unpacked size in bytes. */
  unpackedSize: number;
  files: PackedFile[];
  /** sha512 of the tarball (npm's `integrity`). */
  integrity: string;
}

const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

/**
 * Builds the library (the Vite step of `npm run build`, which also writes the declarations; the doc-comment check
 * is `npm run check:docs`'s business) and packs it into `destination` with `npm pack`. Lifecycle scripts are off,
 * as the repo's `.npmrc` has them.
 */
export async function packLibrary(destination: string): Promise<PackedLibrary> {
  mkdirSync(destination, { recursive: true });
  await run('npx', ['vite', 'build', '--config', 'vite.lib.config.ts', '--logLevel', 'warn'], REPO_ROOT, 300_000);
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination, ...NPM_QUIET], REPO_ROOT, 120_000);
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; size: number; unpackedSize: number; integrity: string; files: PackedFile[] }>;
  if (!info) throw new Error(`npm pack printed no result:\n${stdout}`);
  return { tarball: join(destination, info.filename), filename: info.filename, size: info.size, unpackedSize: info.unpackedSize, files: info.files, integrity: info.integrity };
}

// ---------------------------------------------------------------------------------------------------------------
// The apps

/**
 * The app both bundlers build (TypeScript; the webpack app gets it transpiled to JavaScript). It runs a pipeline
 * on `/sample.mp4` with `/colour-box-320.onnx` on WASM, draws with `renderBoxes`, and publishes what it saw.
 */
export const APP_MAIN_TS = `import { InferencePipeline, renderBoxes, type FramePredictions, type StatusUpdate } from 'framewise';

export interface AppResult {
  predictions: FramePredictions[];
  statuses: Array<Pick<StatusUpdate, 'eventType' | 'severity' | 'message' | 'payload'>>;
  error?: string;
  crossOriginIsolated: boolean;
  cspViolations: string[];
}

const cspViolations: string[] = [];
document.addEventListener('securitypolicyviolation', (e) => cspViolations.push(\`\${e.effectiveDirective} blocked \${e.blockedURI}\`));

async function main(): Promise<AppResult> {
  const params = new URLSearchParams(location.search);
  const predictions: FramePredictions[] = [];
  const statuses: AppResult['statuses'] = [];
  const draw = renderBoxes({ canvas: document.querySelector('canvas')!, displayStatistics: true });
  const pipeline = InferencePipeline.init({
    modelId: { url: 'colour-box-320.onnx' },
    videoReference: new URL('sample.mp4', location.href).href,
    backend: 'wasm',
    workers: Number(params.get('workers') ?? '1'),
    // A host that serves onnxruntime-web's files somewhere else (?wasmPaths=/vendor/ort/).
    wasmPaths: params.get('wasmPaths') ?? undefined,
    onPrediction: (p, frame) => {
      predictions.push(p);
      draw(p, frame);
    },
    statusUpdateHandlers: [(s) => statuses.push({ eventType: s.eventType, severity: s.severity, message: s.message, payload: s.payload })],
  });
  pipeline.start();
  let error: string | undefined;
  try {
    await pipeline.join();
  } catch (e) {
    error = e instanceof Error ? \`\${e.name}: \${e.message}\` : String(e);
  }
  return JSON.parse(JSON.stringify({ predictions, statuses, error, crossOriginIsolated: self.crossOriginIsolated, cspViolations })) as AppResult;
}

main().then(
  (result) => {
    (window as unknown as { __framewise: AppResult }).__framewise = result;
    document.title = 'done';
  },
  (e: unknown) => {
    (window as unknown as { __framewise: Partial<AppResult> }).__framewise = { error: String(e), cspViolations, predictions: [], statuses: [] };
    document.title = 'done';
  },
);
`;

/**
 * The Vite app's config. `vite build` needs nothing for framewise; the dev server gets the two headers that make
 * the page cross-origin isolated (multithreaded WASM), as a user would add them.
 */
export const VITE_CONFIG = `// A consumer's vite.config.js: build defaults; COOP/COEP for the dev server.
export default {
  server: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
};
`;

export const WEBPACK_CONFIG = `// A consumer's webpack.config.mjs: production defaults; webpack follows new Worker(new URL(…)) and new URL(…wasm).
import { resolve } from 'node:path';
export default {
  mode: 'production',
  entry: './src/main.js',
  output: { path: resolve(import.meta.dirname, 'dist'), filename: 'main.js', publicPath: 'auto', clean: true },
  performance: { hints: false },
  devtool: false,
};
`;

const APP_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'bundler',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    strict: true,
    noEmit: true,
    types: [],
    skipLibCheck: false,
  },
  include: ['src'],
};

function html(script: string): string {
  return `<!doctype html>
<html>
  <head><meta charset="utf-8" /><link rel="icon" href="favicon.ico" /><title>framewise consumer</title></head>
  <body>
    <canvas></canvas>
    ${script}
  </body>
</html>
`;
}

export interface ConsumerApp {
  bundler: 'vite' | 'webpack';
  /** The app's folder. */
  dir: string;
  /** Its build output, to be served as a static site. */
  dist: string;
}

export interface ConsumerApps {
  packed: PackedLibrary;
  vite: ConsumerApp;
  /** Undefined when webpack is not installed here (`webpackSkipReason`) or its app failed (`webpackError`). */
  webpack?: ConsumerApp;
  webpackSkipReason?: string;
  webpackError?: string;
  /** Seconds spent packing, installing and building (0 when cached). */
  buildSeconds: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function newApp(dir: string, tarball: string, name: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  const local = join(dir, tarball.split('/').pop()!);
  copyFileSync(tarball, local);
  writeJson(join(dir, 'package.json'), { name, private: true, version: '0.0.0', type: 'module' });
  return `./${local.split('/').pop()!}`;
}

function copyAssets(into: string): void {
  mkdirSync(into, { recursive: true });
  for (const asset of APP_ASSETS) copyFileSync(join(FIXTURES, asset), join(into, asset));
  writeFileSync(join(into, 'favicon.ico'), ''); // so the browser's favicon request is not a 404 in the console
}

const INSTALL = ['install', '--ignore-scripts', '--prefer-offline', ...NPM_QUIET];

async function buildViteApp(dir: string, tarball: string): Promise<ConsumerApp> {
  const tgz = newApp(dir, tarball, 'framewise-vite-consumer');
  writeFileSync(join(dir, 'index.html'), html('<script type="module" src="/src/main.ts"></script>'));
  writeFileSync(join(dir, 'src/main.ts'), APP_MAIN_TS);
  writeFileSync(join(dir, 'vite.config.js'), VITE_CONFIG);
  writeJson(join(dir, 'tsconfig.json'), APP_TSCONFIG);
  copyAssets(join(dir, 'public'));
  await run('npm', [...INSTALL, tgz, `vite@${installedVersion('vite')}`], dir, 400_000);
  // The package's types, as a strict TypeScript app sees them (the repo's compiler; the app has none).
  await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir, 180_000);
  await run('npx', ['vite', 'build', '--logLevel', 'warn'], dir, 300_000);
  return { bundler: 'vite', dir, dist: join(dir, 'dist') };
}

async function buildWebpackApp(dir: string, tarball: string): Promise<ConsumerApp> {
  const tgz = newApp(dir, tarball, 'framewise-webpack-consumer');
  writeFileSync(join(dir, 'src/main.js'), ts.transpileModule(APP_MAIN_TS, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
  writeFileSync(join(dir, 'webpack.config.mjs'), WEBPACK_CONFIG);
  await run('npm', [...INSTALL, tgz, `webpack@${installedVersion('webpack')}`, `webpack-cli@${installedVersion('webpack-cli')}`], dir, 400_000);
  await run('npx', ['webpack', '--config', 'webpack.config.mjs', '--no-color'], dir, 300_000);
  const dist = join(dir, 'dist');
  writeFileSync(join(dist, 'index.html'), html('<script src="main.js" defer></script>'));
  copyAssets(dist);
  return { bundler: 'webpack', dir, dist };
}

function cacheKey(packed: PackedLibrary): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(packed.tarball));
  hash.update(readFileSync(import.meta.filename));
  for (const name of ['vite', 'webpack', 'webpack-cli']) hash.update(`${name}@${existsSync(join(REPO_ROOT, 'node_modules', name)) ? installedVersion(name) : '-'}`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Packs the library and builds both apps, or reuses apps built from an identical tarball. With `fresh`, builds
 * even when cached.
 */
export async function buildConsumerApps(options: { fresh?: boolean } = {}): Promise<ConsumerApps> {
  const started = Date.now();
  const base = join(tmpdir(), 'framewise-consumers');
  const packDir = join(base, `pack-${process.pid}`);
  rmSync(packDir, { recursive: true, force: true });
  const packed = await packLibrary(packDir);
  const key = cacheKey(packed);
  const root = join(base, key);
  const marker = join(root, 'ready.json');
  if (!options.fresh && existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as Omit<ConsumerApps, 'packed' | 'buildSeconds'>;
    return { ...cached, packed, buildSeconds: 0 };
  }
  // Other keys are apps of older packages (each holds a few hundred MB of node_modules), and packs of runs that
  // ended over an hour ago: remove them.
  for (const entry of readdirSync(base)) {
    const path = join(base, entry);
    const stale = entry.startsWith('pack-') ? entry !== `pack-${process.pid}` && Date.now() - statSync(path).mtimeMs > 3_600_000 : entry !== key;
    if (stale) rmSync(path, { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const webpackAvailable = existsSync(join(REPO_ROOT, 'node_modules/webpack/package.json')) && existsSync(join(REPO_ROOT, 'node_modules/webpack-cli/package.json'));
  const [vite, webpack] = await Promise.allSettled([
    buildViteApp(join(root, 'vite-app'), packed.tarball),
    webpackAvailable ? buildWebpackApp(join(root, 'webpack-app'), packed.tarball) : Promise.resolve(undefined),
  ]);
  if (vite.status === 'rejected') throw vite.reason;
  const result: Omit<ConsumerApps, 'packed' | 'buildSeconds'> = {
    vite: vite.value,
    webpack: webpack.status === 'fulfilled' ? webpack.value : undefined,
    webpackError: webpack.status === 'rejected' && webpackAvailable ? describe(webpack.reason) : undefined,
    webpackSkipReason: webpackAvailable ? undefined : 'webpack and webpack-cli are not installed in this repo (npm install -D webpack@5 webpack-cli)',
  };
  // A failed webpack build is not cached: the next run tries again.
  if (!result.webpackError) writeJson(marker, result);
  return { ...result, packed, buildSeconds: (Date.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------------------------
// The Vite dev server, as `npm run dev` in the consumer's app starts it

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface DevServer {
  origin: string;
  close(): Promise<void>;
}

/** Starts `vite` (the dev server) in the app's folder and resolves once it answers. */
export async function startViteDevServer(app: ConsumerApp, timeoutMs = 120_000): Promise<DevServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn('npx', ['vite', '--port', String(port), '--strictPort', '--host', '127.0.0.1', '--clearScreen', 'false'], { cwd: app.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite (dev) exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${origin}/`);
      if (response.ok) return { origin, close };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await close();
  throw new Error(`vite (dev) did not answer on ${origin} within ${timeoutMs} ms:\n${output}`);
}
