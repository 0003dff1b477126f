/**
 * `renderBoxes` in a Web Worker: the page's canvas is handed to a worker (transferControlToOffscreen), and each
 * frame is drawn there, so drawing costs the main thread nothing but a `clone()` and a postMessage.
 */
import type { FrameMetadata, FramePredictions } from '../pipeline/types.ts';
import type { RenderBoxesOptions } from './render-boxes-sink.ts';
import type { RenderWorkerMessage, RenderWorkerReply } from './render-worker.ts';

/** Options of {@link renderBoxesInWorker}: those of `renderBoxes` except `colorFor`, with a DOM canvas. */
export interface RenderBoxesInWorkerOptions extends Omit<RenderBoxesOptions, 'canvas' | 'colorFor'> {
  /** A canvas that has no context yet; its control moves to the worker for good. */
  canvas: HTMLCanvasElement;
}

/** The sink plus `dispose()`, which stops the worker (the canvas keeps its last picture). */
export interface WorkerRenderSink {
  /** Sends the frame to the worker and resolves once it is drawn, so drawing can't fall behind without bound. */
  readonly onPrediction: (predictions: FramePredictions, frame: FrameMetadata) => Promise<void>;
  /** Stops the worker once its last picture is on the canvas; frames sent afterwards are dropped. Idempotent. */
  dispose(): void;
}

/**
 * Returns a sink that draws like {@link renderBoxes} inside a dedicated worker. Custom `colorFor` functions can't
 * cross threads, so the default palette is used. Each call clones the frame (the clone is transferred and closed
 * by the worker); the pipeline's own frame is untouched.
 */
export function renderBoxesInWorker(options: RenderBoxesInWorkerOptions): WorkerRenderSink {
  const { canvas, ...drawOptions } = options;
  const offscreen = canvas.transferControlToOffscreen();
  const worker = new Worker(new URL('./render-worker.ts', import.meta.url), { type: 'module', name: 'framewise-render' });
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let disposed = false;
  worker.onmessage = (event: MessageEvent<RenderWorkerReply>) => {
    if (event.data.type === 'closed') return worker.terminate();
    const waiter = pending.get(event.data.id);
    pending.delete(event.data.id);
    if (event.data.error) waiter?.reject(new Error(`render worker: ${event.data.error}`));
    else waiter?.resolve();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    for (const waiter of pending.values()) waiter.reject(new Error(`render worker crashed: ${event.message}`));
    pending.clear();
  };
  worker.postMessage({ type: 'init', canvas: offscreen, options: drawOptions } satisfies RenderWorkerMessage, [offscreen]);
  return {
    onPrediction: (predictions, frame) => {
      if (disposed) return Promise.resolve();
      const id = nextId++;
      const image = frame.image.clone();
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ type: 'draw', id, predictions, frame: { ...frame, image } } satisfies RenderWorkerMessage, [image as unknown as Transferable]);
      });
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      worker.postMessage({ type: 'close' } satisfies RenderWorkerMessage);
      // Bounded: a worker that doesn't answer (crashed, or never gets an animation frame) is stopped anyway.
      setTimeout(() => worker.terminate(), 1000);
      for (const waiter of pending.values()) waiter.resolve();
      pending.clear();
    },
  };
}
