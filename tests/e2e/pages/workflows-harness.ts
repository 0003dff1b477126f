/**
 * The page the workflow tests drive: runs InferencePipeline.initWithWorkflow in the real browser and hands plain
 * JSON back (detections serialised here, images probed for pixels).
 */
import { InferencePipeline } from '../../../src/pipeline/inference-pipeline.ts';
import type { StatusUpdate } from '../../../src/pipeline/types.ts';
import { isDetections, serializeDetections, type SerializedDetections } from '../../../src/workflows/detections.ts';
import type { ChromeTrace } from '../../../src/workflows/profiler.ts';
import type { WorkflowOutputValue, WorkflowResult } from '../../../src/workflows/serialize.ts';

/** What a test asks for. */
export interface WorkflowRunRequest {
  specification?: unknown;
  /** URL of a video file to read as a File. */
  video: string;
  parameters?: Record<string, unknown>;
  serializeResults?: boolean;
  mediapipeWasmPath?: string;
  profiling?: boolean;
  profilerBufferSize?: number;
  registered?: { workspaceName: string; workflowId: string; apiKey: string; apiUrl: string };
  /** After the sink got frame `frame`, call updateWorkflowParameters(values) (and, if given, with `invalid` too). */
  update?: { frame: number; values: Record<string, unknown>; invalid?: Record<string, unknown> };
  /** Read RGB at these points of image output `output` on these frames. */
  probes?: { output: string; frames: number[]; points: [number, number][] };
}

/** One frame as the sink got it, made JSON-safe. */
export interface FrameOutputs {
  frameId: number;
  outputs: Record<string, unknown>;
  /** Which outputs arrived typed (Detections with typed arrays / ImageBitmap). */
  typed: Record<string, 'detections' | 'bitmap' | 'other'>;
}

/** What a run returns. */
export interface WorkflowRunResult {
  frames: FrameOutputs[];
  pixels: Record<number, number[][]>;
  profile?: ChromeTrace;
  statuses: string[];
  error?: { name: string; message: string };
  /** How updateWorkflowParameters answered: 'ok' or the error's name and message. */
  updates?: string[];
}

function jsonSafe(value: WorkflowOutputValue): unknown {
  if (isDetections(value)) return { ...serializeDetections(value), tracker_ids: value.trackerId ? Array.from(value.trackerId) : null } as SerializedDetections;
  if (value instanceof ImageBitmap) return { bitmap: [value.width, value.height] };
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v as WorkflowOutputValue)]));
  return value;
}

function typeOf(value: WorkflowOutputValue): 'detections' | 'bitmap' | 'other' {
  if (isDetections(value) && value.xyxy instanceof Float32Array) return 'detections';
  if (value instanceof ImageBitmap) return 'bitmap';
  return 'other';
}

async function runWorkflow(request: WorkflowRunRequest): Promise<WorkflowRunResult> {
  const bytes = await (await fetch(request.video)).arrayBuffer();
  const file = new File([bytes], request.video.split('/').pop()!, { type: 'video/mp4' });
  const frames: FrameOutputs[] = [];
  const pixels: Record<number, number[][]> = {};
  const statuses: string[] = [];
  const probeCanvas = new OffscreenCanvas(1, 1);
  const updates: string[] = [];
  const answer = (p: Promise<void>) =>
    p.then(
      () => updates.push('ok'),
      (e: Error) => updates.push(`${e.name}: ${e.message}`),
    );
  let pipeline: ReturnType<typeof InferencePipeline.initWithWorkflow> | undefined;
  try {
    pipeline = InferencePipeline.initWithWorkflow({
      videoReference: file,
      mediapipeWasmPath: request.mediapipeWasmPath,
      workflowSpecification: request.specification as Record<string, unknown> | undefined,
      workspaceName: request.registered?.workspaceName,
      workflowId: request.registered?.workflowId,
      apiKey: request.registered?.apiKey,
      apiUrl: request.registered?.apiUrl,
      workflowsParameters: request.parameters,
      serializeResults: request.serializeResults,
      profiling: request.profiling,
      profilerBufferSize: request.profilerBufferSize,
      backend: 'wasm',
      statusUpdateHandlers: [(s: StatusUpdate) => statuses.push(`${s.eventType}: ${s.message}`)],
      onPrediction: (result: WorkflowResult, frame) => {
        const outputs: Record<string, unknown> = {};
        const typed: FrameOutputs['typed'] = {};
        for (const [name, value] of Object.entries(result)) {
          outputs[name] = jsonSafe(value);
          typed[name] = typeOf(value);
        }
        frames.push({ frameId: frame.frameId, outputs, typed });
        const update = request.update;
        if (update && frame.frameId === update.frame) {
          void answer(pipeline!.updateWorkflowParameters(update.values));
          if (update.invalid) void answer(pipeline!.updateWorkflowParameters(update.invalid));
        }
        const probe = request.probes;
        if (probe && probe.frames.includes(frame.frameId)) {
          const image = result[probe.output];
          if (image instanceof ImageBitmap) {
            probeCanvas.width = image.width;
            probeCanvas.height = image.height;
            const ctx = probeCanvas.getContext('2d', { willReadFrequently: true })!;
            ctx.drawImage(image, 0, 0);
            pixels[frame.frameId] = probe.points.map(([x, y]) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]);
          }
        }
        for (const value of Object.values(result)) if (value instanceof ImageBitmap) value.close();
      },
    });
    pipeline.start();
    await pipeline.join();
  } catch (error) {
    const e = error as Error;
    return { frames, pixels, statuses, updates, profile: pipeline?.workflowProfile(), error: { name: e.name, message: e.message } };
  }
  return { frames, pixels, statuses, updates, profile: request.profiling ? pipeline.workflowProfile() : undefined };
}

const harness = { runWorkflow };
(window as unknown as { workflowsHarness: typeof harness }).workflowsHarness = harness;
/** The harness API, for the tests' types. */
export type WorkflowsHarness = typeof harness;
document.title = 'workflows harness ready';
