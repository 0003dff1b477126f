/**
 * Counts the VideoFrames that page code can see and that are still open. Imported before anything else by the
 * bench page, it wraps every way a VideoFrame reaches page code: the constructor, `clone()`, a stream reader's
 * `read()` (MediaStreamTrackProcessor) and a VideoDecoder's output callback. Frames are held weakly; a frame counts
 * as open while its `format` is not null (close() and transfer to a worker both null it).
 */

const tracked = new Set<WeakRef<VideoFrame>>();
let seen = 0;

function track(frame: VideoFrame): VideoFrame {
  seen += 1;
  tracked.add(new WeakRef(frame));
  return frame;
}

/** Open frames right now (pruning closed and collected ones). */
export function openFrameCount(): number {
  let open = 0;
  for (const ref of tracked) {
    const frame = ref.deref();
    if (!frame || frame.format === null) tracked.delete(ref);
    else open += 1;
  }
  return open;
}

/** Frames seen since the page loaded. */
export function framesSeen(): number {
  return seen;
}

export function installFrameTracker(): void {
  const g = globalThis as unknown as { VideoFrame: typeof VideoFrame; VideoDecoder?: typeof VideoDecoder; __frameTracker?: boolean };
  if (g.__frameTracker) return;
  g.__frameTracker = true;

  const Original = g.VideoFrame;
  g.VideoFrame = new Proxy(Original, {
    construct(target, args: unknown[], newTarget) {
      return track(Reflect.construct(target, args, newTarget === g.VideoFrame ? target : newTarget) as VideoFrame);
    },
  });

  const clone = Original.prototype.clone;
  Original.prototype.clone = function (this: VideoFrame): VideoFrame {
    return track(clone.call(this));
  };

  const read = ReadableStreamDefaultReader.prototype.read as (this: ReadableStreamDefaultReader<unknown>) => Promise<ReadableStreamReadResult<unknown>>;
  (ReadableStreamDefaultReader.prototype as { read: unknown }).read = function (this: ReadableStreamDefaultReader<unknown>) {
    return read.call(this).then((result) => {
      if (!result.done && result.value instanceof Original) track(result.value);
      return result;
    });
  };

  const Decoder = g.VideoDecoder;
  if (Decoder) {
    g.VideoDecoder = new Proxy(Decoder, {
      construct(target, args: unknown[], newTarget) {
        const init = args[0] as VideoDecoderInit;
        const output = init.output;
        const wrapped: VideoDecoderInit = { ...init, output: (frame) => output(track(frame)) };
        return Reflect.construct(target, [wrapped], newTarget === g.VideoDecoder ? target : newTarget) as VideoDecoder;
      },
    });
  }
}

installFrameTracker();
