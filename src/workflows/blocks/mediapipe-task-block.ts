/**
 * The manifest of a MediaPipe task block, built from what sets one block apart: the tasks-vision class, its options
 * from the step's inputs, how to run it, and how its result becomes detections. Everything else is the same for
 * every MediaPipe block: the common properties (`images`, `model_asset_path`, `wasm_path`, `delegate`), one task per
 * step (created again when a setting changes), VIDEO mode on frames and IMAGE mode on crops, the crop origin on the
 * detections, and closing results that hold masks. Fileset, cache and telemetry guard: see `mediapipe-runtime.ts`.
 */
import type { Detections } from '../detections.ts';
import type { Kind } from '../kinds.ts';
import type { BlockManifest, BlockRuntime, PropertySpec } from './block.ts';
import {
  createMediapipeTask,
  detectionsOnImage,
  MEDIAPIPE_COMMON_PROPERTIES,
  mediapipeCall,
  mediapipeRunningMode,
  MediapipeTaskSlot,
  type Closable,
  type MediapipeCall,
  type MediapipeDelegate,
  type WasmFileset,
} from './mediapipe-runtime.ts';

/** The `@mediapipe/tasks-vision` module (a type only: the module is imported on first use, in the worker). */
export type TasksVisionModule = typeof import('@mediapipe/tasks-vision');

/** The options every task is created with, besides its own. */
export interface MediapipeBaseTaskOptions {
  baseOptions: { modelAssetBuffer: Uint8Array; delegate: MediapipeDelegate };
  runningMode: 'IMAGE' | 'VIDEO';
}

/** A tasks-vision task class (`HandLandmarker`, …): what creates a task from a fileset and options. */
export interface MediapipeTaskClass<Task, Options> {
  /** tasks-vision's static factory. */
  createFromOptions(fileset: WasmFileset, options: Options & MediapipeBaseTaskOptions): Promise<Task>;
}

/** What the conversion of one result gets besides the result. */
export interface MediapipeResultContext<Task> {
  /** The step's inputs, resolved. */
  inputs: Record<string, unknown>;
  /** The image the task ran on (the frame or a crop). */
  frame: MediapipeCall['frame'];
  runtime: BlockRuntime;
  /** The task that gave the result. */
  task: Task;
}

/** What sets one MediaPipe block apart from the others. */
export interface MediapipeTaskBlockConfig<Task extends Closable, Options extends object, Result> {
  /** Full identifier (`framewise/mediapipe_…@v1`). */
  type: string;
  /** Other names accepted in `type`. */
  aliases: readonly string[];
  /** One line for documentation. */
  description: string;
  /** The block's own properties, after the common ones. */
  properties: Readonly<Record<string, PropertySpec>>;
  /** The kinds of the `predictions` output. */
  predictionKinds: readonly Kind[];
  /** The task's name in messages (`HandLandmarker`). */
  task: string;
  /** What to serve, said when `model_asset_path` is missing. */
  modelHint: string;
  /** The task's class in tasks-vision. */
  taskClass(vision: TasksVisionModule): MediapipeTaskClass<Task, Options>;
  /** The task's own options, from the step's inputs (JSON-able: a change creates the task again). */
  options(inputs: Record<string, unknown>): Options;
  /** What a refusal of the model means, where the message is recognised. */
  explain?(message: string): string | undefined;
  /** Runs the task on `source`: in VIDEO mode with `timestamp`, in IMAGE mode when it is undefined. */
  process(task: Task, source: TexImageSource, timestamp: number | undefined): Result;
  /** The result as detections in the pixels of the image the task ran on. */
  predictions(result: Result, context: MediapipeResultContext<Task>): Detections;
}

/** Closes results that hold masks (`PoseLandmarkerResult`, `ImageSegmenterResult`); plain results have no `close`. */
function closeResult(result: unknown): void {
  if (typeof result === 'object' && result !== null && typeof (result as Partial<Closable>).close === 'function') (result as Closable).close();
}

/** The manifest of a MediaPipe task block (see the module comment). */
export function mediapipeTaskBlock<Task extends Closable, Options extends object, Result>(config: MediapipeTaskBlockConfig<Task, Options, Result>): BlockManifest {
  return {
    type: config.type,
    aliases: config.aliases,
    description: config.description,
    properties: { ...MEDIAPIPE_COMMON_PROPERTIES, ...config.properties },
    outputs: () => [{ name: 'predictions', kinds: config.predictionKinds }],
    create: () => {
      const slot = new MediapipeTaskSlot<Task>();
      return {
        async run(inputs, { runtime }) {
          const call = mediapipeCall(inputs, runtime, config.modelHint);
          const options = config.options(inputs);
          const mode = mediapipeRunningMode(call.frame);
          const task = await slot.get([call.modelPath, call.wasmPath, call.delegate, options, mode], () =>
            createMediapipeTask(
              config.task,
              call,
              async (fileset, model) => {
                const vision = await import('@mediapipe/tasks-vision');
                return config.taskClass(vision).createFromOptions(fileset, { baseOptions: { modelAssetBuffer: model, delegate: call.delegate }, runningMode: mode, ...options });
              },
              config.explain,
            ),
          );
          const result = config.process(task, call.frame.source as TexImageSource, mode === 'VIDEO' ? slot.clock.next() : undefined);
          try {
            return { predictions: detectionsOnImage(config.predictions(result, { inputs, frame: call.frame, runtime, task }), call.frame) };
          } finally {
            closeResult(result);
          }
        },
      };
    },
  };
}
