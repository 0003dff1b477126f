/**
 * The worker behind {@link renderBoxesInWorker}: it owns an OffscreenCanvas transferred from the page and draws
 * each frame it receives with the same code as `renderBoxes`, then closes the frame.
 */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';
import { renderBoxes, type RenderBoxesOptions } from './render-boxes-sink.ts';

/** Messages the page sends (types only). */
export type RenderWorkerMessage =
  | { type: 'init'; canvas: OffscreenCanvas; options: Omit<RenderBoxesOptions, 'canvas' | 'colorFor'> }
  | { type: 'draw'; id: number; predictions: FramePredictions; frame: FrameMetadata }
  | { type: 'close' };

/** Replies: `drawn` once a frame is on the canvas (or failed, with the message). */
export type RenderWorkerReply = { type: 'drawn'; id: number; error?: string } | { type: 'closed' };

let draw: ((p: FramePredictions, f: FrameMetadata) => void) | undefined;

self.onmessage = (event: MessageEvent<RenderWorkerMessage>) => {
  const message = event.data;
  if (message.type === 'init') {
    draw = renderBoxes({ ...message.options, canvas: message.canvas });
    return;
  }
  if (message.type === 'close') {
    // The last picture reaches the page's canvas at the next animation frame: only then may the worker stop.
    const raf = (self as unknown as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
    const done = () => (self as unknown as Worker).postMessage({ type: 'closed' } satisfies RenderWorkerReply);
    if (raf) raf(done);
    else setTimeout(done, 50);
    return;
  }
  let error: string | undefined;
  try {
    if (!draw) throw new Error('render worker used before init');
    draw(message.predictions, message.frame);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    message.frame.image.close();
  }
  (self as unknown as Worker).postMessage({ type: 'drawn', id: message.id, error } satisfies RenderWorkerReply);
};
