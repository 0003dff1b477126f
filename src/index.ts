/**
 * framewise: real-time object detection on live and recorded video, entirely in the browser.
 * @packageDocumentation
 */
export { InferencePipeline } from './pipeline/inference-pipeline.ts';
export type {
  AdaptiveSink,
  BatchSink,
  CustomLogicOptions,
  FrameSink,
  InitModelOptions,
  InitOptions,
  PipelineBaseOptions,
  PipelineOptions,
  PipelineState,
  SinkMode,
  SinkOptions,
} from './pipeline/inference-pipeline.ts';
export type { BufferConsumptionStrategy, BufferFillingStrategy, DropCause } from './pipeline/frame-buffer.ts';
export type { SourceState } from './pipeline/source-feed.ts';
export type { PipelineWatchdog, SourceLatencyReport, WatchdogReport } from './pipeline/watchdog.ts';
export type { OnVideoFrame } from './pipeline/custom-logic-processor.ts';
export type {
  Backend,
  FrameMetadata,
  FramePredictions,
  Prediction,
  SingleVideoReference,
  Sink,
  StatusContext,
  StatusEventType,
  StatusHandler,
  StatusSeverity,
  StatusUpdate,
  VideoReference,
  VideoSourceProperties,
  WebcamDeviceReference,
  WhepReference,
} from './pipeline/types.ts';
export { ModelError, PipelineSourcesError, SourceError, WorkerError } from './pipeline/errors.ts';
export { whepUrlForRtsp, checkRtspRelay } from './sources/rtsp-relay.ts';
export type { RtspRelay } from './sources/rtsp-relay.ts';
export type { WhepSourceState } from './sources/whep-source.ts';
export { renderBoxes, defaultColorFor } from './sinks/render-boxes-sink.ts';
export type { RenderBoxesOptions } from './sinks/render-boxes-sink.ts';
export { renderBoxesInWorker } from './sinks/render-boxes-worker-sink.ts';
export { forEachFrame } from './sinks/batch-adapter.ts';
export type { RenderBoxesInWorkerOptions, WorkerRenderSink } from './sinks/render-boxes-worker-sink.ts';
export { RFDETR_ALIASES, DEFAULT_HUB_URL } from './models/model-spec.ts';
export type { ModelReference, ModelUrlReference, RfDetrAlias } from './models/model-spec.ts';
export type { ResizeMode, StaticCrop } from './inference/resize-transform.ts';
export { COCO_91_CLASSES } from './inference/coco-classes.ts';

// sinks (issue 5)
export { VideoFileSink } from './sinks/video-file-sink.ts';
export type { VideoFileSinkOptions, VideoFileCodec, VideoFileContainer, VideoFileChunk, VideoFileTarget, VideoRecording, RecordingKey } from './sinks/video-file-sink.ts';
export { WebSocketSink, backoffDelay } from './sinks/websocket-sink.ts';
export type { WebSocketSinkOptions, WebSocketSinkStats, WebSocketSinkEvent, WebSocketSinkState, BackoffOptions, InferenceMetadata } from './sinks/websocket-sink.ts';
export { multiSink, MultiSinkError } from './sinks/multi-sink.ts';
export type { SinkFunction, SinkLike, SinkFailure } from './sinks/multi-sink.ts';
export { bufferSink, BufferSink } from './sinks/buffer-sink.ts';
export type { BufferSinkOptions, BufferedResult, BufferedFrameInfo } from './sinks/buffer-sink.ts';
// models (issue 3)
export { getModel, listCachedModels, deleteCachedModel, clearModelCache } from './models/get-model.ts';
export { clearWorkerLayouts } from './inference/worker-layout.ts';
export type { GetModelOptions, ModelInfo, CachedModelInfo, ModelProgress, ModelStatusHandler } from './models/get-model.ts';
export type { DownloadProgress } from './models/chunked-download.ts';
export { ModelLoadError } from './models/model-errors.ts';
export type { ModelErrorCode } from './models/model-errors.ts';
export { DEFAULT_API_URL } from './models/model-spec.ts';
export type { ModelDtype, ModelDataReference, ModelOverrides, ModelSourceKind, ModelSpec } from './models/model-spec.ts';

// workflows (issue 7)
export type { WorkflowOptions, WorkflowPipeline } from './pipeline/inference-pipeline.ts';
export {
  WorkflowError,
  WorkflowSyntaxError,
  DuplicatedNameError,
  InvalidReferenceTargetError,
  ReferenceTypeError,
  ExecutionGraphStructureError,
  StepInputDimensionalityError,
  StepOutputLineageError,
  RuntimeInputError,
  StepExecutionError,
} from './workflows/workflow-errors.ts';
export type { WorkflowErrorLocation } from './workflows/workflow-errors.ts';
export { RegisteredWorkflowError } from './workflows/registered-workflow.ts';
export type {
  WorkflowSpecification,
  WorkflowInput,
  WorkflowImageInput,
  WorkflowVideoMetadataInput,
  WorkflowParameterInput,
  WorkflowStep,
  WorkflowJsonFieldOutput,
} from './workflows/workflow-schema.ts';
export type { VideoMetadata } from './workflows/blocks/block.ts';
export { serializeDetections, detectionsToRootCoordinates } from './workflows/detections.ts';
export type {
  Detections,
  DetectionsData,
  DetectionsColumn,
  DetectionsKeypoints,
  SerializedDetection,
  SerializedDetections,
  ImageOrigin,
  CoordinatesOrigin,
} from './workflows/detections.ts';
export { decodeMaskRle, encodeMaskRle } from './workflows/mask-rle.ts';
export type { WorkflowResult, WorkflowOutputValue, Base64Image } from './workflows/serialize.ts';
export type { ChromeTrace, TraceEvent } from './workflows/profiler.ts';
