// GPU numbers for framewise's WebGPU frame path, in Node on Dawn (../shared/gpu/README.md): onnxruntime-web's WebGPU
// execution provider on the machine's GPU, with the same preprocessing shader, frame path and decoder as the browser
// worker (src/inference/preprocess-gpu.ts, rfdetr-decode.ts), bundled in by bench/gpu/bundle.sh.
//
// Modes (each its own session, median/min over --runs after --warmup):
//   raw         the raw session loop: CPU tensor in (upload), session.run, CPU outputs (read-back) — the ceiling that
//               a plain onnxruntime-web user gets.
//   path        framewise's frame path: RGBA frame → texture (writeTexture, as Node has no VideoFrame) → resize +
//               normalise shader → session.run on the GPU buffer → `gpu-buffer` outputs (onnxruntime-web-allocated)
//               → GPU threshold filter → one small read-back → decodeRfDetr.
//   path-fetch  the same with caller-owned output buffers passed as fetches.
//   capture     the same with graph capture (enableGraphCapture; fixed input and output buffers);
//   capture-auto  graph capture with onnxruntime-web's own (captured) output buffers.
// For each frame-path mode: latency (one frame at a time) and throughput with two frames in flight (the worker's
// pipelining: frame k+1 uploaded, preprocessed and its run encoded while frame k finishes).
// Checks: frame-path predictions equal the decode of the raw loop's outputs for the same input.
//
// Usage: $NODE webgpu-bench.mjs --model nano.onnx [--runs 50] [--warmup 10] [--frame 1280x720] [--modes raw,path,...]
//        [--ep '{"validationMode":"wgpuOnly"}'] [--profile (kernel GPU times of one run)]
//        [--confidence 0.4] [--save DIR (input.f32 + raw outputs for nano_torch.py --compare)] [--json OUT]
import './dawn-env.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web/webgpu';
import { GpuFramePath, readGpuBuffer } from '../../src/inference/preprocess-gpu.ts';
import { computeResizeTransform } from '../../src/inference/resize-transform.ts';
import { decodeRfDetr } from '../../src/inference/rfdetr-decode.ts';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const MODEL = arg('model');
const RUNS = Number(arg('runs', 50));
const WARMUP = Number(arg('warmup', 10));
const [FW, FH] = arg('frame', '1280x720').split('x').map(Number);
const MODES = arg('modes', 'raw,path,path-fetch,capture').split(',');
const CONFIDENCE = Number(arg('confidence', 0.4));
const SAVE = arg('save');
const JSON_OUT = arg('json');
/** Extra WebGPU execution-provider options, e.g. '{"validationMode":"disabled"}'. */
const EP = JSON.parse(arg('ep', '{}'));
/** Kernel GPU times through onnxruntime-web's WebGPU profiling (timestamp queries), for one run per frame-path mode. */
const PROFILE = argv.includes('--profile');
const NORM = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const DECODE = { confidence: CONFIDENCE, maxDetections: 300 };

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

// Dawn's node binding (webgpu 0.6.2) sometimes rejects onnxruntime-web's bind-group entries in graph-capture mode
// ("no overload matched for createBindGroup"). Retry once with every buffer entry spelled {buffer, offset, size} and
// log what was rejected.
{
  const createBindGroup = GPUDevice.prototype.createBindGroup;
  const describe = (x) => (x && typeof x === 'object' ? `${x.constructor?.name}{${Object.keys(x).join(',')}}` : typeof x);
  GPUDevice.prototype.createBindGroup = function (descriptor) {
    try {
      return createBindGroup.call(this, descriptor);
    } catch (error) {
      const entries = [...descriptor.entries].map((e) => {
        const r = e.resource;
        if (r instanceof GPUBuffer) return { binding: e.binding, resource: { buffer: r } };
        if (r && r.buffer instanceof GPUBuffer) {
          const resource = { buffer: r.buffer };
          if (typeof r.offset === 'number') resource.offset = r.offset;
          if (typeof r.size === 'number' && r.size > 0) resource.size = r.size;
          return { binding: e.binding, resource };
        }
        return { binding: e.binding, resource: r };
      });
      console.log(`createBindGroup rejected (${error.message.split('\n')[0]}):`, [...descriptor.entries].map((e) => `${e.binding}:${describe(e.resource)} buffer=${describe(e.resource?.buffer)} offset=${e.resource?.offset} size=${e.resource?.size}`).join('; '));
      return createBindGroup.call(this, { layout: descriptor.layout, label: descriptor.label, entries });
    }
  };
}

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  return { median: q(0.5), min: s[0], p10: q(0.1), p90: q(0.9), mean: ms.reduce((a, b) => a + b, 0) / ms.length, runs: ms.length };
};
const fmt = (s) => `median ${s.median.toFixed(2)} ms, min ${s.min.toFixed(2)}, p90 ${s.p90.toFixed(2)}`;

/** A deterministic RGBA frame: smooth gradients and a few flat rectangles; `variant` 1 moves and recolours them. */
function makeFrame(w, h, variant = 0) {
  const rgba = new Uint8Array(w * h * 4);
  const boxes = [
    [0.1, 0.1, 0.3, 0.4, [250, 30, 30]],
    [0.5, 0.2, 0.2, 0.6, [20, 220, 40]],
    [0.65, 0.55, 0.3, 0.3, [30, 40, 230]],
    [0.2, 0.6, 0.25, 0.3, [255, 255, 255]],
  ].map(([x, y, bw, bh, c]) => (variant ? [1 - x - bw, (y + 0.23) % 0.7, bh, bw, [c[2], 255 - c[1], c[0]]] : [x, y, bw, bh, c]));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w;
      const v = y / h;
      const k = variant ? 1.7 : 1;
      let c = [128 + 100 * Math.sin(6 * k * u + 2 * v), 128 + 100 * Math.cos(3 * v - k * u), 128 + 90 * Math.sin(4 * (u + k * v))];
      for (const [bx, by, bw, bh, col] of boxes) if (u >= bx && u < bx + bw && v >= by && v < by + bh) c = col;
      const o = (y * w + x) * 4;
      rgba[o] = c[0];
      rgba[o + 1] = c[1];
      rgba[o + 2] = c[2];
      rgba[o + 3] = 255;
    }
  }
  return rgba;
}

const bytes = new Uint8Array(readFileSync(MODEL));
const create = (extra = {}) => ort.InferenceSession.create(bytes, { executionProviders: [{ name: 'webgpu', ...EP }], graphOptimizationLevel: 'all', ...extra });

function contractOf(session) {
  const inputName = session.inputNames[0];
  const [boxesName, logitsName] = session.outputNames.includes('dets') ? ['dets', 'labels'] : ['pred_boxes', 'logits'];
  const shape = session.inputMetadata.find((m) => m.name === inputName).shape;
  const boxShape = session.outputMetadata.find((m) => m.name === boxesName).shape;
  const logitShape = session.outputMetadata.find((m) => m.name === logitsName).shape;
  return { inputName, boxesName, logitsName, inputSize: shape[2], queries: boxShape[1], classes: logitShape[2] };
}

const toPlain = (decoded) => decoded.map((d) => ({ c: d.classId, s: d.score, x: d.cx, y: d.cy, w: d.w, h: d.h }));
function samePredictions(a, b) {
  if (a.length !== b.length) return `count ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const p = a[i];
    const q = b[i];
    if (p.c !== q.c) return `detection ${i}: class ${p.c} vs ${q.c}`;
    for (const k of ['s', 'x', 'y', 'w', 'h']) if (Math.abs(p[k] - q[k]) > 1e-4 * Math.max(1, Math.abs(q[k]))) return `detection ${i} ${k}: ${p[k]} vs ${q[k]}`;
  }
  return null;
}

const results = { model: MODEL, frame: `${FW}x${FH}`, runs: RUNS, warmup: WARMUP, confidence: CONFIDENCE, ep: EP, ort: ort.env.versions, modes: {} };
// Timed loops alternate two different frames, so that a run that reused stale results would be caught below.
const frames = [makeFrame(FW, FH, 0), makeFrame(FW, FH, 1)];

// One frame-path session first: it also gives the preprocessed input tensor that the raw loop and PyTorch use.
let reference; // { input: Float32Array, predictions }
let device;

async function framePathMode(name) {
  const options = { preferredOutputLocation: 'gpu-buffer' };
  const capture = name.startsWith('capture');
  if (capture) options.enableGraphCapture = true;
  const t0 = performance.now();
  const session = await create(options);
  const createMs = performance.now() - t0;
  if (name === 'capture-twice') {
    // Diagnostic: every frame runs the captured graph twice (does a replay's result only land on the next run?).
    const once = session.run.bind(session);
    session.run = async (feeds, fetches) => {
      await once(feeds, fetches);
      return once(feeds, fetches);
    };
  }
  device = await ort.env.webgpu.device;
  const c = contractOf(session);
  // 'capture-auto': graph capture with onnxruntime-web's own output buffers.
  const fixed = name === 'path-fetch' || name === 'capture' || name === 'capture-twice';
  const path = new GpuFramePath(device, session, ort.Tensor, NORM, {
    inputName: c.inputName,
    boxesName: c.boxesName,
    logitsName: c.logitsName,
    inputSize: c.inputSize,
    outputDims: fixed ? { queries: c.queries, classes: c.classes } : undefined,
    graphCapture: capture,
  });
  const transform = computeResizeTransform(FW, FH, c.inputSize, 'stretch');
  const timings = { preprocessMs: [], waitMs: [], runMs: [], readMs: [], decodeMs: [] };
  let last;
  let kept = 0;
  let count = 0;
  const frame = async (record, which = count++ % 2) => {
    const t = performance.now();
    const slot = await path.acquire();
    try {
      path.prepareRgba(slot, frames[which], FW, transform);
      const t1 = performance.now();
      const out = await path.run(slot, CONFIDENCE);
      const t2 = performance.now();
      last = decodeRfDetr(out.boxes, out.logits, out.classes, c.inputSize, transform, DECODE);
      kept = out.kept;
      if (record) {
        timings.preprocessMs.push(t1 - t);
        timings.waitMs.push(out.timings.waitMs);
        timings.runMs.push(out.timings.runMs);
        timings.readMs.push(out.timings.readMs);
        timings.decodeMs.push(performance.now() - t2);
      }
      return performance.now() - t;
    } finally {
      path.release(slot);
    }
  };
  for (let i = 0; i < WARMUP; i++) await frame(false);
  const latency = [];
  for (let i = 0; i < RUNS; i++) latency.push(await frame(true));
  // Throughput with two frames in flight, over RUNS frames, three rounds.
  const pipelined = [];
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    const inflight = new Set();
    for (let i = 0; i < RUNS; i++) {
      const p = frame(false).then(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 2) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    pipelined.push((performance.now() - t) / RUNS);
  }
  let gpuKernelMs;
  if (PROFILE) {
    // One frame with onnxruntime-web's WebGPU profiling: the sum of kernel GPU times (timestamp queries).
    const kernels = [];
    ort.env.webgpu.profiling = { mode: 'default', ondata: (d) => kernels.push(d) };
    await frame(false);
    await device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 200));
    ort.env.webgpu.profiling = { mode: 'off' };
    const ns = kernels.reduce((a, k) => a + Number(k.endTime - k.startTime), 0);
    gpuKernelMs = kernels.length ? { kernels: kernels.length, sumMs: ns / 1e6, firstKeys: Object.keys(kernels[0]) } : { kernels: 0 };
    console.log(`${name}: profiling ${JSON.stringify(gpuKernelMs)}`);
  }
  // Correctness: frames A, B, A, B, ... one at a time; each must give the first mode's predictions for it.
  const got = [];
  for (let i = 0; i < 6; i++) {
    await frame(false, i % 2);
    got.push(toPlain(last));
  }
  if (!reference) {
    // The preprocessed tensor of frame A, for the raw loop and PyTorch.
    const slot = await path.acquire();
    path.prepareRgba(slot, frames[0], FW, transform);
    const input = new Float32Array(await readGpuBuffer(device, path.inputBuffer(slot), 3 * c.inputSize ** 2 * 4));
    path.release(slot);
    reference = { input, predictions: got.slice(0, 2), c, transform };
  }
  let mismatch = null;
  for (let i = 0; i < got.length && !mismatch; i++) {
    const m = samePredictions(got[i], reference.predictions[i % 2]);
    if (m) mismatch = `frame ${'AB'[i % 2]} (run ${i}): ${m}; detections per run A,B,A,B,A,B: ${got.map((g) => g.length).join(',')}`;
  }
  if (!mismatch && samePredictions(reference.predictions[0], reference.predictions[1]) === null) mismatch = 'frames A and B gave identical predictions: the check would not see stale results';
  const r = {
    createMs,
    latency: stats(latency),
    pipelinedMsPerFrame: { median: [...pipelined].sort((a, b) => a - b)[1], all: pipelined },
    stages: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, stats(v).median])),
    detections: last.length,
    keptLogits: kept,
    /** A, B, A, B, … each equal to the first frame-path mode's predictions for that frame. */
    matchesFirstFramePathMode: mismatch ?? true,
    ...(gpuKernelMs ? { gpuKernelMs } : {}),
  };
  console.log(`${name}: frame ${fmt(r.latency)}; 2 in flight ${r.pipelinedMsPerFrame.median.toFixed(2)} ms/frame; stages ${JSON.stringify(r.stages, (k, v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v))}; ${last.length} detections${mismatch ? `; MISMATCH ${mismatch}` : ''}`);
  path.destroy();
  await session.release();
  return r;
}

async function rawMode() {
  const t0 = performance.now();
  const session = await create();
  const createMs = performance.now() - t0;
  const { input, c, transform } = reference;
  const dims = [1, 3, c.inputSize, c.inputSize];
  let outputs;
  const once = async () => {
    const t = performance.now();
    outputs = await session.run({ [c.inputName]: new ort.Tensor('float32', input, dims) });
    // CPU outputs: onnxruntime-web has read them back already; touch them as a user would.
    void outputs[c.boxesName].data[0];
    void outputs[c.logitsName].data[0];
    return performance.now() - t;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const ms = [];
  for (let i = 0; i < RUNS; i++) ms.push(await once());
  const boxes = outputs[c.boxesName].data;
  const logits = outputs[c.logitsName].data;
  const predictions = toPlain(decodeRfDetr(boxes, logits, c.classes, c.inputSize, transform, DECODE));
  const mismatch = samePredictions(reference.predictions[0], predictions);
  if (SAVE) {
    writeFileSync(`${SAVE}/input.f32`, Buffer.from(input.buffer));
    writeFileSync(`${SAVE}/dets.f32`, Buffer.from(boxes.buffer, boxes.byteOffset, boxes.byteLength));
    writeFileSync(`${SAVE}/labels.f32`, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
  }
  const r = { createMs, latency: stats(ms), detections: predictions.length, framePathEqualsRawDecode: mismatch ?? true };
  console.log(`raw: ${fmt(r.latency)}; ${predictions.length} detections; frame path ${mismatch ? `MISMATCH ${mismatch}` : 'gives the same predictions'}`);
  await session.release();
  return r;
}

const order = ['path', ...MODES.filter((m) => m !== 'path')];
for (const mode of order) {
  try {
    results.modes[mode] = mode === 'raw' ? await rawMode() : await framePathMode(mode);
  } catch (error) {
    console.log(`${mode}: FAILED ${error?.stack ?? error}`.split('\n').slice(0, 8).join('\n'));
    results.modes[mode] = { error: String(error?.message ?? error) };
  }
}
if (device) {
  const info = device.adapterInfo ?? {};
  results.adapter = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
  results.features = [...device.features];
}
console.log(JSON.stringify({ adapter: results.adapter }));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
process.exit(0);
