/** Webcams by index or device id, opened with getUserMedia. */
import { SourceError, describeError } from '../pipeline/errors.ts';
import type { VideoSourceProperties } from '../pipeline/types.ts';
import { MediaStreamSource } from './media-stream-source.ts';

function constraintsFor(properties: VideoSourceProperties | undefined, deviceId?: string): MediaTrackConstraints {
  const c: MediaTrackConstraints = {};
  if (deviceId) c.deviceId = { exact: deviceId };
  if (properties?.frameWidth) c.width = { ideal: properties.frameWidth };
  if (properties?.frameHeight) c.height = { ideal: properties.frameHeight };
  if (properties?.fps) c.frameRate = { ideal: properties.fps };
  return c;
}

function explain(error: unknown, what: string): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError') return `${what}: camera permission was denied (allow camera access for this site, and serve it over https or localhost)`;
  if (name === 'NotFoundError') return `${what}: no camera was found`;
  if (name === 'NotReadableError') return `${what}: the camera is in use by another application or failed to start`;
  if (name === 'OverconstrainedError') return `${what}: no camera mode satisfies videoSourceProperties`;
  return `${what}: ${describeError(error)}`;
}

async function videoInputs(): Promise<MediaDeviceInfo[]> {
  return (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
}

/** Opens webcam `index` (among video inputs) or the device with `deviceId`. */
export async function openWebcam(sourceId: number, which: number | { deviceId: string }, properties?: VideoSourceProperties): Promise<MediaStreamSource> {
  const what = typeof which === 'number' ? `webcam ${which}` : `webcam ${which.deviceId}`;
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new SourceError(sourceId, `${what}: navigator.mediaDevices is unavailable (a secure context, https or localhost, is required)`);
  }
  if (typeof which === 'number' && (!Number.isInteger(which) || which < 0)) {
    throw new TypeError(`videoReference ${which} is not a webcam index: expected an integer ≥ 0`);
  }
  let stream: MediaStream;
  try {
    let deviceId = typeof which === 'number' ? undefined : which.deviceId;
    if (typeof which === 'number' && which > 0) {
      let inputs = await videoInputs();
      if (inputs.some((d) => d.deviceId === '')) {
        // Device ids stay hidden until the page has camera permission: ask once, then list again.
        const probe = await navigator.mediaDevices.getUserMedia({ video: true });
        probe.getTracks().forEach((t) => t.stop());
        inputs = await videoInputs();
      }
      const device = inputs[which];
      if (!device) throw new SourceError(sourceId, `${what}: only ${inputs.length} video input(s) exist`);
      deviceId = device.deviceId;
    }
    stream = await navigator.mediaDevices.getUserMedia({ video: constraintsFor(properties, deviceId), audio: false });
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(sourceId, explain(error, what), { cause: error });
  }
  return new MediaStreamSource(sourceId, stream, { description: what, stopTracksOnClose: true });
}
