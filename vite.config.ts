import { defineConfig } from 'vite';

/** Cross-origin isolation, so onnxruntime-web's WASM can use threads (SharedArrayBuffer). */
const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: '.',
  publicDir: 'public',
  server: {
    headers: CROSS_ORIGIN_ISOLATION,
    host: '127.0.0.1',
    open: '/demo/',
    // Test servers must not reload pages under a running test when a file changes.
    hmr: process.env.FRAMEWISE_TEST_SERVER ? false : undefined,
    watch: process.env.FRAMEWISE_TEST_SERVER ? null : undefined,
  },
  preview: { headers: CROSS_ORIGIN_ISOLATION, host: '127.0.0.1', open: '/demo/' },
  // onnxruntime-web finds its .wasm/.mjs next to its own module; pre-bundling would move the module away from them.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist-demo',
    target: 'es2022',
    rollupOptions: { input: { demo: 'demo/index.html' } },
  },
});
