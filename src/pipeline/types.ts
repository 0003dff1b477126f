/**
 * Public value types: references, predictions (the reference's JSON keys), frame metadata, sinks and status events.
 */

/** A device chosen by its `MediaDeviceInfo.deviceId`; the unambiguous form of a webcam reference. */
export interface WebcamDeviceReference {
  /** The camera's `MediaDeviceInfo.deviceId`, from `navigator.mediaDevices.enumerateDevices()`. */
  deviceId: string;
}

/**
 * A live stream from a WHEP endpoint (WebRTC), e.g. an RTSP camera behind MediaMTX, go2rtc or `npm run relay`:
 * `{ whep: 'http://127.0.0.1:8889/cam1/whep' }`. The source reconnects by itself when the stream stops.
 */
export interface WhepReference {
  /** The WHEP endpoint URL (http or https): MediaMTX `http://host:8889/{path}/whep`, go2rtc `http://host:1984/api/webrtc?src={name}`. */
  whep: string;
}

/**
 * What to read frames from.
 * - `number`: a webcam, by its index among `enumerateDevices()` video inputs.
 * - `string`: a video URL (MP4/WebM are decoded frame by frame; other formats play through a `<video>` element),
 *   or a webcam device id (a string with no `/`, `.` or `:`).
 * - `File` / `Blob`: a local video file, decoded frame by frame.
 * - `MediaStream` / `HTMLVideoElement`: live sources; the freshest frame is processed.
 * - `{ whep }`: a WHEP endpoint (see {@link WhepReference}); an `rtsp://…` string works too when the pipeline is
 *   given an `rtspRelay` that serves it.
 */
export type SingleVideoReference = number | string | File | Blob | MediaStream | HTMLVideoElement | WebcamDeviceReference | WhepReference;

/** One reference, or a list of them (each gets `source_id` = its index). */
export type VideoReference = SingleVideoReference | readonly SingleVideoReference[];

/** getUserMedia constraints for webcams. */
export interface VideoSourceProperties {
  /** Ideal frame width in pixels. */
  frameWidth?: number;
  /** Ideal frame height in pixels. */
  frameHeight?: number;
  /** Ideal frame rate in frames per second. */
  fps?: number;
}

/** One detection, with the same keys as Roboflow's inference JSON. */
export interface Prediction {
  /** Box centre x in source-frame pixels. */
  x: number;
  /** Box centre y in source-frame pixels. */
  y: number;
  /** Box width in source-frame pixels. */
  width: number;
  /** Box height in source-frame pixels. */
  height: number;
  /** Sigmoid score in [0, 1]. */
  confidence: number;
  /** Class name. */
  class: string;
  /** Class index in the model's head (sparse COCO-91 ids for COCO models: person = 1). */
  class_id: number;
  /** A random UUID for this detection. */
  detection_id: string;
}

/** Everything predicted for one frame. */
export interface FramePredictions {
  /** Source frame size in pixels. */
  image: {
    /** Source frame width in pixels. */
    width: number;
    /** Source frame height in pixels. */
    height: number;
  };
  /** The detections on this frame (empty when nothing scored above `confidence`), in source-frame pixels. */
  predictions: Prediction[];
  /** 1-based index of the frame within its source; gaps show dropped frames. */
  frame_id: number;
  /** Index of the source in the `videoReference` list (0 for a single source). */
  source_id: number;
  /** When the frame was grabbed, in seconds since the Unix epoch. */
  frame_timestamp: number;
}

/** A frame as handed to sinks and to custom logic. */
export interface FrameMetadata {
  /**
   * The frame itself. It is owned by the pipeline and closed after the sink returns (or its promise settles):
   * `clone()` it to keep it longer.
   */
  image: VideoFrame;
  /** 1-based index within the source; counts every grabbed frame, so gaps show drops. */
  frameId: number;
  /** When the frame was grabbed, in seconds since the Unix epoch. */
  frameTimestamp: number;
  /** Presentation time of the frame within its media, in seconds (file sources: the container's timestamp). */
  mediaTimestamp: number;
  /** Index of the source in the `videoReference` list (0 for a single source); `source_id` of the predictions. */
  sourceId: number;
  /** Nominal frames per second of the source (0 when unknown). */
  fps: number;
  /** Frames per second actually processed for this source, over the last second or so. */
  measuredFps: number;
  /** True for file and URL sources decoded frame by frame (every frame, in order); false for live sources. */
  comesFromVideoFile: boolean;
  /** Milliseconds from grabbing the frame to its predictions being ready. */
  latencyMs: number;
  /** Frames this source dropped so far (live sources keep only the freshest frame). */
  droppedFrames: number;
}

/** A sink receives the predictions and the frame. It may be async; the pipeline waits before calling it again. */
export type Sink = (predictions: FramePredictions, frame: FrameMetadata) => void | Promise<void>;

/**
 * How much a status event matters: `debug` for per-frame events (captured, dropped, inference started/completed),
 * `info` for milestones, `warning` for degraded operation (e.g. single-threaded WASM), `error` for failures.
 */
export type StatusSeverity = 'debug' | 'info' | 'warning' | 'error';

/** A status event. `eventType` is one of {@link StatusEventType}. */
export interface StatusUpdate {
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  /** How much the event matters; see {@link StatusSeverity}. */
  severity: StatusSeverity;
  /** What happened; see {@link StatusEventType}. */
  eventType: StatusEventType;
  /** Human-readable description: what happened and, for problems, what was expected. */
  message: string;
  /** The source concerned, when there is one. */
  sourceId?: number;
  /** Structured details (numbers, names; never an API key). */
  payload?: Record<string, unknown>;
  /** Which part of the pipeline sent it. Default 'inference_pipeline'. */
  context?: StatusContext;
}

/**
 * The kind of a status event. Pipeline lifecycle (`PIPELINE_*`), model loading (`MODEL_*`), `BACKEND_SELECTED`
 * (which execution provider runs and why), `THREADING` (workers × WASM threads, or, as a warning, why WASM runs
 * single-threaded and which headers would help), `WORKER_LAYOUT` (what `workers: 'auto'` measured and chose), sources (`SOURCE_*`, `VIDEO_CONSUMPTION_*`), per-frame debug
 * events (`FRAME_*`, `INFERENCE_STARTED`/`_COMPLETED`) and problems (`INFERENCE_ERROR`, `SINK_ERROR`,
 * `INFERENCE_RESULTS_DISPATCHING_ERROR` when a sink throws, `FRAME_COPY_FAILED` when a live frame could not be
 * copied out of its source's buffers).
 */
export type StatusEventType =
  | 'PIPELINE_STARTING'
  | 'PIPELINE_STARTED'
  | 'PIPELINE_ENDED'
  | 'PIPELINE_ERROR'
  | 'PIPELINE_TERMINATED'
  | 'MODEL_LOADING'
  | 'MODEL_LOADED'
  | 'MODEL_CACHE_HIT'
  | 'BACKEND_SELECTED'
  | 'THREADING'
  | 'WORKER_LAYOUT'
  | 'SOURCE_STARTED'
  | 'SOURCE_FALLBACK'
  | 'SOURCE_ENDED'
  | 'SOURCE_ERROR'
  | 'SINK_ERROR'
  | 'INFERENCE_ERROR'
  // The reference's per-frame and per-source events:
  | 'SOURCE_STATE_UPDATE'
  | 'SOURCE_CONNECTION_LOST'
  | 'SOURCE_RECONNECTED'
  | 'FRAME_CAPTURED'
  | 'FRAME_DROPPED'
  | 'FRAME_CONSUMED'
  | 'VIDEO_CONSUMPTION_STARTED'
  | 'VIDEO_CONSUMPTION_FINISHED'
  | 'INFERENCE_STARTED'
  | 'INFERENCE_COMPLETED'
  | 'INFERENCE_RESULTS_DISPATCHING_ERROR'
  | 'FRAME_COPY_FAILED';

/** Which part of the pipeline an event comes from (the reference's `context`). */
export type StatusContext = 'inference_pipeline' | 'video_source' | 'video_consumer' | 'model' | 'sink';

/**
 * Receives every status event (`statusUpdateHandlers`). Called synchronously on the main thread: keep it short.
 * An exception it throws is caught and logged with `console.error`, so one handler cannot stop the pipeline or
 * the other handlers.
 */
export type StatusHandler = (update: StatusUpdate) => void;

/** Which onnxruntime-web execution provider runs the model. */
export type Backend = 'auto' | 'webgpu' | 'wasm';
