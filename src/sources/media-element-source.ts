/** `<video>` elements as live sources, through `captureStream()`. */
import { SourceError, describeError } from '../pipeline/errors.ts';
import { MediaStreamSource } from './media-stream-source.ts';

function waitForPlayable(video: HTMLVideoElement, what: string, sourceId: number): Promise<void> {
  if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      video.removeEventListener('loadeddata', onData);
      video.removeEventListener('error', onError);
    };
    const onData = () => {
      done();
      resolve();
    };
    const onError = () => {
      done();
      const code = video.error?.code;
      const reason =
        code === MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED
          ? 'the browser cannot play it (not a video, an unsupported codec, or the URL is unreachable)'
          : code === MediaError.MEDIA_ERR_NETWORK
            ? 'a network error stopped the download'
            : (video.error?.message ?? 'unknown media error');
      reject(new SourceError(sourceId, `${what}: ${reason}`));
    };
    video.addEventListener('loadeddata', onData);
    video.addEventListener('error', onError);
  });
}

/**
 * Plays `video` (if paused) and reads it as a live source. `ownsElement` means the library created it, so close
 * pauses it and drops its `src`.
 */
export async function openMediaElement(sourceId: number, video: HTMLVideoElement, description: string, ownsElement: boolean): Promise<MediaStreamSource> {
  await waitForPlayable(video, description, sourceId);
  const capture = (video as HTMLVideoElement & { captureStream?: () => MediaStream }).captureStream;
  if (!capture) throw new SourceError(sourceId, `${description}: HTMLVideoElement.captureStream() is unavailable in this browser`);
  let stream: MediaStream;
  try {
    stream = capture.call(video);
  } catch (error) {
    throw new SourceError(sourceId, `${description}: captureStream() failed: ${describeError(error)} (a cross-origin video needs CORS headers and crossOrigin="anonymous")`, { cause: error });
  }
  if (video.paused) {
    try {
      await video.play();
    } catch (error) {
      throw new SourceError(sourceId, `${description}: play() failed: ${describeError(error)} (muted videos may autoplay; others need a user gesture)`, { cause: error });
    }
  }
  return new MediaStreamSource(sourceId, stream, {
    description,
    stopTracksOnClose: true,
    watchEnd: (end) => {
      if (video.loop) return;
      if (video.ended) end();
      else video.addEventListener('ended', end, { once: true });
    },
    onClose: () => {
      if (!ownsElement) return;
      video.pause();
      video.removeAttribute('src');
      video.load();
    },
  });
}

/** Creates a muted, hidden `<video>` for a URL that could not be demuxed, and opens it as a live source. */
export async function openUrlAsMediaElement(sourceId: number, url: string): Promise<MediaStreamSource> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.crossOrigin = 'anonymous';
  video.preload = 'auto';
  video.src = url;
  return openMediaElement(sourceId, video, `video element for ${url}`, true);
}
