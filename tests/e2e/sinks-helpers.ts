/** Helpers for the sink tests: open the sinks harness page and call it. */
import type { Page } from '@playwright/test';
import type { SinksHarness } from './pages/sinks-harness.ts';

export const SINKS_HARNESS = '/tests/e2e/pages/sinks-harness.html';

export async function openSinksHarness(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.log(`[page ${message.type()}] ${message.text()}`);
  });
  await page.goto(SINKS_HARNESS);
  try {
    await page.waitForFunction(() => document.title === 'sinks harness ready', undefined, { timeout: 60_000 });
  } catch {
    // Vite may re-optimise dependencies on a cold start and leave the first load broken: load once more.
    await page.reload();
    await page.waitForFunction(() => document.title === 'sinks harness ready');
  }
}

type Fn = keyof SinksHarness;

/** Calls `sinksHarness[name](request)` in the page. */
export async function callHarness<K extends Fn>(page: Page, name: K, request: Parameters<SinksHarness[K]>[0]): Promise<Awaited<ReturnType<SinksHarness[K]>>> {
  return page.evaluate(
    ([n, r]) => {
      const h = (window as unknown as { sinksHarness: Record<string, (x: unknown) => unknown> }).sinksHarness;
      return h[n as string]!(r);
    },
    [name, request] as const,
  ) as Promise<Awaited<ReturnType<SinksHarness[K]>>>;
}

/**
 * Whether a status event reports a sink failure: SINK_ERROR, or the reference's name for it,
 * INFERENCE_RESULTS_DISPATCHING_ERROR (the pipeline is moving to the reference's event names).
 */
export function isSinkError(status: { eventType: string }): boolean {
  return status.eventType === 'SINK_ERROR' || status.eventType === 'INFERENCE_RESULTS_DISPATCHING_ERROR';
}
