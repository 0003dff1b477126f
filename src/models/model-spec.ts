/**
 * Model references (what users write) and model specs (what the worker needs), and the cheap synchronous check
 * that turns a reference into a {@link ParsedReference} without touching the network.
 */
import type { ResizeMode, StaticCrop } from '../inference/resize-transform.ts';
import { endpointOf, sanitizeUrl } from './redaction.ts';

/** The RF-DETR sizes, named like Roboflow's model aliases. */
export type RfDetrAlias = 'rfdetr-nano' | 'rfdetr-small' | 'rfdetr-medium' | 'rfdetr-base' | 'rfdetr-large';

/**
 * Which ONNX variant of a hub model to download (transformers.js naming): `fp32` is `onnx/model.onnx`,
 * `fp16` is `onnx/model_fp16.onnx` (needs WebGPU's `shader-f16`; falls back to fp32 with a status event),
 * `q8` is `onnx/model_quantized.onnx` (8-bit weights). Roboflow's registry package is picked by the same name.
 */
export type ModelDtype = 'fp32' | 'fp16' | 'q8';

/** What a local or URL model may state about itself; anything omitted is read from the ONNX file or defaulted. */
export interface ModelOverrides {
  /** Square input side in pixels; read from the ONNX input shape when omitted. */
  inputSize?: number;
  /** Class names indexed by class id; COCO-91 names are used for 91-class heads when omitted. */
  classNames?: string[];
  /** Per-channel mean in 0..1 RGB. Default: ImageNet [0.485, 0.456, 0.406]. */
  mean?: [number, number, number];
  /** Per-channel std in 0..1 RGB. Default: ImageNet [0.229, 0.224, 0.225]. */
  std?: [number, number, number];
  /** 'stretch' (default, RF-DETR's own preprocessing) or 'letterbox' (aspect kept, padded with `padGrey`). */
  resize?: ResizeMode;
  /** Static crop in percent of the frame, applied before resizing; boxes are mapped back to the full frame. */
  staticCrop?: StaticCrop;
  /** Letterbox padding grey level 0..255 (0 black, 114 grey, 255 white). Default 0. */
  padGrey?: number;
}

/** A model given by URL. Its bytes are cached in IndexedDB under the URL (credentials stripped) plus `version`. */
export interface ModelUrlReference extends ModelOverrides {
  /** Where the ONNX file is served (absolute, or relative to the page). */
  url: string;
  /** Part of the cache key: change it when the file at the same URL changes. Default '' (the URL alone). */
  version?: string;
  /** Expected SHA-256 of the file, 64 hex digits; the download fails with code `integrity` when it differs. */
  sha256?: string;
  /** Expected MD5 of the file, 32 hex digits; checked like `sha256`. */
  md5?: string;
}

/** A model whose bytes the caller already has (a `File` from an `<input>`, a fetched `ArrayBuffer`). Never cached. */
export interface ModelDataReference extends ModelOverrides {
  /** The ONNX bytes. */
  data: Blob | ArrayBuffer | ArrayBufferView;
  /** A name for messages. Default: the File's name, else "local model". */
  name?: string;
  /** Always absent: a data reference has no URL. */
  url?: undefined;
}

/**
 * A model, as users name it:
 * - an RF-DETR alias (`'rfdetr-nano'` … `'rfdetr-large'`): through Roboflow's API (coco/38, 39, 40, 36, 50) when
 *   an `apiKey` is given, else the public ONNX export on the model hub (`onnx-community/rfdetr_<size>-ONNX`);
 * - a Roboflow `'dataset/version'` (needs `apiKey`);
 * - `{ url, ... }` for an ONNX file anywhere;
 * - `{ data, ... }` for bytes the page already has. (At run time a bare `File`, `Blob` or `ArrayBuffer` is accepted too.)
 */
export type ModelReference = RfDetrAlias | (string & {}) | ModelUrlReference | ModelDataReference;

/** Where a model came from. */
export type ModelSourceKind = 'roboflow' | 'hub' | 'url' | 'local';

/** A fully resolved model: everything the inference worker needs besides the bytes. Stored in the cache as is. */
export interface ModelSpec {
  /** The cache identity: `roboflow:<apiUrl>/<dataset>/<version>`, `hub:<hubUrl>/<repo>@<revision>/<file>`, `url:<url>`, or `local:<name>`. */
  id: string;
  /** The model as the user named it: alias, `dataset/version`, URL (credentials stripped) or file name. */
  reference: string;
  /** Where the model came from: Roboflow's API, the hub, a URL, or bytes in the page. */
  source: ModelSourceKind;
  /** Where the bytes come from, credentials and signatures stripped (for messages and listings). */
  url: string;
  /** Square input side in pixels, when known before loading; else read from the ONNX input shape. */
  inputSize?: number;
  /** Class names indexed by class id. */
  classNames?: string[];
  /** Per-channel mean in 0..1 RGB. */
  mean: [number, number, number];
  /** Per-channel std in 0..1 RGB. */
  std: [number, number, number];
  /** 'stretch' to the square input, or 'letterbox' (aspect kept, padded with `padGrey`, boxes mapped back through the padding). */
  resize: ResizeMode;
  /** Static crop in percent, applied before resizing. */
  staticCrop?: StaticCrop;
  /** Letterbox padding grey level 0..255. */
  padGrey: number;
  /** The ONNX variant, for hub and registry models. */
  dtype?: ModelDtype;
  /** Class colours (`#rrggbb` by class name) when the source publishes them (Roboflow's COLORS). */
  colors?: Record<string, string>;
}

/** Base URL of Roboflow's API, used when `apiUrl` is not given. */
export const DEFAULT_API_URL = 'https://api.roboflow.com';
/** Base URL of the model hub, used when `hubUrl` is not given. */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Per alias: the input size, Roboflow's model id (used with an API key) and the hub repository (used without). */
export const RFDETR_ALIASES: Readonly<Record<RfDetrAlias, { inputSize: number; roboflowId: string; hubRepo: string }>> = Object.freeze({
  'rfdetr-nano': { inputSize: 384, roboflowId: 'coco/38', hubRepo: 'onnx-community/rfdetr_nano-ONNX' },
  'rfdetr-small': { inputSize: 512, roboflowId: 'coco/39', hubRepo: 'onnx-community/rfdetr_small-ONNX' },
  'rfdetr-medium': { inputSize: 576, roboflowId: 'coco/40', hubRepo: 'onnx-community/rfdetr_medium-ONNX' },
  'rfdetr-base': { inputSize: 560, roboflowId: 'coco/36', hubRepo: 'onnx-community/rfdetr_base-ONNX' },
  'rfdetr-large': { inputSize: 704, roboflowId: 'coco/50', hubRepo: 'onnx-community/rfdetr_large-ONNX' },
});

/** ImageNet normalisation, RF-DETR's default. */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet normalisation, RF-DETR's default. */
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** The hub revision aliases resolve at. */
export const HUB_REVISION = 'main';

/** Hub file per dtype (the onnx-community layout). */
export const HUB_DTYPE_FILES: Readonly<Record<ModelDtype, string>> = Object.freeze({
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
});

/** Where and how to resolve a reference. */
export interface ModelLocation {
  /** Roboflow API key; makes aliases resolve through Roboflow and is required for `dataset/version`. */
  apiKey?: string;
  /** Roboflow API base URL. Default {@link DEFAULT_API_URL}. */
  apiUrl?: string;
  /** Model hub base URL. Default {@link DEFAULT_HUB_URL}. */
  hubUrl?: string;
  /** Hub variant / registry quantization. Default 'fp32'. */
  dtype?: ModelDtype;
  /** Base for relative model URLs. Default: the page's URL. */
  baseUrl?: string;
}

/** A reference checked and normalised, before any network access. */
export type ParsedReference =
  | { kind: 'roboflow'; id: string; reference: string; dataset: string; version: number; apiUrl: string; dtype: ModelDtype }
  | { kind: 'hub'; id: string; reference: string; alias: RfDetrAlias; hubUrl: string; repo: string; revision: string; file: string; dtype: ModelDtype }
  | { kind: 'url'; id: string; reference: string; url: string; version: string; sha256?: string; md5?: string; overrides: ModelOverrides }
  | { kind: 'local'; id: string; reference: string; data: Blob | ArrayBuffer | ArrayBufferView; overrides: ModelOverrides };

const DATASET_VERSION = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\/([0-9]+)$/;
const DTYPES: readonly ModelDtype[] = ['fp32', 'fp16', 'q8'];

function isAlias(value: string): value is RfDetrAlias {
  return Object.prototype.hasOwnProperty.call(RFDETR_ALIASES, value);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  try {
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 120)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Checks a base URL option and returns it without trailing slashes, query or credentials. */
function baseUrlOption(name: 'apiUrl' | 'hubUrl', value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  let parsed: URL | undefined;
  try {
    parsed = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new TypeError(`${name} must be an absolute http(s) URL, got ${describeValue(typeof value === 'string' ? endpointOf(value) : value)}`);
  }
  return endpointOf(parsed.href).replace(/\/+$/, '');
}

function checkTriple(path: string, value: unknown): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new TypeError(`${path} must be three finite numbers, got ${describeValue(value)}`);
  }
  return [value[0], value[1], value[2]];
}

/** Checks the optional fields every URL or data reference may carry. Throws TypeError naming the field. */
export function checkOverrides(o: ModelOverrides, path = 'modelId'): ModelOverrides {
  if (o.resize !== undefined && o.resize !== 'stretch' && o.resize !== 'letterbox') {
    throw new TypeError(`${path}.resize must be "stretch" or "letterbox", got ${describeValue(o.resize)}`);
  }
  if (o.inputSize !== undefined && !(Number.isInteger(o.inputSize) && o.inputSize > 0)) {
    throw new TypeError(`${path}.inputSize must be a positive integer, got ${describeValue(o.inputSize)}`);
  }
  if (o.padGrey !== undefined && !(typeof o.padGrey === 'number' && o.padGrey >= 0 && o.padGrey <= 255)) {
    throw new TypeError(`${path}.padGrey must be a number in [0, 255], got ${describeValue(o.padGrey)}`);
  }
  if (o.classNames !== undefined && !(Array.isArray(o.classNames) && o.classNames.every((n) => typeof n === 'string'))) {
    throw new TypeError(`${path}.classNames must be an array of strings, got ${describeValue(o.classNames)}`);
  }
  if (o.staticCrop !== undefined) checkStaticCrop(o.staticCrop, `${path}.staticCrop`);
  return {
    inputSize: o.inputSize,
    classNames: o.classNames,
    mean: checkTriple(`${path}.mean`, o.mean),
    std: checkTriple(`${path}.std`, o.std),
    resize: o.resize,
    staticCrop: o.staticCrop,
    padGrey: o.padGrey,
  };
}

/** Throws TypeError unless `crop` is four percentages with min < max. */
export function checkStaticCrop(crop: unknown, path: string): StaticCrop {
  const c = crop as Partial<StaticCrop> | null;
  const ok =
    typeof c === 'object' &&
    c !== null &&
    (['xMin', 'yMin', 'xMax', 'yMax'] as const).every((k) => typeof c[k] === 'number' && c[k]! >= 0 && c[k]! <= 100) &&
    c.xMin! < c.xMax! &&
    c.yMin! < c.yMax!;
  if (!ok) throw new TypeError(`${path} must be { xMin, yMin, xMax, yMax } in percent (0..100) with min < max, got ${describeValue(crop)}`);
  return { xMin: c.xMin!, yMin: c.yMin!, xMax: c.xMax!, yMax: c.yMax! };
}

function checkHex(path: string, value: unknown, digits: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(value)) {
    throw new TypeError(`${path} must be ${digits} hex digits, got ${describeValue(value)}`);
  }
  return value.toLowerCase();
}

function isBytes(value: unknown): value is Blob | ArrayBuffer | ArrayBufferView {
  return (typeof Blob !== 'undefined' && value instanceof Blob) || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function byteLength(data: Blob | ArrayBuffer | ArrayBufferView): number {
  return typeof Blob !== 'undefined' && data instanceof Blob ? data.size : (data as ArrayBuffer | ArrayBufferView).byteLength;
}

const KNOWN = `expected one of ${Object.keys(RFDETR_ALIASES).join(', ')}, a Roboflow "dataset/version" (with apiKey), { url } or { data }`;

/**
 * Checks a model reference and its options and normalises them, without any network access.
 * Throws TypeError naming the option and the value on bad input (never printing the API key).
 */
export function parseModelReference(reference: unknown, location: ModelLocation = {}): ParsedReference {
  const { apiKey } = location;
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey.trim() === '')) {
    throw new TypeError(`apiKey must be a non-empty string, got ${apiKey === '' ? 'an empty string' : typeof apiKey}`);
  }
  const dtype = location.dtype ?? 'fp32';
  if (!DTYPES.includes(dtype)) throw new TypeError(`dtype must be one of ${DTYPES.join(', ')}, got ${describeValue(location.dtype)}`);
  const apiUrl = baseUrlOption('apiUrl', location.apiUrl, DEFAULT_API_URL);
  const hubUrl = baseUrlOption('hubUrl', location.hubUrl, DEFAULT_HUB_URL);

  if (typeof reference === 'string') {
    if (isAlias(reference)) {
      const alias = RFDETR_ALIASES[reference];
      if (apiKey) {
        const [dataset, version] = alias.roboflowId.split('/') as [string, string];
        return { kind: 'roboflow', id: `roboflow:${apiUrl}/${alias.roboflowId}`, reference, dataset, version: Number(version), apiUrl, dtype };
      }
      const file = HUB_DTYPE_FILES[dtype];
      return {
        kind: 'hub',
        id: `hub:${hubUrl}/${alias.hubRepo}@${HUB_REVISION}/${file}`,
        reference,
        alias: reference,
        hubUrl,
        repo: alias.hubRepo,
        revision: HUB_REVISION,
        file,
        dtype,
      };
    }
    const match = DATASET_VERSION.exec(reference);
    if (match) {
      if (!apiKey) {
        throw new TypeError(`modelId "${reference}" is a Roboflow dataset/version and needs apiKey: pass your Roboflow API key, or use an RF-DETR alias or { url }`);
      }
      return { kind: 'roboflow', id: `roboflow:${apiUrl}/${reference}`, reference, dataset: match[1]!, version: Number(match[2]), apiUrl, dtype };
    }
    if (/^[^/]+\/[^/]+$/.test(reference)) {
      throw new TypeError(`modelId "${reference}" is not a valid Roboflow model id: expected "dataset/version" with an integer version, such as "my-project/3"`);
    }
    throw new TypeError(`modelId ${describeValue(reference)} is not a known model: ${KNOWN}`);
  }

  if (isBytes(reference)) {
    const name = typeof File !== 'undefined' && reference instanceof File ? reference.name : 'local model';
    return { kind: 'local', id: `local:${name}:${byteLength(reference)}`, reference: name, data: reference, overrides: {} };
  }
  if (typeof reference !== 'object' || reference === null) throw new TypeError(`modelId must be a string or an object, got ${describeValue(reference)}: ${KNOWN}`);

  const r = reference as Partial<ModelUrlReference> & Partial<Omit<ModelDataReference, 'url'>>;
  if (r.data !== undefined) {
    if (r.url !== undefined) throw new TypeError('modelId has both url and data: expected one of them');
    if (!isBytes(r.data)) throw new TypeError(`modelId.data must be a Blob, File, ArrayBuffer or typed array, got ${describeValue(r.data)}`);
    if (r.name !== undefined && typeof r.name !== 'string') throw new TypeError(`modelId.name must be a string, got ${describeValue(r.name)}`);
    const name = r.name ?? (typeof File !== 'undefined' && r.data instanceof File ? r.data.name : 'local model');
    return { kind: 'local', id: `local:${name}:${byteLength(r.data)}`, reference: name, data: r.data, overrides: checkOverrides(r) };
  }
  if (typeof r.url !== 'string' || r.url === '') {
    throw new TypeError(`modelId must be an RF-DETR alias, a "dataset/version", { url: string } or { data }, got ${describeValue(reference)}`);
  }
  if (r.version !== undefined && typeof r.version !== 'string') throw new TypeError(`modelId.version must be a string, got ${describeValue(r.version)}`);
  const base = location.baseUrl ?? globalThis.location?.href;
  let absolute: string;
  try {
    absolute = base ? new URL(r.url, base).href : new URL(r.url).href;
  } catch {
    throw new TypeError(`modelId.url must be a URL (absolute, or relative to the page), got ${describeValue(endpointOf(r.url))}`);
  }
  const overrides = checkOverrides(r);
  const sha256 = checkHex('modelId.sha256', r.sha256, 64);
  const md5 = checkHex('modelId.md5', r.md5, 32);
  const version = r.version ?? '';
  if (absolute.startsWith('data:')) {
    // A data: URL is its own bytes: name it by its length rather than repeating it in every message.
    const reference = `data: URL (${absolute.length} characters)`;
    return { kind: 'url', id: `url:${reference}`, reference, url: absolute, version, sha256, md5, overrides };
  }
  const clean = sanitizeUrl(absolute, apiKey);
  return { kind: 'url', id: `url:${clean}${version ? `#${version}` : ''}`, reference: clean, url: absolute, version, sha256, md5, overrides };
}

/**
 * The cheap shape check `InferencePipeline.init` runs: throws TypeError for a malformed reference or option,
 * makes no request.
 */
export function checkModelReference(reference: unknown, location: ModelLocation = {}): void {
  parseModelReference(reference, location);
}

/** The spec for a URL or local model: the overrides over the defaults. */
export function specFromOverrides(base: Pick<ModelSpec, 'id' | 'reference' | 'source' | 'url'>, o: ModelOverrides): ModelSpec {
  return {
    ...base,
    inputSize: o.inputSize,
    classNames: o.classNames,
    mean: o.mean ?? IMAGENET_MEAN,
    std: o.std ?? IMAGENET_STD,
    resize: o.resize ?? 'stretch',
    staticCrop: o.staticCrop,
    padGrey: o.padGrey ?? 0,
  };
}
