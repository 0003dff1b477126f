/**
 * The library build (`npm run build`): ESM in `dist/`, one output file per source module (`src/x/y.ts` →
 * `dist/x/y.js`), every dependency external, nothing minified (consumers minify their own bundles).
 *
 * - `dist/index.js` is the package entry.
 * - Workers: every `new Worker(new URL('./x.ts', import.meta.url), …)` in `src/` is kept in the output as
 *   `new Worker(new URL('./x.js', import.meta.url), …)` and `x.ts` becomes an entry of its own (`dist/…/x.js`).
 *   That pattern is what the consumer's bundler (Vite, webpack 5, esbuild, Parcel) follows to find, bundle and emit
 *   the worker. Left alone, Vite would bundle each worker here, with onnxruntime-web inside it.
 * - onnxruntime-web (and its WASM) is not copied: the consumer's bundler resolves `onnxruntime-web/webgpu` for the
 *   inference worker, and onnxruntime-web finds its `.wasm` with `new URL('…wasm', import.meta.url)`, which those
 *   bundlers also follow (`wasmPaths` overrides it at run time).
 * - Worker entries run for their side effects, so each must be listed in package.json's `sideEffects`: the build
 *   fails when one is not.
 * - Types: after bundling, `tsconfig.build.json` is compiled with the TypeScript API into `dist/types/`
 *   (declarations only; the build fails on a type error), with the sources' `./x.ts` specifiers written as
 *   `./x.js` so the declarations read like any published package's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;
const srcDir = resolve(root, 'src');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  sideEffects?: boolean | string[];
};
const externals = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
const isExternal = (id: string): boolean => externals.some((name) => id === name || id.startsWith(`${name}/`));

/** `new URL('./x.ts', import.meta.url)` (the form Vite, webpack and esbuild recognise inside `new Worker(…)`). */
const WORKER_URL_RE = /(new\s+(?:Shared)?Worker\s*\(\s*)new\s+URL\(\s*(['"])(\.{1,2}\/[\w./-]+)\.ts\2\s*,\s*import\.meta\.url\s*\)/g;
const PLACEHOLDER = '__FRAMEWISE_WORKER_URL__';

/** A package.json `sideEffects` glob as a RegExp over paths like `./dist/x/y.js` (`**`, `*` and literals). */
function globToRegExp(glob: string): RegExp {
  const normalized = glob.startsWith('./') ? glob : glob.includes('/') ? `./${glob}` : `**/${glob}`;
  const body = normalized
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body.startsWith('(?:.*/)?') ? `(?:\\./)?${body}` : body}$`);
}

/**
 * Keeps worker URLs for the consumer's bundler: each worker URL is hidden from Vite's worker plugin behind a
 * placeholder, its module is emitted as an entry chunk, and after bundling the placeholder is written back as the
 * standard `new URL('./x.js', import.meta.url)`, relative to the chunk that holds it.
 */
function keepWorkerUrls(): Plugin {
  const workerEntries = new Set<string>();
  return {
    name: 'framewise:keep-worker-urls',
    enforce: 'pre',
    transform(code, id) {
      if (!id.startsWith(srcDir) || !code.includes('import.meta.url')) return null;
      let found = false;
      const out = code.replace(WORKER_URL_RE, (_m, head: string, _q: string, path: string) => {
        found = true;
        const file = resolve(dirname(id), `${path}.ts`);
        workerEntries.add(file);
        this.emitFile({ type: 'chunk', id: file, preserveSignature: false });
        return `${head}new URL(${PLACEHOLDER}(${JSON.stringify(file)}), import.meta.url)`;
      });
      return found ? { code: out, map: null } : null;
    },
    generateBundle(_options, bundle) {
      const byModule = new Map<string, string>();
      for (const chunk of Object.values(bundle)) if (chunk.type === 'chunk' && chunk.facadeModuleId) byModule.set(chunk.facadeModuleId, chunk.fileName);
      const sideEffects = Array.isArray(pkg.sideEffects) ? pkg.sideEffects.map(globToRegExp) : [];
      for (const file of workerEntries) {
        const out = byModule.get(file);
        if (!out) throw new Error(`framewise:keep-worker-urls: no output chunk for the worker ${relative(root, file)}`);
        if (pkg.sideEffects !== true && !sideEffects.some((re) => re.test(`./dist/${out}`))) {
          throw new Error(`framewise:keep-worker-urls: the worker entry dist/${out} must be listed in package.json "sideEffects", or bundlers may drop its code`);
        }
      }
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk' || !chunk.code.includes(PLACEHOLDER)) continue;
        chunk.code = chunk.code.replace(new RegExp(`${PLACEHOLDER}\\((['"])([^'"]+)\\1\\)`, 'g'), (_m, _q: string, file: string) => {
          const target = byModule.get(file);
          if (!target) throw new Error(`framewise:keep-worker-urls: no output chunk for the worker ${file}`);
          let rel = relative(dirname(chunk.fileName), target);
          if (!rel.startsWith('.')) rel = `./${rel}`;
          return `'${rel}'`;
        });
        if (chunk.code.includes(PLACEHOLDER)) throw new Error(`framewise:keep-worker-urls: a worker URL placeholder was left in ${chunk.fileName}`);
      }
    },
  };
}

/** `from './x.ts'`, `import('./x.ts')` → `.js` (relative specifiers only). */
const TS_SPECIFIER_RE = /((?:from\s+|import\(\s*)(['"])\.{1,2}\/[^'"]*?)\.ts\2/g;

/** Emits the declarations of `tsconfig.build.json` into `dist/types/`; fails the build on any type error. */
function emitDeclarations(): Plugin {
  return {
    name: 'framewise:declarations',
    apply: 'build',
    closeBundle() {
      const configPath = resolve(root, 'tsconfig.build.json');
      const parsed = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      });
      if (!parsed) throw new Error(`cannot read ${configPath}`);
      const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
      const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
      const errors = ts.getPreEmitDiagnostics(program);
      if (errors.length > 0) throw new Error(`type errors, no declarations written:\n${ts.formatDiagnostics(errors, host)}`);
      const emitted = program.emit(undefined, (fileName, text) => {
        mkdirSync(dirname(fileName), { recursive: true });
        writeFileSync(fileName, fileName.endsWith('.d.ts') ? text.replace(TS_SPECIFIER_RE, '$1.js$2') : text);
      });
      if (emitted.diagnostics.length > 0) throw new Error(`declaration emit failed:\n${ts.formatDiagnostics(emitted.diagnostics, host)}`);
    },
  };
}

export default defineConfig({
  root,
  publicDir: false,
  plugins: [keepWorkerUrls(), emitDeclarations()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: false,
    copyPublicDir: false,
    reportCompressedSize: false,
    lib: {
      entry: { index: resolve(srcDir, 'index.ts') },
      formats: ['es'],
    },
    rolldownOptions: {
      external: isExternal,
      output: {
        preserveModules: true,
        preserveModulesRoot: 'src',
        entryFileNames: '[name].js',
      },
    },
  },
});
