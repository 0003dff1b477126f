/**
 * framewise: real-time object detection on live and recorded video, entirely in the browser.
 * @packageDocumentation
 */
export { InferencePipeline } from './pipeline/inference-pipeline.ts';
export type { InitOptions, CustomLogicOptions, PipelineOptions, PipelineState } from './pipeline/inference-pipeline.ts';
export type { OnVideoFrame } from './pipeline/custom-logic-processor.ts';
export type {
  Backend,
  FrameMetadata,
  FramePredictions,
  Prediction,
  SingleVideoReference,
  Sink,
  StatusEventType,
  StatusHandler,
  StatusSeverity,
  StatusUpdate,
  VideoReference,
  VideoSourceProperties,
  WebcamDeviceReference,
} from './pipeline/types.ts';
export { ModelError, PipelineSourcesError, SourceError, WorkerError } from './pipeline/errors.ts';
export { renderBoxes, defaultColorFor } from './sinks/render-boxes-sink.ts';
export type { RenderBoxesOptions } from './sinks/render-boxes-sink.ts';
export { RFDETR_ALIASES, DEFAULT_HUB_URL } from './models/model-spec.ts';
export type { ModelReference, ModelUrlReference, RfDetrAlias } from './models/model-spec.ts';
export type { ResizeMode, StaticCrop } from './inference/resize-transform.ts';
export { COCO_91_CLASSES } from './inference/coco-classes.ts';

// sinks (issue 5)
export { VideoFileSink, fitRect, codecStringCandidates, liveMimeCandidates } from './sinks/video-file-sink.ts';
export type { VideoFileSinkOptions, VideoFileCodec, VideoFileContainer, VideoFileChunk, VideoFileTarget, VideoRecording, RecordingKey } from './sinks/video-file-sink.ts';
export { WebSocketSink, BoundedQueue, backoffDelay } from './sinks/websocket-sink.ts';
export type { WebSocketSinkOptions, WebSocketSinkStats, WebSocketSinkEvent, WebSocketSinkState, BackoffOptions, InferenceMetadata } from './sinks/websocket-sink.ts';
export { multiSink, MultiSinkError } from './sinks/multi-sink.ts';
export type { SinkFunction, SinkLike, SinkFailure } from './sinks/multi-sink.ts';
export { bufferSink, BufferSink } from './sinks/buffer-sink.ts';
export type { BufferSinkOptions, BufferedResult, BufferedFrameInfo } from './sinks/buffer-sink.ts';
