/** Turns a video reference into a FrameSource. */
import { SourceError } from '../pipeline/errors.ts';
import type { SingleVideoReference, StatusUpdate, VideoSourceProperties } from '../pipeline/types.ts';
import { FileSource, UndecodableError } from './file-source.ts';
import type { FrameSource, SourceInfo } from './frame-source.ts';
import { openMediaElement, openUrlAsMediaElement } from './media-element-source.ts';
import { MediaStreamSource } from './media-stream-source.ts';
import { openWebcam } from './webcam-source.ts';

export interface OpenedSource {
  source: FrameSource;
  info: SourceInfo;
}

type Notify = (update: Omit<StatusUpdate, 'timestamp'>) => void;

/** A string is a URL when it has a scheme, a slash or a dot; otherwise it is a webcam device id. */
function looksLikeUrl(value: string): boolean {
  return /[/.:]/.test(value);
}

/** Describes a reference for messages without dumping objects. */
export function describeReference(reference: SingleVideoReference): string {
  if (typeof reference === 'number') return `webcam ${reference}`;
  if (typeof reference === 'string') return reference;
  if (typeof File !== 'undefined' && reference instanceof File) return `file "${reference.name}"`;
  if (reference instanceof Blob) return 'blob';
  if (typeof MediaStream !== 'undefined' && reference instanceof MediaStream) return 'MediaStream';
  if (typeof HTMLVideoElement !== 'undefined' && reference instanceof HTMLVideoElement) return '<video> element';
  return 'device';
}

/** Checks a reference's type up front so a typo fails at init, not mid-run. */
export function checkReference(reference: unknown, path: string): asserts reference is SingleVideoReference {
  const ok =
    typeof reference === 'number' ||
    (typeof reference === 'string' && reference.length > 0) ||
    reference instanceof Blob ||
    (typeof MediaStream !== 'undefined' && reference instanceof MediaStream) ||
    (typeof HTMLVideoElement !== 'undefined' && reference instanceof HTMLVideoElement) ||
    (typeof reference === 'object' && reference !== null && typeof (reference as { deviceId?: unknown }).deviceId === 'string');
  if (!ok) {
    throw new TypeError(
      `${path} must be a webcam index, a URL or device id string, a File or Blob, a MediaStream, an HTMLVideoElement or { deviceId }; got ${JSON.stringify(reference) ?? String(reference)}`,
    );
  }
}

export async function openSource(
  sourceId: number,
  reference: SingleVideoReference,
  properties: VideoSourceProperties | undefined,
  notify: Notify,
): Promise<OpenedSource> {
  let source: FrameSource;
  if (typeof reference === 'number') source = await openWebcam(sourceId, reference, properties);
  else if (typeof reference === 'string' && !looksLikeUrl(reference)) source = await openWebcam(sourceId, { deviceId: reference }, properties);
  else if (typeof reference === 'string' || reference instanceof Blob) {
    const file = new FileSource(sourceId, reference);
    try {
      return { source: file, info: await file.open() };
    } catch (error) {
      if (!(error instanceof UndecodableError) || typeof reference !== 'string') throw error;
      notify({
        severity: 'warning',
        eventType: 'SOURCE_FALLBACK',
        sourceId,
        message: `${error.message}; playing it through a <video> element as a live source instead (frames may be dropped)`,
        payload: { reference, reason: error.message },
      });
      source = await openUrlAsMediaElement(sourceId, reference);
    }
  } else if (typeof MediaStream !== 'undefined' && reference instanceof MediaStream) {
    source = new MediaStreamSource(sourceId, reference, { description: 'MediaStream', stopTracksOnClose: false });
  } else if (typeof HTMLVideoElement !== 'undefined' && reference instanceof HTMLVideoElement) {
    source = await openMediaElement(sourceId, reference, '<video> element', false);
  } else if ('deviceId' in reference) {
    source = await openWebcam(sourceId, { deviceId: reference.deviceId }, properties);
  } else {
    throw new SourceError(sourceId, 'unsupported video reference');
  }
  try {
    return { source, info: await source.open() };
  } catch (error) {
    source.close();
    throw error;
  }
}
