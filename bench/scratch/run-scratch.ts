import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../../playwright.config.ts';
const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'warn', optimizeDeps: { entries: ['bench/scratch/scratch.html', 'bench/pages/raw-worker.ts', 'src/inference/inference-worker.ts'] }, server: { port: 5202, strictPort: true, host: '127.0.0.1', open: false, hmr: false, watch: null } });
await server.listen();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const context = await browser.newContext();
await context.grantPermissions(['camera']);
const page = await context.newPage();
page.on('console', (m) => console.log('[page]', m.text()));
await page.goto('http://127.0.0.1:5202/bench/scratch/scratch.html');
await page.waitForFunction(() => document.title === 'ready');
const what = process.argv[2] ?? 'idle';
const r = await page.evaluate(([w]) => {
  const s = (window as any).scratch;
  if (w === "custom") return (window as any).scratch2.customLive(15, 2000); return w === "idle" ? s.readCamera(10, 0) : w.startsWith('hold') ? s.readCamera(8, Number(w.slice(4))) : w.startsWith('copy') ? s.readCamera(8, -Number(w.slice(4))) : s.withWorker(15, Number(w));
}, [what]);
console.log(what, JSON.stringify(r));
await browser.close(); await server.close();
