/**
 * Public ONNX exports on a Hugging Face-style hub, in the `onnx-community/rfdetr_<size>-ONNX` layout:
 * `{hub}/{repo}/resolve/{revision}/onnx/model{,_fp16,_quantized}.onnx`, `config.json` (`id2label`) and
 * `preprocessor_config.json` (`size`, `image_mean`, `image_std`, rescaling). The parsers are pure.
 */
import type { RequestContext } from './model-errors.ts';
import { ModelLoadError } from './model-errors.ts';
import { fetchJson } from './model-http.ts';
import type { ModelSpec, ParsedReference } from './model-spec.ts';
import { IMAGENET_MEAN, IMAGENET_STD, RFDETR_ALIASES } from './model-spec.ts';
import type { ResolvedModel, ResolveContext } from './model-registry.ts';

type HubRef = Extract<ParsedReference, { kind: 'hub' }>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The URL of a file in a hub repository at a revision. */
export function hubFileUrl(hubUrl: string, repo: string, revision: string, path: string): string {
  return `${hubUrl.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** Class names from `config.json`'s `id2label` (`{"0": "N/A", "1": "person", …}`); gaps become `class_<id>`. */
export function parseHubConfig(json: unknown): { classNames?: string[] } {
  if (!isObject(json) || !isObject(json.id2label)) return {};
  const map = json.id2label;
  const ids = Object.keys(map).filter((k) => /^\d+$/.test(k) && typeof map[k] === 'string');
  if (ids.length === 0) return {};
  const max = Math.max(...ids.map(Number));
  return { classNames: Array.from({ length: max + 1 }, (_, i) => (typeof map[String(i)] === 'string' ? (map[String(i)] as string) : `class_${i}`)) };
}

function triple(value: unknown): [number, number, number] | undefined {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v)) ? [value[0], value[1], value[2]] : undefined;
}

/**
 * Input size and normalisation from `preprocessor_config.json`. `size` may be `{height, width}` (square only),
 * `{shortest_edge}` or a number. Mean and std are returned for pixels scaled to 0..1: the processor computes
 * `(p · rescale − mean) / std`, which equals `(p/255 − mean/(255·rescale)) / (std/(255·rescale))`.
 */
export function parsePreprocessorConfig(json: unknown): { inputSize?: number; mean?: [number, number, number]; std?: [number, number, number] } {
  if (!isObject(json)) return {};
  let inputSize: number | undefined;
  const size = json.size;
  if (typeof size === 'number') inputSize = size;
  else if (isObject(size)) {
    if (typeof size.height === 'number' && size.height === size.width) inputSize = size.height;
    else if (typeof size.shortest_edge === 'number' && size.longest_edge === undefined) inputSize = size.shortest_edge;
  }
  if (inputSize !== undefined && !(Number.isInteger(inputSize) && inputSize > 0)) inputSize = undefined;
  const rescale = json.do_rescale === false ? 1 : typeof json.rescale_factor === 'number' && json.rescale_factor > 0 ? json.rescale_factor : 1 / 255;
  const normalise = json.do_normalize !== false;
  const mean = normalise ? (triple(json.image_mean) ?? IMAGENET_MEAN) : ([0, 0, 0] as [number, number, number]);
  const std = normalise ? (triple(json.image_std) ?? IMAGENET_STD) : ([1, 1, 1] as [number, number, number]);
  if (std.some((v) => v === 0)) return { inputSize };
  const k = 255 * rescale;
  return { inputSize, mean: mean.map((v) => v / k) as [number, number, number], std: std.map((v) => v / k) as [number, number, number] };
}

/** Fetches an optional JSON file: 404 → undefined; other failures throw. */
async function optionalJson(url: string, context: RequestContext, ctx: ResolveContext): Promise<unknown> {
  try {
    return await fetchJson(url, context, 'JSON', { signal: ctx.signal, fetch: ctx.fetch });
  } catch (error) {
    if (error instanceof ModelLoadError && error.code === 'not-found') return undefined;
    throw error;
  }
}

/** Resolves an alias on the hub: reads `config.json` and `preprocessor_config.json` (both optional). */
export async function resolveHub(p: HubRef, ctx: ResolveContext): Promise<ResolvedModel> {
  const file = (path: string) => hubFileUrl(p.hubUrl, p.repo, p.revision, path);
  const context = (path: string): RequestContext => ({ service: 'model hub', model: p.reference, endpoint: file(path), expected: `${path} in ${p.repo}` });
  const config = parseHubConfig(await optionalJson(file('config.json'), context('config.json'), ctx));
  const pre = parsePreprocessorConfig(await optionalJson(file('preprocessor_config.json'), context('preprocessor_config.json'), ctx));
  const url = file(p.file);
  const spec: ModelSpec = {
    id: p.id,
    reference: p.reference,
    source: 'hub',
    url,
    inputSize: pre.inputSize ?? RFDETR_ALIASES[p.alias].inputSize,
    classNames: config.classNames,
    mean: pre.mean ?? IMAGENET_MEAN,
    std: pre.std ?? IMAGENET_STD,
    resize: 'stretch',
    padGrey: 0,
    dtype: p.dtype,
  };
  return {
    spec,
    download: { url, cacheKey: `${url}#${p.revision}`, version: p.revision },
    notices: [],
    context: { ...context(p.file), expected: `${p.file} in ${p.repo} (the onnx-community layout)` },
  };
}
