/**
 * The browser side of the consumer tests: open a built app, record every request the page and its workers make,
 * wait for the app's pipeline to finish and hand its result back.
 */
import type { BrowserContext, Page } from '@playwright/test';
import type { FramePredictions, StatusUpdate } from '../../src/index.ts';

/** What the consumer app publishes on `window.__framewise` (see `APP_MAIN_TS`). */
export interface AppResult {
  predictions: FramePredictions[];
  statuses: Array<Pick<StatusUpdate, 'eventType' | 'severity' | 'message' | 'payload'>>;
  error?: string;
  crossOriginIsolated: boolean;
  cspViolations: string[];
}

export interface RecordedRequest {
  url: string;
  resourceType: string;
  method: string;
}

/**
 * Records every request made in `context`: pages, their dedicated workers (Chromium reports those to the context
 * too), service workers, fetches, media. Attach before the first navigation.
 */
export function recordRequests(context: BrowserContext): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  context.on('request', (request) => requests.push({ url: request.url(), resourceType: request.resourceType(), method: request.method() }));
  return requests;
}

/**
 * The requests that left `origin`. `data:` URLs fetch nothing; `blob:` URLs are in-memory objects of the origin
 * that made them (`blob:http://host/uuid`), so only their inner origin counts.
 */
export function offOriginRequests(requests: readonly RecordedRequest[], origin: string): RecordedRequest[] {
  return requests.filter((r) => {
    if (r.url.startsWith('data:')) return false;
    const url = r.url.startsWith('blob:') ? r.url.slice('blob:'.length) : r.url;
    try {
      return new URL(url).origin !== origin;
    } catch {
      return true;
    }
  });
}

export interface PageRun {
  result: AppResult;
  /** Console messages (page and workers) of level warning or error, and uncaught page errors. */
  problems: string[];
  /** Paths of the dedicated workers started, nested ones included (onnxruntime-web's pthreads are workers too). */
  workers: string[];
  /** The document's response headers (lower-case names). */
  headers: Record<string, string>;
  /** Main-frame navigations, the first load included (a dev server may reload the page once). */
  navigations: number;
  /** Milliseconds from navigation to the app's result. */
  elapsedMs: number;
}

/** Opens a built consumer app and waits (up to `timeoutMs`) for its pipeline to end. */
export async function runConsumerPage(page: Page, url: string, timeoutMs = 180_000): Promise<PageRun> {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`[console.${message.type()}] ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`[page error] ${error.message}`));
  const workers: string[] = [];
  page.on('worker', (worker) => workers.push(new URL(worker.url()).pathname));
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  const started = Date.now();
  const response = await page.goto(url);
  await page.waitForFunction(() => document.title === 'done', undefined, { timeout: timeoutMs, polling: 250 });
  const result = await page.evaluate(() => (window as unknown as { __framewise: AppResult }).__framewise);
  return { result, problems, workers, headers: response?.headers() ?? {}, navigations, elapsedMs: Date.now() - started };
}

/**
 * Positive control for a CSP test: adds an inline script, which `script-src 'self'` must block. Returns whether
 * it ran and the violations the page reported for it.
 */
export async function probeInlineScript(page: Page): Promise<{ ran: boolean; violations: string[] }> {
  return page.evaluate(async () => {
    const violations: string[] = [];
    const listener = (e: SecurityPolicyViolationEvent) => violations.push(e.effectiveDirective);
    document.addEventListener('securitypolicyviolation', listener);
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true;';
    document.body.append(script);
    await new Promise((r) => setTimeout(r, 200));
    document.removeEventListener('securitypolicyviolation', listener);
    return { ran: (window as unknown as { __inlineRan?: boolean }).__inlineRan === true, violations };
  });
}
