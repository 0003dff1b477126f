/**
 * Roboflow's hosted API: the versioned ORT endpoint plus `environment.json`, and the newer
 * `models/v1/external/weights` registry (Bearer header, ONNX package with `inference_config.json`,
 * `class_names.txt` and `md5Hash`es). The parsers are pure so they can be tested without a server.
 *
 * The API key travels only in the ORT query (`api_key`, as that endpoint documents) and the registry's
 * `Authorization` header; it is never part of a message, a cache key or a stored value.
 */
import type { ResizeMode, StaticCrop } from '../inference/resize-transform.ts';
import { ModelLoadError, malformedError, type RequestContext } from './model-errors.ts';
import { describeJson, fetchJson, fetchOk, type MetadataRequest } from './model-http.ts';
import type { ModelDtype, ModelSpec, ParsedReference } from './model-spec.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './model-spec.ts';
import { md5Hex } from './md5.ts';
import type { ModelNotice, ResolvedModel, ResolveContext } from './model-registry.ts';
import { sanitizeUrl } from './redaction.ts';

/** The `device` query parameter the ORT endpoint asks for. */
export const ROBOFLOW_DEVICE_ID = 'framewise-browser';

type RoboflowRef = Extract<ParsedReference, { kind: 'roboflow' }>;

/** Preprocessing read from `environment.json` or `inference_config.json`. */
export interface RoboflowPreprocessing {
  resize: ResizeMode;
  padGrey: number;
  staticCrop?: StaticCrop;
  /** Steps the dataset applies that this library does not (grayscale, contrast): each becomes a warning. */
  ignored: string[];
}

/** The parts of an ORT answer that matter. */
export interface OrtAnswer {
  modelUrl: string;
  environmentUrl?: string;
  classes?: string[];
  colors?: Record<string, string>;
  modelType?: string;
  type?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Grey level of each "Fit (… edges) in" format (Roboflow's `inference` pads grey with 114). */
const FIT_PADDING: Readonly<Record<string, number>> = { black: 0, grey: 114, gray: 114, white: 255 };

/** Parses `{"ort": {...}}`. Throws `malformed` naming what is missing. */
export function parseOrtAnswer(json: unknown, context: RequestContext): OrtAnswer {
  const expected = '{"ort": {"model": "<ONNX URL>", "environment": "<URL>", "classes": [...]}}';
  if (!isObject(json) || !isObject(json.ort)) throw malformedError(context, expected, describeJson(json));
  const ort = json.ort;
  if (typeof ort.model !== 'string' || !/^https?:\/\//.test(ort.model)) {
    throw malformedError(context, `${expected} with an absolute "model" URL`, `"model" is ${describeJson(ort.model)}`);
  }
  if (ort.environment !== undefined && (typeof ort.environment !== 'string' || !/^https?:\/\//.test(ort.environment))) {
    throw malformedError(context, `${expected} with an absolute "environment" URL`, `"environment" is ${describeJson(ort.environment)}`);
  }
  if (ort.classes !== undefined && !isStringArray(ort.classes)) throw malformedError(context, `${expected} with "classes" as strings`, `"classes" is ${describeJson(ort.classes)}`);
  return {
    modelUrl: ort.model,
    environmentUrl: ort.environment as string | undefined,
    classes: ort.classes as string[] | undefined,
    colors: parseColors(ort.colors),
    modelType: typeof ort.modelType === 'string' ? ort.modelType : undefined,
    type: typeof ort.type === 'string' ? ort.type : undefined,
  };
}

function parseColors(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** `{"0": "a", "1": "b"}` → ['a', 'b'] (gaps become `class_<id>`). */
export function classMapToNames(map: unknown): string[] | undefined {
  if (!isObject(map)) return undefined;
  const ids = Object.keys(map).filter((k) => /^\d+$/.test(k) && typeof map[k] === 'string');
  if (ids.length === 0) return undefined;
  const max = Math.max(...ids.map(Number));
  return Array.from({ length: max + 1 }, (_, i) => (typeof map[String(i)] === 'string' ? (map[String(i)] as string) : `class_${i}`));
}

function percent(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

/** Reads a Roboflow static-crop block (`{enabled, x_min, y_min, x_max, y_max}` in percent). */
function parseStaticCrop(block: unknown, context: RequestContext, where: string): StaticCrop | undefined {
  if (!isObject(block) || block.enabled === false || block.enabled === 'false') return undefined;
  const [xMin, yMin, xMax, yMax] = [block.x_min, block.y_min, block.x_max, block.y_max].map(percent);
  if (xMin === undefined || yMin === undefined || xMax === undefined || yMax === undefined || xMin >= xMax || yMin >= yMax) {
    throw malformedError(context, `${where} "static-crop" with x_min < x_max and y_min < y_max in percent (0..100)`, describeJson(block));
  }
  return { xMin, yMin, xMax, yMax };
}

function ignoredSteps(pre: Record<string, unknown>): string[] {
  const ignored: string[] = [];
  for (const step of ['grayscale', 'contrast']) {
    const block = pre[step];
    if (isObject(block) && (block.enabled === true || block.enabled === 'true')) ignored.push(step);
  }
  return ignored;
}

/**
 * Parses `environment.json`: `PREPROCESSING` (an object or a JSON string) with `resize.format`
 * "Stretch to" / "Fit (black|grey|white edges) in" and `static-crop`; `CLASS_MAP`; `COLORS`.
 */
export function parseEnvironment(json: unknown, context: RequestContext): RoboflowPreprocessing & { classNames?: string[]; colors?: Record<string, string> } {
  if (!isObject(json)) throw malformedError(context, 'environment.json as a JSON object with PREPROCESSING and CLASS_MAP', describeJson(json));
  let pre: unknown = json.PREPROCESSING ?? {};
  if (typeof pre === 'string') {
    try {
      pre = JSON.parse(pre) as unknown;
    } catch {
      throw malformedError(context, 'PREPROCESSING as an object or a JSON string', 'a string that is not JSON');
    }
  }
  if (!isObject(pre)) throw malformedError(context, 'PREPROCESSING as an object or a JSON string', describeJson(pre));
  let resize: ResizeMode = 'stretch';
  let padGrey = 0;
  const r = pre.resize;
  if (isObject(r) && r.enabled !== false && r.enabled !== 'false' && r.format !== undefined) {
    if (typeof r.format !== 'string') throw malformedError(context, 'PREPROCESSING.resize.format as a string', describeJson(r.format));
    const fit = /^Fit \((black|grey|gray|white) edges\) in$/i.exec(r.format.trim());
    if (fit) {
      resize = 'letterbox';
      padGrey = FIT_PADDING[fit[1]!.toLowerCase()]!;
    } else if (!/^Stretch to$/i.test(r.format.trim())) {
      throw new ModelLoadError(
        'unsupported',
        `"${context.model}" resizes with "${r.format}", which is not supported: expected "Stretch to" or "Fit (black|grey|white edges) in"`,
      );
    }
  }
  return {
    resize,
    padGrey,
    staticCrop: parseStaticCrop(pre['static-crop'], context, 'PREPROCESSING'),
    ignored: ignoredSteps(pre),
    classNames: classMapToNames(json.CLASS_MAP),
    colors: parseColors(json.COLORS),
  };
}

/** The parts of `inference_config.json` that matter. */
export interface InferenceConfig extends RoboflowPreprocessing {
  /** Square network input, when `training_input_size` is square. */
  inputSize?: number;
  mean: [number, number, number];
  std: [number, number, number];
}

function triple(value: unknown): [number, number, number] | undefined {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v)) ? [value[0], value[1], value[2]] : undefined;
}

/**
 * Parses a registry package's `inference_config.json`: `network_input` (`training_input_size`, `color_mode`,
 * `resize_mode`, `padding_value`, `scaling_factor`, `normalization [[mean],[std]]`) and
 * `image_pre_processing` (`static-crop`, …). Mean and std are returned for pixels scaled to 0..1, whatever
 * scaling the package states: `(p / s − m) / d` equals `(p / 255 − m·s/255) / (d·s/255)`.
 */
export function parseInferenceConfig(json: unknown, context: RequestContext): InferenceConfig {
  const expected = 'inference_config.json with network_input {training_input_size, resize_mode, normalization}';
  if (!isObject(json) || !isObject(json.network_input)) throw malformedError(context, expected, describeJson(json));
  const ni = json.network_input;
  if (ni.color_mode !== undefined && ni.color_mode !== 'rgb') {
    throw new ModelLoadError('unsupported', `"${context.model}" expects ${String(ni.color_mode)} input: expected color_mode "rgb"`);
  }
  let resize: ResizeMode;
  let padGrey = 0;
  const mode = ni.resize_mode ?? 'stretch';
  if (mode === 'stretch') resize = 'stretch';
  else if (mode === 'letterbox') {
    resize = 'letterbox';
    padGrey = typeof ni.padding_value === 'number' && ni.padding_value >= 0 && ni.padding_value <= 255 ? ni.padding_value : 114;
  } else {
    throw new ModelLoadError('unsupported', `"${context.model}" resizes with resize_mode "${String(mode)}", which is not supported: expected "stretch" or "letterbox"`);
  }
  const size = isObject(ni.training_input_size) ? ni.training_input_size : undefined;
  const inputSize = size && Number.isInteger(size.height) && size.height === size.width && (size.height as number) > 0 ? (size.height as number) : undefined;
  const scaling = typeof ni.scaling_factor === 'number' && ni.scaling_factor > 0 ? ni.scaling_factor : 1;
  let mean: [number, number, number] = [0, 0, 0];
  let std: [number, number, number] = [1, 1, 1];
  if (ni.normalization !== undefined && ni.normalization !== null) {
    const n = ni.normalization;
    const m = Array.isArray(n) ? triple(n[0]) : undefined;
    const d = Array.isArray(n) ? triple(n[1]) : undefined;
    if (!m || !d || d.some((v) => v === 0)) throw malformedError(context, 'network_input.normalization as [[mean×3], [std×3]] with non-zero std', describeJson(n));
    mean = m;
    std = d;
  }
  const pre = isObject(json.image_pre_processing) ? json.image_pre_processing : {};
  return {
    inputSize,
    mean: mean.map((v) => (v * scaling) / 255) as [number, number, number],
    std: std.map((v) => (v * scaling) / 255) as [number, number, number],
    resize,
    padGrey,
    staticCrop: parseStaticCrop(pre['static-crop'], context, 'image_pre_processing'),
    ignored: ignoredSteps(pre),
  };
}

/** `class_names.txt`: one name per line, blank lines dropped. */
export function parseClassNames(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** One file of a registry package. */
export interface PackageFile {
  fileHandle: string;
  downloadUrl: string;
  md5Hash?: string;
}

/** The ONNX package picked from a registry answer. */
export interface RegistryPackage {
  packageId: string;
  quantization?: string;
  files: PackageFile[];
  modelArchitecture?: string;
  taskType?: string;
  /** Set when the package does not have the requested quantization. */
  fallbackFrom?: ModelDtype;
}

const QUANTIZATION: Readonly<Record<ModelDtype, string>> = { fp32: 'fp32', fp16: 'fp16', q8: 'int8' };

/**
 * Picks the ONNX package from `{"modelMetadata": {"modelPackages": [...]}}`: the one whose manifest
 * quantization matches `dtype` (fp32, fp16, int8 for q8), else the fp32 one, else the first ONNX package.
 */
export function pickOnnxPackage(json: unknown, dtype: ModelDtype, context: RequestContext): RegistryPackage {
  const expected = '{"modelMetadata": {"modelPackages": [{"packageManifest": {"type": "onnx-model-package-v1"}, "packageFiles": [...]}]}}';
  if (!isObject(json) || !isObject(json.modelMetadata) || !Array.isArray(json.modelMetadata.modelPackages)) throw malformedError(context, expected, describeJson(json));
  const meta = json.modelMetadata;
  const packages = (meta.modelPackages as unknown[]).filter(isObject).filter((p) => {
    const manifest = isObject(p.packageManifest) ? p.packageManifest : {};
    return manifest.type === 'onnx-model-package-v1' || manifest.backendType === 'onnx';
  });
  if (packages.length === 0) {
    throw new ModelLoadError('unsupported', `Roboflow's registry has no ONNX package for "${context.model}": expected a package of type onnx-model-package-v1`);
  }
  const quantization = (p: Record<string, unknown>) => (isObject(p.packageManifest) && typeof p.packageManifest.quantization === 'string' ? p.packageManifest.quantization : undefined);
  const wanted = QUANTIZATION[dtype];
  let chosen = packages.find((p) => quantization(p) === wanted);
  let fallbackFrom: ModelDtype | undefined;
  if (!chosen) {
    chosen = packages.find((p) => quantization(p) === 'fp32') ?? packages[0]!;
    fallbackFrom = dtype;
  }
  const files = Array.isArray(chosen.packageFiles) ? chosen.packageFiles : undefined;
  if (!files || !files.every((f) => isObject(f) && typeof f.fileHandle === 'string' && typeof f.downloadUrl === 'string')) {
    throw malformedError(context, 'packageFiles as [{fileHandle, downloadUrl, md5Hash?}]', describeJson(chosen.packageFiles));
  }
  return {
    packageId: typeof chosen.packageId === 'string' ? chosen.packageId : 'unknown',
    quantization: quantization(chosen),
    files: (files as Record<string, unknown>[]).map((f) => ({
      fileHandle: f.fileHandle as string,
      downloadUrl: f.downloadUrl as string,
      md5Hash: typeof f.md5Hash === 'string' && /^[0-9a-f]{32}$/i.test(f.md5Hash) ? f.md5Hash.toLowerCase() : undefined,
    })),
    modelArchitecture: typeof meta.modelArchitecture === 'string' ? meta.modelArchitecture : undefined,
    taskType: typeof meta.taskType === 'string' ? meta.taskType : undefined,
    fallbackFrom,
  };
}

function checkRfDetr(context: RequestContext, architecture: string | undefined, task: string | undefined): void {
  if (task && !/object[-_ ]?detection/i.test(task)) {
    throw new ModelLoadError('unsupported', `"${context.model}" is a ${task} model: expected an object-detection RF-DETR model`);
  }
  if (architecture && !/rf-?detr/i.test(architecture)) {
    throw new ModelLoadError('unsupported', `"${context.model}" is a ${architecture} model: expected RF-DETR (this library runs RF-DETR's ONNX export only)`);
  }
}

function label(p: RoboflowRef): string {
  const id = `${p.dataset}/${p.version}`;
  return p.reference === id ? id : `${p.reference} (${id})`;
}

function ignoredNotices(model: string, ignored: string[]): ModelNotice[] {
  return ignored.map((step) => ({
    severity: 'warning' as const,
    message: `"${model}" was trained with ${step} preprocessing, which this library does not apply: predictions may be less accurate`,
    payload: { stage: 'preprocessing', step },
  }));
}

/** Resolves through the versioned ORT endpoint and `environment.json`. */
export async function resolveViaOrt(p: RoboflowRef, ctx: ResolveContext & { apiKey: string }): Promise<ResolvedModel> {
  const model = label(p);
  const path = `${p.apiUrl}/ort/${encodeURIComponent(p.dataset)}/${p.version}`;
  const context: RequestContext = { service: 'Roboflow API', model, endpoint: path, expected: 'an existing dataset/version with a trained model' };
  const request: MetadataRequest = { signal: ctx.signal, secret: ctx.apiKey, fetch: ctx.fetch };
  const query = new URLSearchParams({ nocache: 'true', device: ROBOFLOW_DEVICE_ID, dynamic: 'true', api_key: ctx.apiKey });
  const answer = parseOrtAnswer(await fetchJson(`${path}?${query}`, context, '{"ort": {...}} as JSON', request), context);
  checkRfDetr(context, answer.modelType, answer.type);
  let environment: ReturnType<typeof parseEnvironment> | undefined;
  if (answer.environmentUrl) {
    const envContext: RequestContext = { service: 'Roboflow API', model, endpoint: sanitizeUrl(answer.environmentUrl, ctx.apiKey).split('?')[0]!, expected: 'the environment.json the ORT answer points at' };
    environment = parseEnvironment(await fetchJson(answer.environmentUrl, envContext, 'environment.json as JSON', request), envContext);
  }
  const url = sanitizeUrl(answer.modelUrl, ctx.apiKey);
  const spec: ModelSpec = {
    id: p.id,
    reference: p.reference,
    source: 'roboflow',
    url,
    classNames: answer.classes ?? environment?.classNames,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    resize: environment?.resize ?? 'stretch',
    staticCrop: environment?.staticCrop,
    padGrey: environment?.padGrey ?? 0,
    colors: answer.colors ?? environment?.colors,
  };
  const notices = ignoredNotices(model, environment?.ignored ?? []);
  if (p.dtype !== 'fp32') {
    notices.push({ severity: 'info', message: `dtype "${p.dtype}" does not apply to Roboflow's ORT export of "${model}": it has one variant`, payload: { stage: 'dtype', dtype: p.dtype } });
  }
  return {
    spec,
    download: { url: answer.modelUrl, cacheKey: `${url}#${p.dataset}/${p.version}`, version: `${p.dataset}/${p.version}` },
    notices,
    context: { service: 'Roboflow API', model, endpoint: url.split('?')[0]!, expected: 'the ONNX file the ORT answer points at' },
  };
}

/** Resolves through `models/v1/external/weights` (Bearer header), following `nextPage` up to 10 pages. */
export async function resolveViaRegistry(p: RoboflowRef, ctx: ResolveContext & { apiKey: string }): Promise<ResolvedModel> {
  const model = label(p);
  const endpoint = `${p.apiUrl}/models/v1/external/weights`;
  const context: RequestContext = { service: 'Roboflow API', model, endpoint, expected: 'a model registered in models/v1/external/weights' };
  const request: MetadataRequest = { signal: ctx.signal, secret: ctx.apiKey, fetch: ctx.fetch, headers: { Authorization: `Bearer ${ctx.apiKey}` } };
  const pages: unknown[] = [];
  let startAfter: string | undefined;
  for (let page = 0; page < 10; page++) {
    const query = new URLSearchParams({ modelId: `${p.dataset}/${p.version}` });
    if (startAfter) query.set('startAfter', startAfter);
    const json = await fetchJson(`${endpoint}?${query}`, context, '{"modelMetadata": {...}} as JSON', request);
    pages.push(json);
    const next = isObject(json) && isObject(json.modelMetadata) ? json.modelMetadata.nextPage : undefined;
    if (typeof next !== 'string' || next === '') break;
    startAfter = next;
  }
  const merged = mergePages(pages);
  const pkg = pickOnnxPackage(merged, p.dtype, context);
  checkRfDetr(context, pkg.modelArchitecture, pkg.taskType);
  const file = (name: string) => pkg.files.find((f) => f.fileHandle === name || f.fileHandle.endsWith(`/${name}`));
  const weights = file('weights.onnx') ?? pkg.files.find((f) => f.fileHandle.endsWith('.onnx'));
  if (!weights) throw malformedError(context, 'an ONNX package with weights.onnx', `files ${pkg.files.map((f) => f.fileHandle).join(', ') || 'none'}`);
  const fetchChecked = async (f: PackageFile): Promise<string> => {
    const fileContext: RequestContext = { service: 'Roboflow API', model, endpoint: sanitizeUrl(f.downloadUrl, ctx.apiKey).split('?')[0]!, expected: `the ${f.fileHandle} the registry lists` };
    const response = await fetchOk(f.downloadUrl, fileContext, { signal: ctx.signal, secret: ctx.apiKey, fetch: ctx.fetch });
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (f.md5Hash && md5Hex(bytes) !== f.md5Hash) {
      throw new ModelLoadError('integrity', `${f.fileHandle} of "${model}" does not match its md5Hash ${f.md5Hash}: the download is corrupt`);
    }
    return new TextDecoder().decode(bytes);
  };
  const namesFile = file('class_names.txt');
  const configFile = file('inference_config.json');
  const classNames = namesFile ? parseClassNames(await fetchChecked(namesFile)) : undefined;
  let config: InferenceConfig | undefined;
  if (configFile) {
    const configContext: RequestContext = { ...context, endpoint: 'inference_config.json' };
    const text = await fetchChecked(configFile);
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      throw malformedError(configContext, 'inference_config.json as JSON', `${text.length} bytes that are not JSON`);
    }
    config = parseInferenceConfig(json, configContext);
  }
  const url = sanitizeUrl(weights.downloadUrl, ctx.apiKey);
  const notices = ignoredNotices(model, config?.ignored ?? []);
  if (pkg.fallbackFrom && pkg.fallbackFrom !== 'fp32') {
    notices.push({
      severity: 'warning',
      message: `Roboflow's registry has no ${p.dtype} package for "${model}": using the ${pkg.quantization ?? 'default'} one`,
      payload: { stage: 'dtype-fallback', requested: p.dtype, used: pkg.quantization },
    });
  }
  const dtype: ModelDtype | undefined = pkg.quantization === 'fp16' ? 'fp16' : pkg.quantization === 'int8' ? 'q8' : pkg.quantization === 'fp32' ? 'fp32' : undefined;
  const spec: ModelSpec = {
    id: p.id,
    reference: p.reference,
    source: 'roboflow',
    url,
    inputSize: config?.inputSize,
    classNames,
    mean: config?.mean ?? IMAGENET_MEAN,
    std: config?.std ?? IMAGENET_STD,
    resize: config?.resize ?? 'stretch',
    staticCrop: config?.staticCrop,
    padGrey: config?.padGrey ?? 0,
    dtype,
  };
  return {
    spec,
    download: { url: weights.downloadUrl, cacheKey: `${url}#${p.dataset}/${p.version}/${pkg.packageId}`, version: `${p.dataset}/${p.version}`, md5: weights.md5Hash },
    notices,
    context: { service: 'Roboflow API', model, endpoint: url.split('?')[0]!, expected: 'the weights.onnx the registry lists' },
  };
}

function mergePages(pages: unknown[]): unknown {
  const last = pages[pages.length - 1];
  if (pages.length === 1 || !isObject(last) || !isObject(last.modelMetadata)) return last;
  const all = pages.flatMap((page) => (isObject(page) && isObject(page.modelMetadata) && Array.isArray(page.modelMetadata.modelPackages) ? page.modelMetadata.modelPackages : []));
  return { ...last, modelMetadata: { ...last.modelMetadata, modelPackages: all } };
}

/**
 * Resolves a Roboflow `dataset/version` (or an alias with an API key): the ORT endpoint first; when it answers
 * 404, the weights registry. Both 404 → the ORT endpoint's "unknown model" error.
 */
export async function resolveRoboflow(p: RoboflowRef, ctx: ResolveContext): Promise<ResolvedModel> {
  const apiKey = ctx.apiKey;
  if (!apiKey) throw new TypeError(`modelId "${p.reference}" needs apiKey`);
  try {
    return await resolveViaOrt(p, { ...ctx, apiKey });
  } catch (error) {
    if (!(error instanceof ModelLoadError) || error.code !== 'not-found') throw error;
    try {
      return await resolveViaRegistry(p, { ...ctx, apiKey });
    } catch (second) {
      if (second instanceof ModelLoadError && second.code === 'not-found') {
        throw new ModelLoadError('not-found', `${error.message} (models/v1/external/weights does not list it either)`, { status: 404 });
      }
      throw second;
    }
  }
}
