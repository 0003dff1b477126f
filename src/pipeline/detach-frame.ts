/**
 * Detaching a live frame from its producer's buffer pool.
 *
 * A camera (or a WebRTC decoder) hands out frames from a small pool of capture buffers, and it cannot produce a
 * new frame while page code holds them: in Chromium's capture pipeline, holding two frames stalled a 30 fps camera
 * to 0.5 fps (`npm run bench`, live section). A frame that is about to spend a whole inference in flight (and then
 * reach the sink) is therefore copied into memory the page owns, and the producer's frame is closed at once. The
 * copy keeps the frame's pixel format (I420/NV12 stay as they are, so a 640×360 frame is ~0.35 MB, copied in a
 * median of 0.55 ms here); only frames that actually get processed are copied, not every frame the camera delivers.
 */

/**
 * A copy of `frame` that owns its pixels (same format, visible size, timestamp and colour space), with `frame`
 * closed. Frames whose pixels can't be read directly (no `format`, e.g. some GPU-backed frames) are copied through
 * an ImageBitmap. When no copy can be made, `frame` itself is returned (still open) and `onError` is told why.
 */
export async function detachFrame(frame: VideoFrame, onError: (error: unknown) => void): Promise<VideoFrame> {
  let copy: VideoFrame;
  try {
    copy = await copyOf(frame);
  } catch (error) {
    onError(error);
    return frame;
  }
  frame.close();
  return copy;
}

async function copyOf(frame: VideoFrame): Promise<VideoFrame> {
  const format = frame.format;
  if (format !== null) {
    // copyTo copies the visible rectangle, so the copy's coded size is that rectangle's.
    const visible = frame.visibleRect;
    const buffer = new Uint8Array(frame.allocationSize());
    const layout = await frame.copyTo(buffer);
    return new VideoFrame(buffer, {
      format,
      codedWidth: visible?.width ?? frame.codedWidth,
      codedHeight: visible?.height ?? frame.codedHeight,
      displayWidth: frame.displayWidth,
      displayHeight: frame.displayHeight,
      timestamp: frame.timestamp,
      duration: frame.duration ?? undefined,
      colorSpace: frame.colorSpace,
      layout,
    });
  }
  const bitmap = await createImageBitmap(frame);
  try {
    return new VideoFrame(bitmap, { timestamp: frame.timestamp, duration: frame.duration ?? undefined });
  } finally {
    bitmap.close();
  }
}
