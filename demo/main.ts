/**
 * The framewise demo: one pipeline at a time, rebuilt whenever a setting changes.
 *
 * Two modes: object detection (`InferencePipeline.init` with `renderBoxes`), and Workflow
 * (`InferencePipeline.initWithWorkflow` on a pasted specification or a bundled example; the last image output is
 * drawn, and with profiling on the step timings download as Chrome trace-event JSON).
 *
 * A restart is queued: the running pipeline is terminated (awaited) before the next one starts, and a restart
 * superseded by a newer one before it got to run is skipped. Frames and events of a pipeline that is no longer
 * the current one are ignored, so stale results never reach the canvas or the counters.
 */
import { InferencePipeline, clearModelCache, deleteCachedModel, listCachedModels, renderBoxes } from '../src/index.ts';
import type { Backend, FrameMetadata, FramePredictions, ModelReference, SingleVideoReference, StatusUpdate } from '../src/index.ts';
import type { WorkflowPipeline } from '../src/pipeline/inference-pipeline.ts';
import { isDetections, detectionsLength } from '../src/workflows/detections.ts';
import type { WorkflowResult } from '../src/workflows/serialize.ts';

const SAMPLE_URL = '/samples/sample.mp4';
const BUNDLED_MODEL: ModelReference = { url: '/models/colour-box-320.onnx' };
const MAX_LOG_ENTRIES = 300;

type SourceKind = 'sample' | 'webcam' | 'file' | 'url';
type Mode = 'detect' | 'workflow';
type WorkflowExample = 'line-counter' | 'faces' | 'custom';
type ModelKind = 'colour-box' | 'url';
type RunState = 'idle' | 'starting' | 'running' | 'ended' | 'error';
type RestartReason = 'settings' | 'loop';

/** What the Playwright test (or a curious person in the console) can read; every property is a getter. */
export interface DemoProbe {
  /** Frames through the sink since the settings last changed (loop restarts keep counting). */
  readonly framesProcessed: number;
  readonly lastPredictions: FramePredictions | null;
  /** The backend the current pipeline reported in BACKEND_SELECTED, or null before it did. */
  readonly backend: string | null;
  /** Pipelines started since the page opened. */
  readonly starts: number;
  readonly state: RunState;
  /** The message of the error on display, if any. */
  readonly error: string | null;
  readonly mode: Mode;
  /** Workflow mode: the last frame's outputs, summarised (numbers as they are, detections as their count, images as "image"). */
  readonly workflowOutputs: Record<string, unknown> | null;
}

declare global {
  interface Window {
    readonly __framewiseDemo: DemoProbe;
  }
}

function byId<T extends HTMLElement>(id: string, type: { new (): T; readonly prototype: T }): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`demo: #${id} is missing or is not a ${type.name}`);
  return found;
}

const ui = {
  canvas: byId('canvas', HTMLCanvasElement),
  overlay: byId('overlay', HTMLParagraphElement),
  error: byId('error', HTMLDivElement),
  errorTitle: byId('error-title', HTMLElement),
  errorMessage: byId('error-message', HTMLParagraphElement),
  retry: byId('retry', HTMLButtonElement),
  source: byId('source', HTMLSelectElement),
  camera: byId('camera', HTMLSelectElement),
  file: byId('file', HTMLInputElement),
  urlForm: byId('url-form', HTMLFormElement),
  url: byId('url', HTMLInputElement),
  loop: byId('loop', HTMLInputElement),
  model: byId('model', HTMLSelectElement),
  modelForm: byId('model-form', HTMLFormElement),
  modelUrl: byId('model-url', HTMLInputElement),
  backend: byId('backend', HTMLSelectElement),
  confidence: byId('confidence', HTMLInputElement),
  confidenceValue: byId('confidence-value', HTMLOutputElement),
  state: byId('state', HTMLSpanElement),
  statBackend: byId('stat-backend', HTMLElement),
  statFps: byId('stat-fps', HTMLElement),
  statLatency: byId('stat-latency', HTMLElement),
  statDropped: byId('stat-dropped', HTMLElement),
  statFrames: byId('stat-frames', HTMLElement),
  statDetections: byId('stat-detections', HTMLElement),
  log: byId('log', HTMLOListElement),
  clearLog: byId('clear-log', HTMLButtonElement),
  mode: byId('mode', HTMLSelectElement),
  workflowExample: byId('workflow-example', HTMLSelectElement),
  workflowSpec: byId('workflow-spec', HTMLTextAreaElement),
  profiling: byId('profiling', HTMLInputElement),
  workflowRun: byId('workflow-run', HTMLButtonElement),
  workflowProfile: byId('workflow-profile', HTMLButtonElement),
  workflowOutputs: byId('workflow-outputs', HTMLElement),
};

// ---------------------------------------------------------------------------------------------------------------
// Bundled workflow examples

/** Where the line counter's line is drawn on the 640×360 sample: a vertical line through the middle. */
const EXAMPLE_LINE: [[number, number], [number, number]] = [
  [320, 20],
  [320, 340],
];

/** Detection (bundled colour-box model) → ByteTrack → line counter, with boxes, tracker ids and the line drawn. */
function lineCounterExample(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [
      { type: 'WorkflowImage', name: 'image' },
      { type: 'WorkflowVideoMetadata', name: 'video_metadata' },
      { type: 'WorkflowParameter', name: 'confidence', default_value: 0.4 },
    ],
    steps: [
      { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect', images: '$inputs.image', model_id: BUNDLED_MODEL, confidence: '$inputs.confidence' },
      { type: 'roboflow_core/byte_tracker@v3', name: 'tracker', image: '$inputs.image', detections: '$steps.detect.predictions' },
      { type: 'roboflow_core/line_counter@v2', name: 'counter', image: '$inputs.image', detections: '$steps.tracker.tracked_detections', line_segment: EXAMPLE_LINE, triggering_anchor: 'CENTER' },
      { type: 'BoundingBoxVisualization', name: 'boxes', image: '$inputs.image', predictions: '$steps.tracker.tracked_detections', color_axis: 'TRACK' },
      { type: 'LabelVisualization', name: 'labels', image: '$steps.boxes.image', predictions: '$steps.tracker.tracked_detections', text: 'Tracker Id', color_axis: 'TRACK' },
      {
        type: 'roboflow_core/line_counter_visualization@v1',
        name: 'line',
        image: '$steps.labels.image',
        zone: EXAMPLE_LINE,
        count_in: '$steps.counter.count_in',
        count_out: '$steps.counter.count_out',
        thickness: 3,
      },
    ],
    outputs: [
      { type: 'JsonField', name: 'count_in', selector: '$steps.counter.count_in' },
      { type: 'JsonField', name: 'count_out', selector: '$steps.counter.count_out' },
      { type: 'JsonField', name: 'tracked', selector: '$steps.tracker.tracked_detections' },
      { type: 'JsonField', name: 'image', selector: '$steps.line.image' },
    ],
  };
}

/** MediaPipe's face detector (the BlazeFace model bundled in `public/models/`), boxes drawn. */
function facesExample(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [
      { type: 'framewise/mediapipe_face_detector@v1', name: 'faces', images: '$inputs.image', model_asset_path: '/models/face_detector_short_range.tflite' },
      { type: 'BoundingBoxVisualization', name: 'boxes', image: '$inputs.image', predictions: '$steps.faces.predictions' },
    ],
    outputs: [
      { type: 'JsonField', name: 'faces', selector: '$steps.faces.predictions' },
      { type: 'JsonField', name: 'image', selector: '$steps.boxes.image' },
    ],
  };
}

function exampleText(example: WorkflowExample): string | null {
  if (example === 'line-counter') return JSON.stringify(lineCounterExample(), null, 2);
  if (example === 'faces') return JSON.stringify(facesExample(), null, 2);
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Settings

interface Settings {
  mode: Mode;
  /** Workflow mode: the specification's JSON text (checked by initWithWorkflow). */
  workflow: string;
  profiling: boolean;
  source: SourceKind;
  /** null while the chosen source still needs input (no file picked, no URL typed). */
  reference: SingleVideoReference | null;
  model: ModelReference | null;
  backend: Backend;
  confidence: number;
}

function isSourceKind(value: string): value is SourceKind {
  return value === 'sample' || value === 'webcam' || value === 'file' || value === 'url';
}
function isModelKind(value: string): value is ModelKind {
  return value === 'colour-box' || value === 'url';
}
function isBackend(value: string): value is Backend {
  return value === 'auto' || value === 'webgpu' || value === 'wasm';
}

/** An absolute URL, so the library never mistakes it for a webcam device id (a string with no `/`, `.` or `:`). */
function absoluteUrl(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    return new URL(trimmed, location.href).href;
  } catch {
    return null;
  }
}

function sourceKind(): SourceKind {
  return isSourceKind(ui.source.value) ? ui.source.value : 'sample';
}

function readSettings(): Settings {
  const source = sourceKind();
  let reference: SingleVideoReference | null;
  switch (source) {
    case 'sample':
      reference = SAMPLE_URL;
      break;
    case 'webcam':
      reference = ui.camera.value === '' ? 0 : { deviceId: ui.camera.value };
      break;
    case 'file':
      reference = ui.file.files?.[0] ?? null;
      break;
    case 'url':
      reference = absoluteUrl(ui.url.value);
      break;
  }
  const modelKind: ModelKind = isModelKind(ui.model.value) ? ui.model.value : 'colour-box';
  const modelUrl = modelKind === 'url' ? absoluteUrl(ui.modelUrl.value) : null;
  return {
    mode: ui.mode.value === 'workflow' ? 'workflow' : 'detect',
    workflow: ui.workflowSpec.value,
    profiling: ui.profiling.checked,
    source,
    reference,
    model: modelKind === 'colour-box' ? BUNDLED_MODEL : modelUrl ? { url: modelUrl } : null,
    backend: isBackend(ui.backend.value) ? ui.backend.value : 'auto',
    confidence: Number(ui.confidence.value),
  };
}

/** Sources that end by themselves, and so can loop. */
function isFileLike(source: SourceKind): boolean {
  return source !== 'webcam';
}

// ---------------------------------------------------------------------------------------------------------------
// Page state and display

interface Run {
  readonly settings: Settings;
  pipeline?: InferencePipeline<FramePredictions> | WorkflowPipeline;
  /** Workflow mode with profiling: the pipeline's trace. */
  profile?: () => unknown;
  frames: number;
}

const view = {
  state: 'idle' as RunState,
  framesProcessed: 0,
  lastPredictions: null as FramePredictions | null,
  backend: null as string | null,
  starts: 0,
  error: null as string | null,
  workflowOutputs: null as Record<string, unknown> | null,
};

const probe: DemoProbe = Object.freeze({
  get framesProcessed() {
    return view.framesProcessed;
  },
  get lastPredictions() {
    return view.lastPredictions;
  },
  get backend() {
    return view.backend;
  },
  get starts() {
    return view.starts;
  },
  get state() {
    return view.state;
  },
  get error() {
    return view.error;
  },
  get mode(): Mode {
    return ui.mode.value === 'workflow' ? 'workflow' : 'detect';
  },
  get workflowOutputs() {
    return view.workflowOutputs;
  },
});
Object.defineProperty(window, '__framewiseDemo', { value: probe, enumerable: true, configurable: true });

const STATE_LABELS: Record<RunState, string> = { idle: 'idle', starting: 'starting', running: 'running', ended: 'ended', error: 'error' };

function setState(state: RunState, overlay?: string): void {
  view.state = state;
  ui.state.textContent = STATE_LABELS[state];
  ui.state.dataset['state'] = state;
  setOverlay(overlay ?? null);
}

function setOverlay(text: string | null): void {
  ui.overlay.hidden = text === null;
  ui.overlay.textContent = text ?? '';
}

function resetStats(): void {
  view.framesProcessed = 0;
  view.lastPredictions = null;
  view.backend = null;
  view.workflowOutputs = null;
  ui.workflowOutputs.replaceChildren();
  ui.workflowProfile.disabled = true;
  ui.statBackend.textContent = '–';
  ui.statBackend.title = '';
  ui.statFps.textContent = '–';
  ui.statLatency.textContent = '–';
  ui.statDropped.textContent = '–';
  ui.statFrames.textContent = '0';
  ui.statDetections.textContent = '–';
}

const ERROR_TITLES: Record<string, string> = {
  ModelError: 'The model could not be loaded',
  SourceError: 'The video source failed',
  PipelineSourcesError: 'The video sources failed',
  WorkerError: 'Inference failed',
  TypeError: 'Invalid settings',
};

function showError(error: unknown): void {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message || name : String(error);
  view.error = message;
  ui.errorTitle.textContent = `${ERROR_TITLES[name] ?? 'The pipeline stopped'} (${name})`;
  ui.errorMessage.textContent = message;
  ui.error.hidden = false;
}

function hideError(): void {
  view.error = null;
  ui.error.hidden = true;
}

/** Appends a line to the event log: the pipeline's status events, and the demo's own notes (`DEMO`). */
function log(update: Pick<StatusUpdate, 'timestamp' | 'severity' | 'message'> & { eventType: string }): void {
  const list = ui.log;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 8;
  const item = document.createElement('li');
  item.className = `severity-${update.severity}`;
  item.title = update.severity;
  const at = new Date(update.timestamp);
  const time = document.createElement('time');
  time.dateTime = at.toISOString();
  time.textContent = `${at.toLocaleTimeString([], { hour12: false })}.${String(at.getMilliseconds()).padStart(3, '0')}`;
  const type = document.createElement('span');
  type.className = 'event';
  type.textContent = update.eventType;
  const message = document.createElement('span');
  message.className = 'message';
  message.textContent = update.message;
  item.append(time, type, message);
  list.append(item);
  while (list.childElementCount > MAX_LOG_ENTRIES) list.firstElementChild?.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function note(message: string): void {
  log({ timestamp: Date.now(), severity: 'debug', eventType: 'DEMO', message });
}

function describeSettings(s: Settings): string {
  const source =
    s.reference === null ? s.source : typeof s.reference === 'number' ? `webcam ${s.reference}` : s.reference instanceof File ? `file "${s.reference.name}"` : typeof s.reference === 'string' ? s.reference : 'webcam (chosen device)';
  if (s.mode === 'workflow') return `${source} · workflow (${ui.workflowExample.selectedOptions[0]?.text ?? 'custom'}) · backend ${s.backend}${s.profiling ? ' · profiling' : ''}`;
  const model = s.model === null ? 'no model' : typeof s.model === 'string' ? s.model : s.model.url;
  return `${source} · ${model} · backend ${s.backend} · confidence ${s.confidence.toFixed(2)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Pipeline lifecycle

const draw = renderBoxes({ canvas: ui.canvas, displayStatistics: true });
let current: Run | null = null;
let requested = 0;
let queue: Promise<void> = Promise.resolve();

/** Terminates the running pipeline and starts one with `settings` (default: what the controls say now). */
function restart(reason: RestartReason, settings?: Settings): void {
  const ticket = ++requested;
  const previous = current;
  current = null; // from now on the old pipeline's frames and events are ignored
  if (reason === 'settings') {
    resetStats();
    hideError();
    setState('starting', 'Restarting…');
  }
  queue = queue
    .then(async () => {
      await previous?.pipeline?.terminate();
      if (ticket === requested) launch(settings ?? readSettings());
    })
    .catch((error: unknown) => {
      showError(error);
      setState('error');
    });
}

function launch(settings: Settings): void {
  if (settings.reference === null) {
    const hint = settings.source === 'file' ? 'Choose a video file' : 'Enter a video URL';
    setState('idle', hint);
    return;
  }
  if (settings.mode === 'workflow') {
    launchWorkflow(settings);
    return;
  }
  if (settings.model === null) {
    setState('idle', 'Enter a model URL');
    return;
  }
  const run: Run = { settings, frames: 0 };
  current = run;
  note(`starting: ${describeSettings(settings)}`);
  view.starts += 1;
  if (view.framesProcessed === 0) setState('starting', 'Loading model…');
  try {
    run.pipeline = InferencePipeline.init({
      videoReference: settings.reference,
      modelId: settings.model,
      backend: settings.backend,
      confidence: settings.confidence,
      statusUpdateHandlers: [(update) => onStatus(run, update)],
      onModelProgress: (progress) => showModelProgress(run, progress),
      onPrediction: (predictions, frame) => onFrame(run, predictions, frame),
    });
  } catch (error) {
    current = null;
    showError(error);
    setState('error', 'Could not start');
    return;
  }
  run.pipeline.start();
  run.pipeline.join().then(
    () => onEnded(run),
    (error: unknown) => onFailed(run, error),
  );
}

function launchWorkflow(settings: Settings): void {
  if (settings.workflow.trim() === '') {
    setState('idle', 'Paste a workflow specification');
    return;
  }
  const run: Run = { settings, frames: 0 };
  current = run;
  note(`starting: ${describeSettings(settings)}`);
  view.starts += 1;
  if (view.framesProcessed === 0) setState('starting', 'Compiling the workflow…');
  let pipeline: WorkflowPipeline;
  try {
    pipeline = InferencePipeline.initWithWorkflow({
      videoReference: settings.reference!,
      workflowSpecification: settings.workflow,
      backend: settings.backend,
      profiling: settings.profiling,
      profilerBufferSize: 300,
      statusUpdateHandlers: [(update) => onStatus(run, update)],
      onPrediction: (result, frame) => onWorkflowFrame(run, result, frame),
    });
  } catch (error) {
    current = null;
    showError(error);
    setState('error', 'The specification was rejected');
    return;
  }
  run.pipeline = pipeline;
  if (settings.profiling) run.profile = () => pipeline.workflowProfile();
  pipeline.start();
  pipeline.join().then(
    () => onEnded(run),
    (error: unknown) => onFailed(run, error),
  );
}

/** A JSON-friendly summary of one output value. */
function summarise(value: unknown): unknown {
  if (isDetections(value)) return `${detectionsLength(value)} detection(s)`;
  if (value instanceof ImageBitmap) return 'image';
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return `list of ${value.length}`;
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, summarise(v)]));
  return String(value);
}

function onWorkflowFrame(run: Run, result: WorkflowResult, frame: FrameMetadata): void {
  const bitmaps = Object.values(result).filter((v): v is ImageBitmap => v instanceof ImageBitmap);
  try {
    if (run !== current) return;
    const ctx = ui.canvas.getContext('2d')!;
    // The last image output is the most decorated one (visualisations chain); without one, the outputs still show.
    const image = bitmaps.at(-1);
    if (image) {
      if (ui.canvas.width !== image.width || ui.canvas.height !== image.height) {
        ui.canvas.width = image.width;
        ui.canvas.height = image.height;
      }
      ctx.drawImage(image, 0, 0);
    }
    run.frames += 1;
    view.framesProcessed += 1;
    const summary: Record<string, unknown> = {};
    let detections = 0;
    for (const [name, value] of Object.entries(result)) {
      summary[name] = summarise(value);
      if (isDetections(value)) detections = Math.max(detections, detectionsLength(value));
    }
    view.workflowOutputs = summary;
    showWorkflowOutputs(summary);
    if (view.state !== 'running') setState('running');
    else if (!ui.overlay.hidden) setOverlay(null);
    ui.workflowProfile.disabled = !run.profile;
    ui.statFps.textContent = frame.measuredFps.toFixed(1);
    ui.statLatency.textContent = `${frame.latencyMs.toFixed(0)} ms`;
    ui.statDropped.textContent = String(frame.droppedFrames);
    ui.statFrames.textContent = String(view.framesProcessed);
    ui.statDetections.textContent = String(detections);
  } finally {
    for (const bitmap of bitmaps) bitmap.close();
  }
}

function showWorkflowOutputs(summary: Record<string, unknown>): void {
  const rows = Object.entries(summary).map(([name, value]) => {
    const row = document.createElement('div');
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    row.append(dt, dd);
    return row;
  });
  ui.workflowOutputs.replaceChildren(...rows);
}

/** Saves the running workflow's profile (Chrome trace-event JSON, opens in Perfetto). */
function downloadProfile(): void {
  const trace = current?.profile?.();
  if (!trace) return;
  const url = URL.createObjectURL(new Blob([JSON.stringify(trace)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `framewise-workflow-profile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function onStatus(run: Run, update: StatusUpdate): void {
  if (update.eventType === 'MODEL_LOADED' && run === current) {
    cacheUi.download.hidden = true;
    void refreshCache();
  }
  log(update);
  if (run !== current) return;
  switch (update.eventType) {
    case 'BACKEND_SELECTED': {
      const backend = update.payload?.['backend'];
      view.backend = typeof backend === 'string' ? backend : null;
      ui.statBackend.textContent = view.backend ?? '?';
      const reason = update.payload?.['reason'];
      ui.statBackend.title = typeof reason === 'string' ? reason : '';
      break;
    }
    case 'PIPELINE_STARTED':
      if (view.framesProcessed === 0) setOverlay('Opening the video source…');
      break;
    case 'SOURCE_STARTED':
      if (view.state !== 'running') setState('running', view.framesProcessed === 0 ? 'Waiting for the first frame…' : undefined);
      if (run.settings.source === 'webcam') void refreshCameras();
      break;
  }
}

function onFrame(run: Run, predictions: FramePredictions, frame: FrameMetadata): void {
  if (run !== current) return;
  draw(predictions, frame);
  run.frames += 1;
  view.framesProcessed += 1;
  view.lastPredictions = predictions;
  if (view.state !== 'running') setState('running');
  else if (!ui.overlay.hidden) setOverlay(null);
  ui.statFps.textContent = frame.measuredFps.toFixed(1);
  ui.statLatency.textContent = `${frame.latencyMs.toFixed(0)} ms`;
  ui.statDropped.textContent = String(frame.droppedFrames);
  ui.statFrames.textContent = String(view.framesProcessed);
  ui.statDetections.textContent = String(predictions.predictions.length);
}

function onEnded(run: Run): void {
  if (run !== current) return; // terminated on purpose
  // A run that produced nothing would loop forever without showing anything.
  if (ui.loop.checked && isFileLike(run.settings.source) && run.frames > 0) {
    note('the video ended: looping');
    restart('loop', run.settings);
    return;
  }
  setState('ended', view.framesProcessed === 0 ? 'The video had no frames' : undefined);
}

function onFailed(run: Run, error: unknown): void {
  if (run !== current) return;
  showError(error);
  setState('error', view.framesProcessed === 0 ? 'Stopped by an error' : undefined);
}

// ---------------------------------------------------------------------------------------------------------------
// Webcams: the device list has labels and ids only once the page has camera permission.

async function refreshCameras(): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput' && d.deviceId !== '');
  if (cameras.length === 0) return;
  const selected = ui.camera.value;
  const options = [new Option('Default camera (index 0)', '')];
  cameras.forEach((camera, index) => options.push(new Option(camera.label || `Camera ${index + 1}`, camera.deviceId)));
  ui.camera.replaceChildren(...options);
  ui.camera.value = options.some((o) => o.value === selected) ? selected : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Controls

function showSourceFields(): void {
  const kind = sourceKind();
  for (const field of document.querySelectorAll<HTMLElement>('[data-for-source]')) field.hidden = field.dataset['forSource'] !== kind;
  ui.modelForm.hidden = ui.model.value !== 'url';
  ui.loop.disabled = !isFileLike(kind); // a webcam never ends
  const mode = ui.mode.value;
  for (const field of document.querySelectorAll<HTMLElement>('[data-for-mode]')) field.hidden = field.dataset['forMode'] !== mode;
  if (mode !== 'detect') ui.modelForm.hidden = true;
}

function showExample(): void {
  const text = exampleText(ui.workflowExample.value as WorkflowExample);
  if (text !== null) ui.workflowSpec.value = text;
}

function showConfidence(): void {
  ui.confidenceValue.value = Number(ui.confidence.value).toFixed(2);
}

ui.source.addEventListener('change', () => {
  showSourceFields();
  restart('settings');
  if (sourceKind() === 'url' && ui.url.value.trim() === '') ui.url.focus();
});
ui.camera.addEventListener('change', () => restart('settings'));
ui.file.addEventListener('change', () => restart('settings'));
ui.urlForm.addEventListener('submit', (event) => {
  event.preventDefault();
  restart('settings');
});
ui.model.addEventListener('change', () => {
  showSourceFields();
  if (ui.model.value === 'url' && ui.modelUrl.value.trim() === '') {
    ui.modelUrl.focus();
    return; // keep the current model running until a URL is submitted
  }
  restart('settings');
});
ui.modelForm.addEventListener('submit', (event) => {
  event.preventDefault();
  restart('settings');
});
ui.backend.addEventListener('change', () => restart('settings'));
ui.confidence.addEventListener('input', showConfidence);
ui.confidence.addEventListener('change', () => restart('settings')); // on release, not on every step of a drag
ui.loop.addEventListener('change', () => {
  if (ui.loop.checked && view.state === 'ended' && isFileLike(sourceKind())) restart('loop', readSettings());
});
ui.retry.addEventListener('click', () => restart('settings'));
ui.mode.addEventListener('change', () => {
  showSourceFields();
  if (ui.mode.value === 'workflow' && ui.workflowSpec.value.trim() === '') showExample();
  restart('settings');
});
ui.workflowExample.addEventListener('change', () => {
  if (ui.workflowExample.value === 'custom') {
    ui.workflowSpec.focus();
    return; // paste, then Run
  }
  showExample();
  restart('settings');
});
ui.workflowSpec.addEventListener('input', () => {
  if (ui.workflowExample.value !== 'custom' && ui.workflowSpec.value !== exampleText(ui.workflowExample.value as WorkflowExample)) ui.workflowExample.value = 'custom';
});
ui.workflowRun.addEventListener('click', () => restart('settings'));
ui.profiling.addEventListener('change', () => restart('settings'));
ui.workflowProfile.addEventListener('click', downloadProfile);
ui.clearLog.addEventListener('click', () => ui.log.replaceChildren());
navigator.mediaDevices?.addEventListener?.('devicechange', () => {
  if (sourceKind() === 'webcam') void refreshCameras();
});

showExample();
showSourceFields();
showConfidence();
restart('settings');

// Model cache panel: a progress bar while a model downloads, and the cached models with a delete button each.
const cacheUi = {
  download: byId('model-download', HTMLDivElement),
  progress: byId('model-progress', HTMLProgressElement),
  progressText: byId('model-progress-text', HTMLOutputElement),
  list: byId('cache-list', HTMLUListElement),
  clear: byId('cache-clear', HTMLButtonElement),
};

function formatBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${(bytes / 1024).toFixed(0)} KB`;
}

function showModelProgress(run: Run, progress: { loaded: number; total: number | undefined }): void {
  if (run !== current) return;
  cacheUi.download.hidden = false;
  if (progress.total) {
    cacheUi.progress.max = progress.total;
    cacheUi.progress.value = progress.loaded;
    cacheUi.progressText.textContent = `${formatBytes(progress.loaded)} / ${formatBytes(progress.total)}`;
  } else {
    cacheUi.progress.removeAttribute('value'); // indeterminate
    cacheUi.progressText.textContent = formatBytes(progress.loaded);
  }
  if (progress.total !== undefined && progress.loaded >= progress.total) {
    cacheUi.download.hidden = true;
    void refreshCache();
  }
}

async function refreshCache(): Promise<void> {
  const entries = await listCachedModels().catch(() => []);
  cacheUi.list.replaceChildren(
    ...entries.map((entry) => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      const size = entry.size ?? entry.storedBytes;
      label.textContent = `${entry.reference} · ${formatBytes(size)}${entry.complete ? '' : ` · partial ${formatBytes(entry.storedBytes)}`}`;
      label.title = entry.url;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'link';
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete ${entry.reference} from the cache`);
      remove.addEventListener('click', () => void deleteCachedModel(entry.id).then(refreshCache));
      item.append(label, remove);
      return item;
    }),
  );
  if (entries.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'muted';
    empty.textContent = 'No cached models';
    cacheUi.list.append(empty);
  }
}

cacheUi.clear.addEventListener('click', () => void clearModelCache().then(refreshCache));
void refreshCache();
