import * as Comlink from 'comlink';
import type { RawWorkerApi } from '../pages/raw-worker.ts';
type Processor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrame> };
async function readCamera(seconds: number, holdMs: number) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } } });
  const track = stream.getVideoTracks()[0]!;
  const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: Processor }).MediaStreamTrackProcessor;
  const reader = new Processor({ track, maxBufferSize: 1 }).readable.getReader();
  let frames = 0; const gaps: number[] = []; let last = performance.now();
  const end = performance.now() + seconds * 1000;
  const held: VideoFrame[] = [];
  const copyMs: number[] = [];
  while (performance.now() < end) {
    const { value, done } = await reader.read();
    if (done) break;
    const now = performance.now(); gaps.push(now - last); last = now;
    frames++;
    if (holdMs < 0) { const t = performance.now(); const buf = new Uint8Array(value.allocationSize()); const layout = await value.copyTo(buf); const copy = new VideoFrame(buf, { format: value.format!, codedWidth: value.codedWidth, codedHeight: value.codedHeight, timestamp: value.timestamp, layout }); copyMs.push(performance.now() - t); value.close(); held.push(copy); while (held.length > -holdMs) held.shift()!.close(); }
    else if (holdMs > 0) { held.push(value); while (held.length > holdMs) held.shift()!.close(); } else value.close();
  }
  held.forEach((f) => f.close());
  await reader.cancel(); track.stop();
  gaps.sort((a, b) => a - b);
  copyMs.sort((a, b) => a - b);
  return { copyMedMs: copyMs[copyMs.length >> 1], format: 0, frames, fps: frames / seconds, maxGap: gaps[gaps.length - 1], medGap: gaps[gaps.length >> 1] };
}
async function withWorker(seconds: number, threads: number) {
  const [model, tensor] = await Promise.all(['/tests/fixtures/generated/rfdetr-nano-shaped.onnx', '/tests/fixtures/generated/parity-input-384.bin'].map(async (u) => (await fetch(u)).arrayBuffer()));
  const w = new Worker(new URL('../pages/raw-worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<RawWorkerApi>(w);
  await api.load({ modelBytes: model!, numThreads: threads, backend: 'wasm', tensor: tensor!, inputSize: 384 });
  const loop = api.loop(1000, 0);
  const cam = await readCamera(seconds, 0);
  w.terminate();
  void loop.catch(() => undefined);
  return cam;
}
(window as unknown as Record<string, unknown>).scratch = { readCamera, withWorker };
document.title = 'ready';
import { InferencePipeline } from '../../src/index.ts';
async function customLive(seconds: number, sleepMs: number) {
  let captured = 0; let dropped = 0; let processed = 0; const lat: number[] = [];
  const p = InferencePipeline.initWithCustomLogic({
    videoReference: 0,
    onVideoFrame: async (frames) => { await new Promise((r) => setTimeout(r, sleepMs)); return frames.map((f) => f.frameId); },
    onPrediction: (_r, f) => { processed++; lat.push(f.latencyMs); },
    statusUpdateHandlers: [(s) => { if (s.eventType === 'FRAME_CAPTURED') captured++; if (s.eventType === 'FRAME_DROPPED') dropped++; }],
  });
  p.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await p.terminate();
  return { captured, dropped, processed, lat };
}
(window as unknown as Record<string, unknown>).scratch2 = { customLive };
