/**
 * What every MediaPipe block shares: `@mediapipe/tasks-vision`'s WASM fileset from our own origin, the guard that
 * answers its usage logging locally, the model asset cache (IndexedDB), VIDEO-mode timestamps, and the slot that
 * creates a task on first use and again when a setting changes.
 *
 * - The WASM fileset is the module build (`vision_wasm_module_internal.*`, loaded with `import()`, since module
 *   workers cannot `importScripts`), from `wasm_path`, the pipeline's `mediapipeWasmPath` or, by default, next to
 *   the installed package as the dev server serves it.
 * - A model asset (`.tflite`, or a `.task` bundle: a zip of several) is fetched once and cached in the model
 *   cache's IndexedDB database (one chunk, with its SHA-256), so a second run needs no download;
 *   `clearModelCache()` removes it too.
 * - tasks-vision has no option to turn its usage logging off: each task POSTs to `odml.pa.googleapis.com` (every
 *   minute and on close). In the worker, those requests are answered locally with 204 (which stops its logger)
 *   and never leave the machine.
 *
 * tasks-vision is imported on first use, inside the worker only (compiling a workflow on the page does not load it).
 */
import * as v from 'valibot';
import type { FilesetResolver } from '@mediapipe/tasks-vision';
import type { BlobRecord } from '../../models/model-cache.ts';
import type { Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import { isWorkflowImage, type BlockRuntime, type PropertySpec, type WorkflowImageValue } from './block.ts';
import { IMAGES_INPUT } from './shared-properties.ts';

/** The tasks-vision version the blocks are built and tested against (package.json pins the same). */
export const MEDIAPIPE_TASKS_VISION_VERSION = '1.1.0';

/** The fileset tasks-vision's resolver returns (its type is not exported). */
export type WasmFileset = Awaited<ReturnType<typeof FilesetResolver.forVisionTasks>>;

/** Where a task runs: `CPU` (XNNPACK) or `GPU` (WebGL). */
export type MediapipeDelegate = 'CPU' | 'GPU';

const TELEMETRY_HOST = 'odml.pa.googleapis.com';

/**
 * Where the WASM fileset is by default: `node_modules/@mediapipe/tasks-vision/wasm/` resolved from this module,
 * which is where Vite's dev server (and any server rooted at the project) serves it. Builds that bundle the
 * library should copy that folder to their origin and pass `wasm_path`.
 */
export function defaultMediapipeWasmPath(): string {
  // Built from parts so bundlers do not try to treat the folder as an asset import.
  const parts = ['..', '..', '..', 'node_modules', '@mediapipe', 'tasks-vision', 'wasm'];
  return new URL(`${parts.join('/')}/`, import.meta.url).href;
}

let telemetryGuarded = false;

/** Answers tasks-vision's usage-logging requests locally (in this worker), so nothing is sent to Google. */
export function blockMediapipeTelemetry(): void {
  if (telemetryGuarded) return;
  telemetryGuarded = true;
  const original = globalThis.fetch.bind(globalThis);
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    try {
      if (new URL(url, self.location.href).hostname === TELEMETRY_HOST) return Promise.resolve(new Response(null, { status: 204 }));
    } catch {
      // not a URL: let fetch report it
    }
    return original(input, init);
  };
}

const filesets = new Map<string, Promise<WasmFileset>>();

/** The vision fileset (module build) under `basePath`, checked for SIMD support as tasks-vision does. */
export function visionFileset(basePath: string): Promise<WasmFileset> {
  const base = basePath.endsWith('/') ? basePath : `${basePath}/`;
  let fileset = filesets.get(base);
  if (!fileset) {
    fileset = import('@mediapipe/tasks-vision').then(({ FilesetResolver }) => FilesetResolver.forVisionTasks(new URL(base, self.location.href).href.replace(/\/$/, ''), true));
    filesets.set(base, fileset);
    fileset.catch(() => filesets.delete(base));
  }
  return fileset;
}

function withoutCredentials(url: string): string {
  const u = new URL(url, self.location.href);
  u.username = '';
  u.password = '';
  u.hash = '';
  for (const key of [...u.searchParams.keys()]) if (/key|token|secret|signature/i.test(key)) u.searchParams.delete(key);
  return u.href;
}

async function sha256(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** What a model asset's bytes are: a TFLite flatbuffer (`TFL3`), a `.task` bundle (a zip), or neither. */
export function mediapipeAssetFormat(bytes: Uint8Array): 'tflite' | 'bundle' | undefined {
  if (bytes.length >= 8 && bytes[4] === 0x54 && bytes[5] === 0x46 && bytes[6] === 0x4c && bytes[7] === 0x33) return 'tflite';
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'bundle';
  return undefined;
}

/**
 * The bytes of a MediaPipe model asset (`.tflite` or `.task` bundle): from the model cache when present and
 * intact, else downloaded and stored (caching is best effort: without IndexedDB, or when it is full, the download
 * is used as is).
 */
export async function mediapipeModelAsset(url: string): Promise<Uint8Array> {
  const resolved = new URL(url, self.location.href).href;
  const plain = withoutCredentials(resolved);
  const key = `${plain}#mediapipe-${MEDIAPIPE_TASKS_VISION_VERSION}`;
  const cache = await import('../../models/model-cache.ts').catch(() => undefined);
  try {
    const record = await cache?.getBlobRecord(key);
    if (record?.complete && record.storedChunks === 1) {
      const [blob] = await cache!.readChunks(key, 1);
      if (blob && blob.size === record.size) {
        const bytes = await blob.arrayBuffer();
        if ((await sha256(bytes)) === record.sha256) return new Uint8Array(bytes);
      }
    }
  } catch {
    // no usable cache: download
  }
  const response = await fetch(resolved);
  if (!response.ok) throw new Error(`could not download the MediaPipe model ${plain}: HTTP ${response.status}`);
  const bytes = await response.arrayBuffer();
  if (!mediapipeAssetFormat(new Uint8Array(bytes))) {
    throw new Error(`${plain} is not a TFLite model (no TFL3 identifier) nor a .task bundle (no zip header)`);
  }
  try {
    const now = Date.now();
    const record: BlobRecord = {
      key,
      url: plain,
      version: `mediapipe-${MEDIAPIPE_TASKS_VISION_VERSION}`,
      modelId: `mediapipe:${plain}`,
      reference: plain,
      source: 'url',
      size: bytes.byteLength,
      chunkSize: bytes.byteLength,
      storedChunks: 1,
      complete: true,
      sha256: await sha256(bytes),
      etag: response.headers.get('etag') ?? undefined,
      createdAt: now,
      updatedAt: now,
      completedAt: now,
      lastUsedAt: now,
    };
    await cache?.putChunk(record, 0, bytes.slice(0));
  } catch {
    // caching is best effort
  }
  return new Uint8Array(bytes);
}

/** Timestamps for VIDEO mode: milliseconds, strictly increasing per task. */
export class VideoClock {
  private last = -1;
  /** The next timestamp: now, or one more than the last when the clock has not moved. */
  next(): number {
    this.last = Math.max(this.last + 1, Math.round(performance.now()));
    return this.last;
  }
}

/** A MediaPipe task that failed to load the model it was given (wrong kind of model, missing metadata, …). */
export class MediapipeModelError extends Error {
  constructor(
    /** The task that refused it (`PoseLandmarker`, …). */
    readonly task: string,
    /** The model asset's URL. */
    readonly modelAssetPath: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MediapipeModelError';
  }
}

/** The message of whatever tasks-vision threw (it sometimes throws strings). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const delegate = v.picklist(['CPU', 'GPU']);
const optionalString = v.nullable(v.pipe(v.string(), v.minLength(1)));

/** The properties every MediaPipe block has: `images`, `model_asset_path`, `wasm_path`, `delegate`. */
export const MEDIAPIPE_COMMON_PROPERTIES = {
  images: IMAGES_INPUT,
  model_asset_path: { kinds: [KIND.STRING], literal: optionalString, default: null },
  wasm_path: { kinds: [KIND.STRING], literal: optionalString, default: null },
  delegate: { kinds: [KIND.STRING], literal: delegate, default: 'CPU' },
} as const satisfies Record<string, PropertySpec>;

/** The common properties of one call, checked. */
export interface MediapipeCall {
  frame: WorkflowImageValue & { source: CanvasImageSource };
  modelPath: string;
  wasmPath: string;
  delegate: MediapipeDelegate;
}

/**
 * Reads the common properties: the frame (with pixels), the model asset URL (required: `hint` says what to serve)
 * and the WASM folder (`wasm_path`, else the pipeline's `mediapipeWasmPath`, else the default).
 */
export function mediapipeCall(inputs: Record<string, unknown>, runtime: BlockRuntime, hint: string): MediapipeCall {
  const image = inputs.images;
  if (!isWorkflowImage(image)) throw new TypeError(`images must be an image, got ${typeof image}`);
  if (!image.source) throw new TypeError('the image has no pixels');
  const modelPath = inputs.model_asset_path as string | null;
  // No default on Google's storage: framewise fetches nothing from third-party hosts unless told to.
  if (!modelPath) throw new TypeError(`model_asset_path is required: ${hint}`);
  const wasmPath = (inputs.wasm_path as string | null) ?? runtime.mediapipeWasmPath ?? defaultMediapipeWasmPath();
  return { frame: image as MediapipeCall['frame'], modelPath, wasmPath, delegate: inputs.delegate as MediapipeDelegate };
}

/**
 * How a task runs on this image: VIDEO (timestamps; landmarkers track from one call to the next) on the frames of a
 * video, IMAGE on a crop (successive calls get different crops, which tracking would mix up).
 */
export function mediapipeRunningMode(frame: WorkflowImageValue): 'IMAGE' | 'VIDEO' {
  return frame.origin ? 'IMAGE' : 'VIDEO';
}

/** Detections made on `frame`, remembering where it lies when it is a crop (so `coordinates_system: parent` works). */
export function detectionsOnImage(detections: Detections, frame: WorkflowImageValue): Detections {
  return frame.origin ? { ...detections, origin: frame.origin } : detections;
}

/** Anything tasks-vision creates: it must be closed. */
export interface Closable {
  /** Frees what it holds (WASM memory, GL resources). */
  close(): void;
}

/**
 * One task per step: created on first use, created again (and the old one closed) when its settings change, never
 * kept after a failed creation (the next frame tries again).
 */
export class MediapipeTaskSlot<T extends Closable> {
  private loading: Promise<T> | undefined;
  private signature = '';
  /** A fresh clock per task: VIDEO mode wants increasing timestamps per task. */
  readonly clock = new VideoClock();

  /** The task for `settings` (any JSON-able value), created with `create` when there is none or they changed. */
  get(settings: unknown, create: () => Promise<T>): Promise<T> {
    const wanted = JSON.stringify(settings);
    if (!this.loading || this.signature !== wanted) {
      const previous = this.loading;
      this.signature = wanted;
      const loading = create();
      this.loading = loading;
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      void previous?.then((task) => task.close()).catch(() => undefined);
    }
    return this.loading;
  }
}

let creating: Promise<unknown> = Promise.resolve();

/**
 * Runs `create` (a tasks-vision `createFromOptions`) once the module build's `ModuleFactory` global is set. The
 * loader sets that global when first evaluated and tasks-vision clears it after creating a task, so a second task
 * in the same worker (two MediaPipe steps, or a step whose settings changed) would fail with "ModuleFactory not
 * set." Creations are serialised, and each one sets the global again from the loader module's default export.
 */
function withModuleFactory<T>(fileset: WasmFileset, create: () => Promise<T>): Promise<T> {
  const run = creating.then(async () => {
    const loader = (await import(/* @vite-ignore */ fileset.wasmLoaderPath)) as { default?: unknown };
    const scope = globalThis as { ModuleFactory?: unknown };
    if (!scope.ModuleFactory && typeof loader.default === 'function') scope.ModuleFactory = loader.default;
    return create();
  });
  creating = run.catch(() => undefined);
  return run;
}

/**
 * Creates a task from the model asset at `modelPath`: fileset and asset in parallel, the telemetry guard first.
 * A refusal by tasks-vision becomes a {@link MediapipeModelError} naming the task, the model and, where
 * `explain` recognises the message, what the model lacks.
 */
export async function createMediapipeTask<T>(
  task: string,
  call: Pick<MediapipeCall, 'modelPath' | 'wasmPath'>,
  create: (fileset: WasmFileset, model: Uint8Array) => Promise<T>,
  explain: (message: string) => string | undefined = () => undefined,
): Promise<T> {
  blockMediapipeTelemetry();
  const [fileset, model] = await Promise.all([visionFileset(call.wasmPath), mediapipeModelAsset(call.modelPath)]);
  try {
    return await withModuleFactory(fileset, () => create(fileset, model));
  } catch (error) {
    const message = errorText(error);
    const why = explain(message);
    throw new MediapipeModelError(task, call.modelPath, `${task} could not load ${call.modelPath}${why ? `: ${why}` : ''} (tasks-vision: ${message.trim().split('\n')[0]})`, { cause: error });
  }
}
