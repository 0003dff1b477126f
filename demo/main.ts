/**
 * The framewise demo: one pipeline at a time, rebuilt whenever a setting changes.
 *
 * A restart is queued: the running pipeline is terminated (awaited) before the next one starts, and a restart
 * superseded by a newer one before it got to run is skipped. Frames and events of a pipeline that is no longer
 * the current one are ignored, so stale results never reach the canvas or the counters.
 */
import { InferencePipeline, renderBoxes } from '../src/index.ts';
import type { Backend, FrameMetadata, FramePredictions, ModelReference, SingleVideoReference, StatusUpdate } from '../src/index.ts';

const SAMPLE_URL = '/samples/sample.mp4';
const BUNDLED_MODEL: ModelReference = { url: '/models/colour-box-320.onnx' };
const MAX_LOG_ENTRIES = 300;

type SourceKind = 'sample' | 'webcam' | 'file' | 'url';
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
};

// ---------------------------------------------------------------------------------------------------------------
// Settings

interface Settings {
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
  pipeline?: InferencePipeline;
  frames: number;
}

const view = {
  state: 'idle' as RunState,
  framesProcessed: 0,
  lastPredictions: null as FramePredictions | null,
  backend: null as string | null,
  starts: 0,
  error: null as string | null,
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

function onStatus(run: Run, update: StatusUpdate): void {
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
ui.clearLog.addEventListener('click', () => ui.log.replaceChildren());
navigator.mediaDevices?.addEventListener?.('devicechange', () => {
  if (sourceKind() === 'webcam') void refreshCameras();
});

showSourceFields();
showConfidence();
restart('settings');
