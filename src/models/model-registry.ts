/**
 * The registry: turns a parsed reference into a {@link ResolvedModel} (the spec plus where to download the bytes),
 * asking Roboflow's API or the hub where needed. URL references resolve without any request.
 */
import { resolveHub } from './hub-registry.ts';
import type { RequestContext } from './model-errors.ts';
import { specFromOverrides, type ModelSpec, type ParsedReference } from './model-spec.ts';
import { resolveRoboflow } from './roboflow-api.ts';

/** A non-fatal remark made while resolving, turned into a status event. */
export interface ModelNotice {
  severity: 'info' | 'warning';
  message: string;
  payload?: Record<string, unknown>;
}

/** Where a model's bytes come from. `url` may be signed and is never stored or shown; `cacheKey` is. */
export interface ResolvedDownload {
  /** The URL to fetch, possibly with a signature. Not stored, not logged. */
  url: string;
  /** The IndexedDB identity of the bytes: the URL without credentials or signatures, `#` the version. */
  cacheKey: string;
  /** Roboflow's `dataset/version`, the hub revision, or the URL reference's `version`. */
  version: string;
  /** Expected MD5 (32 hex), when the source publishes one. */
  md5?: string;
  /** Expected SHA-256 (64 hex), when the source publishes one. */
  sha256?: string;
}

/** A reference resolved: the spec, the download, and what to tell the user. */
export interface ResolvedModel {
  spec: ModelSpec;
  download: ResolvedDownload;
  notices: ModelNotice[];
  /** For messages about the download itself. */
  context: RequestContext;
}

/** What resolution may use. */
export interface ResolveContext {
  apiKey?: string;
  signal?: AbortSignal;
  /** `fetch` to use (tests). Default: the global one. */
  fetch?: typeof fetch;
}

/** Resolves `parsed` (not `local`, which has no download) to a spec and a download. */
export async function resolveModel(parsed: Exclude<ParsedReference, { kind: 'local' }>, ctx: ResolveContext): Promise<ResolvedModel> {
  switch (parsed.kind) {
    case 'roboflow':
      return resolveRoboflow(parsed, ctx);
    case 'hub':
      return resolveHub(parsed, ctx);
    case 'url': {
      const spec = specFromOverrides({ id: parsed.id, reference: parsed.reference, source: 'url', url: parsed.reference }, parsed.overrides);
      return {
        spec,
        download: {
          url: parsed.url,
          cacheKey: `${parsed.reference}#${parsed.version}`,
          version: parsed.version,
          md5: parsed.md5,
          sha256: parsed.sha256,
        },
        notices: [],
        context: { service: 'model server', model: parsed.reference, endpoint: parsed.reference, expected: 'an ONNX file at that URL' },
      };
    }
  }
}
