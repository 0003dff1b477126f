/**
 * Small metadata requests (API answers, config files) with errors mapped to {@link ModelLoadError}s that name the
 * service, the endpoint without its query string, and the fix. Model bytes go through `chunked-download.ts`.
 */
import { abortedError, malformedError, networkError, statusError, type RequestContext } from './model-errors.ts';
import { redactSecret } from './redaction.ts';

/** How long one metadata request may take before it counts as a network failure, in milliseconds. */
export const METADATA_TIMEOUT_MS = 30_000;

/** Options of one metadata request. */
export interface MetadataRequest {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Scrubbed from anything the server says before it reaches a message. */
  secret?: string;
  /** Milliseconds before giving up. Default {@link METADATA_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** `fetch` to use (tests). Default: the global one. */
  fetch?: typeof fetch;
}

/** What an error body says (`{error: {message}}`, `{message}`, `{error: "…"}` or text), at most 200 characters, key scrubbed. */
async function serverMessage(response: Response, secret: string | undefined): Promise<string | undefined> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return undefined;
  }
  let message: unknown = text;
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown };
    const e = json.error;
    message = (typeof e === 'object' && e !== null && 'message' in e ? (e as { message: unknown }).message : e) ?? json.message ?? undefined;
  } catch {
    // not JSON: use the text
  }
  if (typeof message !== 'string') return undefined;
  const clean = redactSecret(message.replace(/\s+/g, ' ').trim(), secret);
  if (!clean) return undefined;
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** Fetches `url` and returns the response when it is OK; throws a ModelLoadError otherwise. */
export async function fetchOk(url: string, context: RequestContext, options: MetadataRequest = {}): Promise<Response> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? METADATA_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers: options.headers, signal, cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    if (options.signal?.aborted) throw abortedError(`"${context.model}"`);
    throw networkError(context, timeout.aborted ? new Error(`no answer within ${options.timeoutMs ?? METADATA_TIMEOUT_MS} ms`) : error);
  }
  if (!response.ok) throw statusError(response.status, response.statusText, context, await serverMessage(response, options.secret));
  return response;
}

/** Fetches and parses JSON; a body that is not JSON is a `malformed` error naming `expected`. */
export async function fetchJson(url: string, context: RequestContext, expected: string, options: MetadataRequest = {}): Promise<unknown> {
  const response = await fetchOk(url, context, options);
  const text = await readText(response, context, options);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedError(context, expected, `${text.length} bytes that are not JSON`);
  }
}

async function readText(response: Response, context: RequestContext, options: MetadataRequest): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw abortedError(`"${context.model}"`);
    throw networkError(context, error);
  }
}

/** Reads a JSON object field path for messages: `describeJson(x)` says what `x` is without dumping it. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    return keys.length ? `an object with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}` : 'an empty object';
  }
  return typeof value === 'string' ? `a string of ${value.length} characters` : `${typeof value} ${String(value)}`;
}

