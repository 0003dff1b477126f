/**
 * What a block is: a manifest (type identifier, aliases, properties with their kinds and literal schemas, outputs)
 * and a factory for the instance that runs on every frame. Stateful instances keep their state per video.
 */
import type * as v from 'valibot';
import type { ModelReference } from '../../models/model-spec.ts';
import type { CoordinatesOrigin, Detections } from '../detections.ts';
import type { Kind } from '../kinds.ts';

/** The per-frame video metadata input (Roboflow's `VideoMetadata`). */
export interface VideoMetadata {
  /** The source id, as a string; stateful blocks keep state per identifier. */
  video_identifier: string;
  /** 1-based frame number within the source. */
  frame_number: number;
  /** When the frame was grabbed, in seconds since the Unix epoch. */
  frame_timestamp: number;
  /** Nominal frames per second of the source (0 when unknown). */
  fps: number;
  /** Frames per second actually processed. */
  measured_fps: number;
  /** Whether the frame comes from a file (every frame, in order) rather than a live source. */
  comes_from_video_file: boolean;
}

/** An image inside the engine: the frame, or a canvas a visualisation drew. */
export interface WorkflowImageValue {
  /** Tag telling images apart from other values. */
  readonly workflowImage: true;
  /** Something drawable (absent in unit tests that run blocks without pixels). */
  source?: CanvasImageSource;
  width: number;
  height: number;
  /** Identifier of the image (the frame's `parent_id`; for a crop, the id of the detection it was cut around). */
  parentId: string;
  /** The metadata of the video the frame belongs to. */
  videoMetadata: VideoMetadata;
  /** For a crop: where it lies in the image it was cut from and in the frame. Absent for the frame itself. */
  origin?: CoordinatesOrigin;
}

/** Whether `value` is a {@link WorkflowImageValue}. */
export function isWorkflowImage(value: unknown): value is WorkflowImageValue {
  return typeof value === 'object' && value !== null && (value as WorkflowImageValue).workflowImage === true;
}

/** How one block property may be written. */
export interface PropertySpec {
  /** Kinds a selector in this property may carry. Absent: selectors are not accepted. */
  kinds?: readonly Kind[];
  /** Schema of a literal value. Absent: only a selector is accepted. */
  literal?: v.GenericSchema;
  /** Value used when the property is omitted. */
  default?: unknown;
  /** The property must be given (no default). */
  required?: boolean;
  /** A dict whose values are selectors or literals (`operations_parameters`); `kinds` applies to each. */
  dictOfSelectors?: boolean;
  /** Other names the property may be written under (`images` for `image`). */
  aliases?: readonly string[];
}

/** One output a block declares. */
export interface OutputSpec {
  name: string;
  kinds: readonly Kind[];
}

/** Options of one model call. */
export interface DetectOptions {
  confidence: number;
  iouThreshold: number;
  maxDetections: number;
  classAgnosticNms: boolean;
  classFilter?: readonly string[];
}

/** What the worker offers blocks: models, identifiers, warnings. */
export interface BlockRuntime {
  /**
   * Runs the object detection model of `modelKey` (see {@link modelKey}) on `image`. A model not loaded before the
   * first frame (a `model_id` fed by a step output) is loaded from `reference` when the runtime can.
   */
  detect(modelKey: string, image: WorkflowImageValue, options: DetectOptions, reference?: ModelReference): Promise<Detections>;
  /** A fresh identifier (UUID). */
  newId(): string;
  /** The pipeline's `mediapipeWasmPath` option, when given. */
  mediapipeWasmPath?: string;
}

/** What a running block learns about the current call. */
export interface BlockContext {
  /** The step's name in the specification. */
  step: string;
  /** The metadata of the frame being processed. */
  video: VideoMetadata;
  runtime: BlockRuntime;
}

/** A block's outputs for one frame, by output name. */
export type BlockOutputs = Record<string, unknown>;

/** The instance of a block that runs for one compiled step. */
export interface BlockInstance {
  /** Runs on one frame: `inputs` holds every property, resolved (selectors replaced by values, defaults applied). */
  run(inputs: Record<string, unknown>, context: BlockContext): BlockOutputs | Promise<BlockOutputs>;
}

/** A block: its manifest and its factory. */
export interface BlockManifest {
  /** Full identifier, `roboflow_core/…@vN` or `framewise/…@vN`. */
  type: string;
  /** Other names accepted in `type` (the reference's aliases). */
  aliases: readonly string[];
  /** One line for documentation. */
  description: string;
  properties: Readonly<Record<string, PropertySpec>>;
  /** The outputs, given the step's literal properties (some blocks' outputs depend on them). */
  outputs(literals: Readonly<Record<string, unknown>>): readonly OutputSpec[];
  /**
   * How many levels of nesting the outputs add to the inputs (Roboflow's `get_output_dimensionality_offset`):
   * 1 for a block that outputs a list per input (dynamic_crop: one crop per detection). Default 0.
   */
  outputDimensionalityOffset?: 0 | 1;
  /**
   * Properties that take their data one level deeper than the step runs at (Roboflow's
   * `get_input_dimensionality_offsets`): detections_stitch gets, per frame, the list of predictions made on its crops.
   */
  inputDimensionalityOffsets?: Readonly<Record<string, 1>>;
  /** The property whose level the step runs at, when inputs sit at several (`get_dimensionality_reference_property`). */
  dimensionalityReferenceProperty?: string;
  /** Checks across properties; throws WorkflowSyntaxError. */
  validate?(literals: Readonly<Record<string, unknown>>, step: string): void;
  /** The model a step needs loaded before the first frame (model blocks), given its `model_id` value. */
  modelOf?(properties: Readonly<Record<string, unknown>>): ModelReference | undefined;
  /** Creates the instance for one step. */
  create(step: string): BlockInstance;
}

/** Canonical key of a model reference: what the worker loads once and steps refer to. */
export function modelKey(reference: ModelReference): string {
  if (typeof reference === 'string') return reference;
  if ('url' in reference && typeof reference.url === 'string') return JSON.stringify({ ...reference });
  return `data:${(reference as { name?: string }).name ?? 'local model'}`;
}
