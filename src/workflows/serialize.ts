/**
 * The edges of the engine: turning a frame's typed outputs into what the sink gets. With `serializeResults`,
 * detections become Roboflow's JSON and images `{ type: 'base64', value }` JPEG; without it detections stay typed
 * and images become `ImageBitmap`s (transferred, not copied).
 */
import { isWorkflowImage, type VideoMetadata } from './blocks/block.ts';
import { isDetections, serializeDetections, type Detections, type SerializedDetections } from './detections.ts';

/** An image output with `serializeResults`: base64 JPEG. */
export interface Base64Image {
  /** Always `base64`. */
  type: 'base64';
  /** Base64 of the JPEG bytes. */
  value: string;
  /** The metadata of the video the image comes from. */
  video_metadata?: VideoMetadata;
}

/** One output value as the sink receives it. */
export type WorkflowOutputValue =
  | Detections
  | SerializedDetections
  | ImageBitmap
  | Base64Image
  | VideoMetadata
  | string
  | number
  | boolean
  | null
  | undefined
  | WorkflowOutputValue[]
  | { [key: string]: WorkflowOutputValue };

/** What the sink receives for one frame: the workflow's outputs by name. */
export type WorkflowResult = Record<string, WorkflowOutputValue>;

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Converts raw outputs for delivery; fills `transfer` with what may be transferred. */
export async function prepareOutputs(raw: Record<string, unknown>, serialize: boolean, transfer: Transferable[]): Promise<WorkflowResult> {
  const convert = async (value: unknown): Promise<WorkflowOutputValue> => {
    if (isDetections(value)) return serialize ? serializeDetections(value) : value;
    if (isWorkflowImage(value)) {
      if (!value.source) return null;
      if (serialize) {
        const canvas = new OffscreenCanvas(value.width, value.height);
        canvas.getContext('2d')!.drawImage(value.source, 0, 0, value.width, value.height);
        const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
        return { type: 'base64', value: bytesToBase64(new Uint8Array(await blob.arrayBuffer())), video_metadata: value.videoMetadata };
      }
      const bitmap = await createImageBitmap(value.source);
      transfer.push(bitmap);
      return bitmap;
    }
    if (Array.isArray(value)) return Promise.all(value.map(convert));
    if (value instanceof Float64Array || value instanceof Float32Array || value instanceof Int32Array) return Array.from(value);
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, WorkflowOutputValue> = {};
      for (const [k, item] of Object.entries(value)) out[k] = await convert(item);
      return out;
    }
    return value as WorkflowOutputValue;
  };
  const out: WorkflowResult = {};
  for (const [name, value] of Object.entries(raw)) out[name] = await convert(value);
  return out;
}
