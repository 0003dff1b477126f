import { defineConfig } from '@playwright/test';

/** Each concurrent test run needs its own port (FRAMEWISE_TEST_PORT). */
const PORT = Number(process.env.FRAMEWISE_TEST_PORT ?? 5179);

/** Headless Debian Chromium: no network chatter, WebGPU (SwiftShader), a fake camera fed by the Y4M fixture, loopback WebRTC. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--use-fake-device-for-media-stream',
  '--use-file-for-fake-video-capture=tests/fixtures/generated/sample.y4m',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '*.spec.ts',
  timeout: 180_000,
  expect: { timeout: 10_000 },
  workers: 1,
  // Tests that start external processes (ffmpeg, GStreamer, the relay) on a loaded 2-core machine may lose a race
  // at start-up: CI retries a failed test once, and the report lists any such test as flaky.
  retries: process.env.CI ? 1 : 0,
  fullyParallel: false,
  reporter: [['list'], ['json']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
  webServer: {
    command: `npx vite --port ${PORT} --strictPort --host 127.0.0.1 --open false`,
    env: { FRAMEWISE_TEST_SERVER: '1' },
    url: `http://localhost:${PORT}/tests/e2e/pages/harness.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
