/**
 * The errors model resolution and download raise. Each says what happened and what was expected; none ever
 * contains an API key (messages are built from paths without query strings, and scrubbed once more at the edge).
 */
import { ModelError } from '../pipeline/errors.ts';

/**
 * Why a model could not be loaded, for code that branches on it:
 * - `unauthorized` (HTTP 401: bad or missing API key), `forbidden` (403), `not-found` (404: unknown model),
 *   `payment-required` (402), `usage-paused` (423), `http` (any other HTTP error);
 * - `network` (the server could not be reached, or the connection broke and retries ran out);
 * - `malformed` (a response that does not have the documented shape);
 * - `unsupported` (a model or preprocessing this library cannot run, such as a "Fill (with center crop)" resize);
 * - `integrity` (the downloaded bytes do not match the published md5/sha-256 or size);
 * - `aborted` (the caller's AbortSignal fired, or the pipeline was terminated while loading).
 */
export type ModelErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'payment-required'
  | 'usage-paused'
  | 'http'
  | 'network'
  | 'malformed'
  | 'unsupported'
  | 'integrity'
  | 'aborted';

/**
 * A model could not be resolved or downloaded. `name` stays `"ModelError"` (it is one), `code` says which
 * problem it was, and `status` carries the HTTP status where there was one.
 */
export class ModelLoadError extends ModelError {
  /** Which problem this was; see {@link ModelErrorCode}. */
  readonly code: ModelErrorCode;
  /** The HTTP status, for `unauthorized`, `forbidden`, `not-found`, `payment-required`, `usage-paused` and `http`. */
  readonly status?: number;

  constructor(code: ModelErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  410: 'Gone',
  416: 'Range Not Satisfiable',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `HTTP 404 Not Found`, with the standard reason phrase (HTTP/2 responses carry none). */
export function httpStatusText(status: number, statusText = ''): string {
  const reason = statusText.trim() || STATUS_TEXT[status] || '';
  return `HTTP ${status}${reason ? ` ${reason}` : ''}`;
}

/** Who answered, for messages: the Roboflow API, the model hub, or the server a model URL points at. */
export type ModelService = 'Roboflow API' | 'model hub' | 'model server';

/** What a failed request was about, for messages. `endpoint` is a URL without its query string. */
export interface RequestContext {
  service: ModelService;
  /** The model as the user named it (alias, `dataset/version`, URL without credentials). */
  model: string;
  /** The URL that failed, without query string or credentials. */
  endpoint: string;
  /** What was expected to exist there, for 404s: "an existing dataset/version", "an ONNX file". */
  expected?: string;
}

/** Maps an HTTP error status to a ModelLoadError whose message names the problem and the fix. */
export function statusError(status: number, statusText: string, context: RequestContext, serverSays?: string): ModelLoadError {
  const http = httpStatusText(status, statusText);
  const said = serverSays ? `; the server says: ${serverSays}` : '';
  const { service, model, endpoint } = context;
  const subject = service === 'model server' ? `could not fetch the model at ${endpoint}` : `${service} (${endpoint})`;
  const roboflow = service === 'Roboflow API';
  switch (status) {
    case 401:
      return new ModelLoadError(
        'unauthorized',
        roboflow
          ? `${subject}: ${http} — the API key was rejected for "${model}": expected a valid Roboflow API key in apiKey (the key itself is never shown)${said}`
          : `${subject}: ${http} — "${model}" needs authentication: expected a public file (private or gated repositories are not supported)${said}`,
        { status },
      );
    case 403:
      return new ModelLoadError(
        'forbidden',
        roboflow
          ? `${subject}: ${http} — access to "${model}" is forbidden: expected an API key of a workspace that can use this model${said}`
          : `${subject}: ${http} — access to "${model}" is forbidden: expected a public file${said}`,
        { status },
      );
    case 404:
      return new ModelLoadError(
        'not-found',
        `${subject}: ${http} — unknown model "${model}": expected ${context.expected ?? 'an existing model'}${said}`,
        { status },
      );
    case 402:
      return new ModelLoadError(
        'payment-required',
        `${subject}: ${http} — payment required for "${model}": the workspace's plan or credits do not cover this request${said}`,
        { status },
      );
    case 423:
      return new ModelLoadError(
        'usage-paused',
        `${subject}: ${http} — usage is paused for "${model}": the workspace is locked until its usage or billing is resumed${said}`,
        { status },
      );
    default:
      return new ModelLoadError('http', `${subject}: ${http} while loading "${model}"${said}`, { status });
  }
}

/** The error for a request that never got an answer (offline, DNS, refused connection, CORS). */
export function networkError(context: RequestContext, cause: unknown): ModelLoadError {
  const where = context.service === 'model server' ? `the model at ${context.endpoint}` : `the ${context.service} at ${context.endpoint}`;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ModelLoadError(
    'network',
    `could not reach ${where} for "${context.model}": ${detail} (network down, wrong ${context.service === 'Roboflow API' ? 'apiUrl' : context.service === 'model hub' ? 'hubUrl' : 'URL'}, or blocked by CORS)`,
    { cause },
  );
}

/** The error for a response whose body does not have the documented shape. */
export function malformedError(context: RequestContext, expected: string, got: string): ModelLoadError {
  return new ModelLoadError('malformed', `${context.service} answered ${context.endpoint} with a malformed response for "${context.model}": expected ${expected}, got ${got}`);
}

/** The error for an AbortSignal that fired. */
export function abortedError(what: string): ModelLoadError {
  return new ModelLoadError('aborted', `loading ${what} was aborted`);
}
