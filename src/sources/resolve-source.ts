/** Turns a video reference into a FrameSource. */
import { SourceError } from '../pipeline/errors.ts';
import type { SingleVideoReference, StatusUpdate, VideoSourceProperties, WhepReference } from '../pipeline/types.ts';
import { FileSource, UndecodableError } from './file-source.ts';
import type { FrameSource, SourceInfo } from './frame-source.ts';
import { openMediaElement, openUrlAsMediaElement } from './media-element-source.ts';
import { MediaStreamSource } from './media-stream-source.ts';
import { whepUrlForRtsp, type RtspRelay } from './rtsp-relay.ts';
import { openWebcam } from './webcam-source.ts';
import { WhepSource, type WhepSourceState } from './whep-source.ts';

export interface OpenedSource {
  source: FrameSource;
  info: SourceInfo;
}

type Notify = (update: Omit<StatusUpdate, 'timestamp'>) => void;

/** Extra settings for {@link openSource} (its optional 5th parameter). */
export interface OpenSourceOptions {
  /** The relay that serves `rtsp://…` references over WHEP. Without it an `rtsp://` reference fails. */
  rtspRelay?: RtspRelay;
  /**
   * Aborting closes the source, even while it is still opening: a WHEP source retries until it connects, and
   * this is how a pipeline that is terminated meanwhile stops it.
   */
  signal?: AbortSignal;
}

/** An `rtsp://` or `rtsps://` URL. */
function isRtspUrl(value: string): boolean {
  return /^rtsps?:\/\//i.test(value);
}

/** A `{ whep: url }` reference. */
function isWhepReference(reference: unknown): reference is WhepReference {
  return typeof reference === 'object' && reference !== null && typeof (reference as { whep?: unknown }).whep === 'string';
}

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
  if (isWhepReference(reference)) return `WHEP ${reference.whep}`;
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
    (typeof reference === 'object' && reference !== null && typeof (reference as { deviceId?: unknown }).deviceId === 'string') ||
    (isWhepReference(reference) && /^https?:\/\//i.test(reference.whep));
  if (!ok) {
    throw new TypeError(
      `${path} must be a webcam index, a URL or device id string, a File or Blob, a MediaStream, an HTMLVideoElement, { deviceId } or { whep: 'http(s)://…' }; got ${JSON.stringify(reference) ?? String(reference)}`,
    );
  }
}

/**
 * A WHEP source whose state changes become status events: SOURCE_STATE_UPDATE for each, SOURCE_CONNECTION_LOST
 * when a stream that was live stops, SOURCE_RECONNECTED when it is live again.
 */
function whepSource(sourceId: number, url: string, notify: Notify): WhepSource {
  let lostAt: number | undefined;
  let wasLive = false;
  let previous: WhepSourceState | undefined;
  return new WhepSource(sourceId, url, {
    onState: (state: WhepSourceState, detail: string) => {
      notify({
        severity: state === 'stalled' || state === 'reconnecting' ? 'warning' : 'info',
        eventType: 'SOURCE_STATE_UPDATE',
        context: 'video_source',
        sourceId,
        message: `WHEP ${url}: ${state}: ${detail}`,
        // The connection's states, lower case; the pipeline's own stream states (RUNNING, …) are upper case.
        payload: { previous_state: previous ?? null, new_state: state, source_id: sourceId, detail, url },
      });
      previous = state;
      if (state === 'stalled' && wasLive && lostAt === undefined) {
        lostAt = Date.now();
        notify({
          severity: 'warning',
          eventType: 'SOURCE_CONNECTION_LOST',
          context: 'video_source',
          sourceId,
          message: `WHEP ${url}: ${detail}; reconnecting`,
          payload: { source_id: sourceId, url, reason: detail },
        });
      } else if (state === 'live') {
        if (lostAt !== undefined) {
          const downtimeMs = Date.now() - lostAt;
          notify({
            severity: 'info',
            eventType: 'SOURCE_RECONNECTED',
            context: 'video_source',
            sourceId,
            message: `WHEP ${url}: live again after ${(downtimeMs / 1000).toFixed(1)} s`,
            payload: { source_id: sourceId, url, downtimeMs },
          });
        }
        lostAt = undefined;
        wasLive = true;
      }
    },
  });
}

/**
 * Opens `reference` as a FrameSource. `options.rtspRelay` makes `rtsp://` strings play through that relay's
 * WHEP endpoint; `options.signal` closes the source when aborted, even mid-open.
 */
export async function openSource(
  sourceId: number,
  reference: SingleVideoReference,
  properties: VideoSourceProperties | undefined,
  notify: Notify,
  options: OpenSourceOptions = {},
): Promise<OpenedSource> {
  options.signal?.throwIfAborted();
  let source: FrameSource;
  if (typeof reference === 'number') source = await openWebcam(sourceId, reference, properties);
  else if (typeof reference === 'string' && isRtspUrl(reference)) {
    if (!options.rtspRelay) {
      throw new SourceError(
        sourceId,
        `browsers can't open RTSP (${reference}): run a relay (npm run relay, MediaMTX or go2rtc) and pass rtspRelay: { url, kind }, or pass { whep: url }`,
      );
    }
    let url: string;
    try {
      url = whepUrlForRtsp(reference, options.rtspRelay);
    } catch (error) {
      throw new SourceError(sourceId, error instanceof Error ? error.message : String(error), { cause: error });
    }
    source = whepSource(sourceId, url, notify);
  } else if (isWhepReference(reference)) source = whepSource(sourceId, reference.whep, notify);
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
  const close = (): void => source.close();
  options.signal?.addEventListener('abort', close, { once: true });
  try {
    return { source, info: await source.open() };
  } catch (error) {
    source.close();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', close);
  }
}
