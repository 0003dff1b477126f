/**
 * `framewise/mediapipe_face_detector@v1`: MediaPipe's FaceDetector (BlazeFace) from `@mediapipe/tasks-vision`, in
 * VIDEO mode, inside the workflow worker on the frame. Outputs detections (class `face`, with the six BlazeFace
 * keypoints) that the filter, tracker, counters and visualisations accept.
 *
 * - The WASM fileset comes from our own origin: the module build (`vision_wasm_module_internal.*`, loaded with
 *   `import()`, since module workers cannot `importScripts`), from `wasm_path` or, by default, next to the
 *   installed package as the dev server serves it.
 * - The model asset is fetched once and cached in the model cache's IndexedDB database (one chunk, with its
 *   SHA-256), so a second run needs no download; `clearModelCache()` removes it too.
 * - tasks-vision has no option to turn its usage logging off: each task POSTs to `odml.pa.googleapis.com` (every
 *   minute and on close). In the worker, those requests are answered locally with 204 (which stops its logger)
 *   and never leave the machine.
 *
 * The tasks-vision module is imported on first use, inside the worker only (compiling a workflow on the page does
 * not load it).
 */
import * as v from 'valibot';
import type { FaceDetector, FilesetResolver } from '@mediapipe/tasks-vision';
import type { BlobRecord } from '../../models/model-cache.ts';
import type { Detections } from '../detections.ts';
import { KIND } from '../kinds.ts';
import { isWorkflowImage, type BlockManifest, type WorkflowImageValue } from './block.ts';
import { zeroToOne } from './props.ts';

/** The tasks-vision version the block is built and tested against (package.json pins the same). */
export const MEDIAPIPE_TASKS_VISION_VERSION = '1.1.0';


/** Names of BlazeFace's six keypoints, in its output order. */
export const FACE_KEYPOINT_NAMES = ['right_eye', 'left_eye', 'nose_tip', 'mouth_center', 'right_ear_tragion', 'left_ear_tragion'] as const;

/** The fileset tasks-vision's resolver returns (its type is not exported). */
type WasmFileset = Awaited<ReturnType<typeof FilesetResolver.forVisionTasks>>;

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

/**
 * The bytes of a MediaPipe model asset: from the model cache when present and intact, else downloaded and stored
 * (caching is best effort: without IndexedDB, or when it is full, the download is used as is).
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
  if (bytes.byteLength < 8 || new TextDecoder().decode(new Uint8Array(bytes, 4, 4)) !== 'TFL3') {
    throw new Error(`${plain} is not a TFLite model (no TFL3 identifier)`);
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
class VideoClock {
  private last = -1;
  next(): number {
    this.last = Math.max(this.last + 1, Math.round(performance.now()));
    return this.last;
  }
}

const delegate = v.picklist(['CPU', 'GPU']);
const optionalString = v.nullable(v.pipe(v.string(), v.minLength(1)));

const properties = {
  images: { kinds: [KIND.IMAGE], required: true, aliases: ['image'] },
  model_asset_path: { kinds: [KIND.STRING], literal: optionalString, default: null },
  wasm_path: { kinds: [KIND.STRING], literal: optionalString, default: null },
  min_detection_confidence: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.5 },
  min_suppression_threshold: { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: 0.3 },
  delegate: { kinds: [KIND.STRING], literal: delegate, default: 'CPU' },
  class_name: { kinds: [KIND.STRING], literal: v.pipe(v.string(), v.minLength(1)), default: 'face' },
} as const;

interface Loaded {
  detector: FaceDetector;
  /** The settings it was created with, to notice a parameter that changed. */
  signature: string;
}

/** MediaPipe FaceDetector results → Detections in image pixels (keypoints converted from normalised coordinates). */
export function faceDetectionsToDetections(
  result: { detections: { boundingBox?: { originX: number; originY: number; width: number; height: number }; categories: { score: number }[]; keypoints: { x: number; y: number; score?: number; label?: string }[] }[] },
  image: { width: number; height: number },
  className: string,
  parentId: string,
): Detections {
  const found = result.detections.filter((d) => d.boundingBox);
  const n = found.length;
  const k = n > 0 ? Math.max(...found.map((d) => d.keypoints.length)) : FACE_KEYPOINT_NAMES.length;
  const xyxy = new Float32Array(n * 4);
  const xy = new Float32Array(n * k * 2);
  const kpConfidence = new Float32Array(n * k);
  found.forEach((d, i) => {
    const b = d.boundingBox!;
    xyxy.set([b.originX, b.originY, b.originX + b.width, b.originY + b.height], i * 4);
    d.keypoints.forEach((p, j) => {
      xy[(i * k + j) * 2] = p.x * image.width;
      xy[(i * k + j) * 2 + 1] = p.y * image.height;
      kpConfidence[i * k + j] = p.score ?? 1;
    });
  });
  return {
    xyxy,
    confidence: Float32Array.from(found, (d) => d.categories[0]?.score ?? 0),
    classId: new Int32Array(n),
    data: { class_name: found.map(() => className), detection_id: found.map(() => crypto.randomUUID()), parent_id: found.map(() => parentId) },
    keypoints: { perDetection: k, xy, confidence: kpConfidence, names: k === FACE_KEYPOINT_NAMES.length ? [...FACE_KEYPOINT_NAMES] : undefined },
    image: { width: image.width, height: image.height },
  };
}

/** `framewise/mediapipe_face_detector@v1`. */
export const MediapipeFaceDetectorV1: BlockManifest = {
  type: 'framewise/mediapipe_face_detector@v1',
  aliases: ['MediaPipeFaceDetector', 'mediapipe_face_detector@v1'],
  description: 'MediaPipe FaceDetector (BlazeFace, @mediapipe/tasks-vision) in VIDEO mode: face boxes with six keypoints.',
  properties,
  outputs: () => [{ name: 'predictions', kinds: [KIND.KEYPOINT_DETECTION_PREDICTION, KIND.OBJECT_DETECTION_PREDICTION] }],
  create: () => {
    let loading: Promise<Loaded> | undefined;
    let signature = '';
    const clock = new VideoClock();
    const load = async (modelPath: string, wasmPath: string, options: { minDetectionConfidence: number; minSuppressionThreshold: number; delegate: 'CPU' | 'GPU' }): Promise<Loaded> => {
      blockMediapipeTelemetry();
      const [{ FaceDetector }, fileset, model] = await Promise.all([import('@mediapipe/tasks-vision'), visionFileset(wasmPath), mediapipeModelAsset(modelPath)]);
      const detector = await FaceDetector.createFromOptions(fileset, { baseOptions: { modelAssetBuffer: model, delegate: options.delegate }, runningMode: 'VIDEO', ...options });
      return { detector, signature: JSON.stringify([modelPath, wasmPath, options]) };
    };
    return {
      async run(inputs, { video, runtime }) {
        const image = inputs.images;
        if (!isWorkflowImage(image)) throw new TypeError(`images must be an image, got ${typeof image}`);
        const frame = image as WorkflowImageValue;
        if (!frame.source) throw new TypeError('the image has no pixels');
        const modelPath = inputs.model_asset_path as string | null;
        // No default on Google's storage: framewise fetches nothing from third-party hosts unless told to.
        if (!modelPath) throw new TypeError('model_asset_path is required: serve a FaceDetector .tflite from your own origin (the demo ships /models/face_detector_short_range.tflite)');
        const wasmPath = (inputs.wasm_path as string | null) ?? runtime.mediapipeWasmPath ?? defaultMediapipeWasmPath();
        const options = {
          minDetectionConfidence: inputs.min_detection_confidence as number,
          minSuppressionThreshold: inputs.min_suppression_threshold as number,
          delegate: inputs.delegate as 'CPU' | 'GPU',
        };
        const wanted = JSON.stringify([modelPath, wasmPath, options]);
        if (!loading || signature !== wanted) {
          const previous = loading;
          signature = wanted;
          loading = load(modelPath, wasmPath, options);
          loading.catch(() => {
            if (signature === wanted) loading = undefined;
          });
          void previous?.then((p) => p.detector.close()).catch(() => undefined);
        }
        const { detector } = await loading;
        const result = detector.detectForVideo(frame.source as TexImageSource, clock.next());
        void video;
        return { predictions: faceDetectionsToDetections(result, frame, inputs.class_name as string, frame.parentId) };
      },
    };
  },
};
