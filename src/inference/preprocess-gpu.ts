/**
 * The WebGPU frame path: a frame goes from the source to onnxruntime-web's input without touching the CPU, and only
 * what decoding needs comes back.
 *
 * 1. Upload: `copyExternalImageToTexture` (VideoFrame, ImageBitmap, canvas) or `writeTexture` (RGBA bytes, Node
 *    benchmarks) copies the source rectangle of the resize transform into an rgba8unorm texture. Where the browser
 *    refuses a VideoFrame as a copy source (headless Chromium on SwiftShader does), the frame goes through
 *    `createImageBitmap` first (see GpuFramePath.frameUpload).
 * 2. Preprocess: a compute shader (PREPROCESS_WGSL) resizes it bilinearly into the destination rectangle of the
 *    transform (stretch, letterbox or static crop, as resize-transform.ts computes for the CPU path), pads, and
 *    normalises into a storage buffer laid out [1,3,S,S] float32, which `Tensor.fromGpuBuffer` feeds to the session.
 *    Sampling is plain bilinear: half-pixel centres, edge texels of the source rectangle repeated, the result rounded
 *    to 8-bit levels like a canvas's RGBA. Where the canvas path copies 1:1 (and for placement, padding, crops and
 *    normalisation) both paths give the same tensor to 1e-7; where the canvas resamples it uses Chromium's own filter
 *    (mipmapped for VideoFrames when downscaling), which plain bilinear does not reproduce: tests/e2e/gpu-preprocess.spec.ts.
 * 3. Outputs stay on the GPU (`gpu-buffer` outputs or caller-owned fetches, which graph capture needs). A second
 *    shader (COMPACT_WGSL) keeps only the logits above the confidence threshold as (index, value) pairs; they, the
 *    boxes and a count come back in one small mapped buffer. When more logits pass than fit, the full logits are read
 *    back from a GPU-side snapshot instead, so the result is always exact.
 *
 * GpuFramePath serialises session runs but lets the next frame be uploaded and preprocessed (into the other of two
 * input slots) while the previous one is still running, and lets the next run be encoded while the previous
 * read-back is in flight.
 *
 * Measured on an NVIDIA H200 through Dawn (BENCHMARKS.md, "GPU"): caller-owned output buffers and onnxruntime-web's
 * own `gpu-buffer` outputs are equal within noise (fetches are used when the output shapes are static); graph capture
 * is rejected: its replays returned the previous frame's results and onnxruntime-web 1.30 threw in most capture
 * sessions, so `graphCapture` stays opt-in and off. Two frames in flight gave no gain there, because session.run
 * resolves only once the GPU has finished (the read-back after it takes 0.2 ms).
 *
 * Browser and Node (Dawn) use the same code: nothing here imports onnxruntime-web at run time.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web/webgpu';
import type { Normalisation } from './preprocess-cpu.ts';
import type { ResizeTransform } from './resize-transform.ts';

/** Bilinear resize + pad + normalise: rgba8unorm texture → [1,3,S,S] float32 storage buffer. */
export const PREPROCESS_WGSL = /* wgsl */ `
struct Params {
  // Source rectangle in texture pixels (x, y, w, h).
  src: vec4f,
  // Destination rectangle in input pixels (x, y, w, h); outside it is padding.
  dst: vec4f,
  // Texel indices are clamped to [x, z] × [y, w] (the source rectangle's edge texels).
  bounds: vec4f,
  // value = level · scale + offset per channel, level in 0..255 (scale = 1 / (255·std), offset = -mean / std).
  scale: vec4f,
  offset: vec4f,
  // Normalised padding value per channel.
  pad: vec4f,
  size: u32,
  // 1: round the resized value to an 8-bit level first, as a canvas's RGBA does.
  quantise: u32,
  unused0: u32,
  unused1: u32,
};

@group(0) @binding(0) var frame: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> tensor: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn texel(x: i32, y: i32) -> vec3f {
  let cx = clamp(x, i32(p.bounds.x), i32(p.bounds.z));
  let cy = clamp(y, i32(p.bounds.y), i32(p.bounds.w));
  return textureLoad(frame, vec2i(cx, cy), 0).rgb;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let S = p.size;
  if (id.x >= S || id.y >= S) {
    return;
  }
  let xy = vec2f(id.xy) + vec2f(0.5);
  var value: vec3f;
  if (all(xy >= p.dst.xy) && all(xy < p.dst.xy + p.dst.zw)) {
    // Explicit taps (not a sampler): hardware filtering uses low-precision weights on some GPUs.
    let u = p.src.xy + (xy - p.dst.xy) * (p.src.zw / p.dst.zw) - vec2f(0.5);
    let base = floor(u);
    let f = u - base;
    let i = vec2i(base);
    let top = mix(texel(i.x, i.y), texel(i.x + 1, i.y), f.x);
    let bottom = mix(texel(i.x, i.y + 1), texel(i.x + 1, i.y + 1), f.x);
    var level = mix(top, bottom, f.y) * 255.0;
    if (p.quantise != 0u) {
      level = floor(level + vec3f(0.5));
    }
    value = level * p.scale.xyz + p.offset.xyz;
  } else {
    value = p.pad.xyz;
  }
  let plane = S * S;
  let o = id.y * S + id.x;
  tensor[o] = value.x;
  tensor[plane + o] = value.y;
  tensor[2u * plane + o] = value.z;
}
`;

/** Keeps the logits above a threshold as (index, bits) pairs; counts all of them. */
export const COMPACT_WGSL = /* wgsl */ `
struct Params {
  threshold: f32,
  total: u32,
  capacity: u32,
  unused: u32,
};

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> count: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> kept: array<vec2u>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.y * groups.x * 256u + id.x;
  if (i >= p.total) {
    return;
  }
  let v = logits[i];
  if (v > p.threshold) {
    let k = atomicAdd(&count[0], 1u);
    if (k < p.capacity) {
      kept[k] = vec2u(i, bitcast<u32>(v));
    }
  }
}
`;

// Numeric values of GPUBufferUsage / GPUTextureUsage / GPUMapMode (fixed by the WebGPU spec), so this module also
// loads where those globals are missing.
const BUFFER = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const TEXTURE = { COPY_DST: 0x2, TEXTURE_BINDING: 0x4, RENDER_ATTACHMENT: 0x10 } as const;
const MAP_READ = 0x1;

/** Sources `copyExternalImageToTexture` accepts. */
export type ExternalFrame = VideoFrame | ImageBitmap | OffscreenCanvas | ImageData | HTMLCanvasElement | HTMLVideoElement | HTMLImageElement;

export interface GpuPreprocessorOptions {
  /** Round resized values to 8-bit levels, like the canvas path (default true). */
  quantise?: boolean;
  /** Letterbox padding grey level 0..255. */
  padGrey?: number;
}

/** Resize + normalise on the GPU into [1,3,S,S] float32 storage buffers. */
export class GpuPreprocessor {
  private readonly pipeline: GPUComputePipeline;
  private readonly uniform: GPUBuffer;
  private readonly params = new ArrayBuffer(112);
  private texture?: GPUTexture;
  /** Bind groups by target buffer, for the current texture. */
  private readonly bindGroups = new Map<GPUBuffer, GPUBindGroup>();
  private readonly scale: [number, number, number];
  private readonly offset: [number, number, number];
  private readonly padGrey: number;
  private readonly quantise: boolean;
  /** Size of the region copied into the texture by the last upload. */
  private uploaded = { width: 0, height: 0 };

  constructor(
    readonly device: GPUDevice,
    readonly inputSize: number,
    normalisation: Normalisation,
    options: GpuPreprocessorOptions = {},
  ) {
    // Same float32 constants as CpuPreprocessor: value = level · (1 / (255·std)) + (-mean / std).
    this.scale = Array.from(Float32Array.from(normalisation.std.map((s) => 1 / (255 * s)))) as [number, number, number];
    this.offset = Array.from(Float32Array.from(normalisation.mean.map((m, i) => -m / normalisation.std[i]!))) as [number, number, number];
    this.padGrey = options.padGrey ?? 0;
    this.quantise = options.quantise ?? true;
    const module = device.createShaderModule({ code: PREPROCESS_WGSL, label: 'framewise preprocess' });
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: 'framewise preprocess' });
    this.uniform = device.createBuffer({ size: this.params.byteLength, usage: BUFFER.UNIFORM | BUFFER.COPY_DST, label: 'framewise preprocess params' });
  }

  /** A storage buffer that holds one [1,3,S,S] float32 input. */
  createInputBuffer(label = 'framewise input'): GPUBuffer {
    return this.device.createBuffer({ size: 3 * this.inputSize * this.inputSize * 4, usage: BUFFER.STORAGE | BUFFER.COPY_SRC | BUFFER.COPY_DST, label });
  }

  private ensureTexture(width: number, height: number): GPUTexture {
    const t = this.texture;
    if (t && t.width >= width && t.height >= height) return t;
    t?.destroy();
    this.texture = this.device.createTexture({
      size: [Math.max(width, t?.width ?? 0), Math.max(height, t?.height ?? 0)],
      format: 'rgba8unorm',
      usage: TEXTURE.TEXTURE_BINDING | TEXTURE.COPY_DST | TEXTURE.RENDER_ATTACHMENT,
      label: 'framewise frame',
    });
    // Bind groups reference the old texture.
    this.bindGroups.clear();
    return this.texture;
  }

  /**
   * Copies the transform's source rectangle of `source` into the frame texture (`cropped`: the source already is that
   * rectangle, e.g. an ImageBitmap cut from the frame).
   */
  uploadExternal(source: ExternalFrame, t: ResizeTransform, cropped = false): void {
    const texture = this.ensureTexture(t.sw, t.sh);
    const origin = cropped ? { x: 0, y: 0 } : { x: t.sx, y: t.sy };
    this.device.queue.copyExternalImageToTexture({ source, origin }, { texture }, [t.sw, t.sh]);
    this.uploaded = { width: t.sw, height: t.sh };
  }

  /** Copies the transform's source rectangle of a tightly packed RGBA8 frame (width × height) into the texture. */
  uploadRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, t: ResizeTransform): void {
    const texture = this.ensureTexture(t.sw, t.sh);
    const bytes = rgba as Uint8Array<ArrayBuffer>;
    this.device.queue.writeTexture({ texture }, bytes, { offset: (t.sy * width + t.sx) * 4, bytesPerRow: width * 4, rowsPerImage: t.sh }, [t.sw, t.sh]);
    this.uploaded = { width: t.sw, height: t.sh };
  }

  /** Encodes the resize + normalise of the last upload into `target` ([1,3,S,S] float32). */
  encode(encoder: GPUCommandEncoder, target: GPUBuffer, t: ResizeTransform): void {
    const { width, height } = this.uploaded;
    if (width !== t.sw || height !== t.sh) throw new Error(`preprocess: the uploaded region is ${width}×${height}, the transform's source is ${t.sw}×${t.sh}`);
    const f = new Float32Array(this.params);
    const u = new Uint32Array(this.params);
    f.set([0, 0, t.sw, t.sh], 0);
    f.set([t.dx, t.dy, t.dw, t.dh], 4);
    f.set([0, 0, t.sw - 1, t.sh - 1], 8);
    f.set([...this.scale, 0], 12);
    f.set([...this.offset, 0], 16);
    f.set([0, 1, 2].map((c) => Math.fround(this.padGrey * this.scale[c]! + this.offset[c]!)).concat(0), 20);
    u.set([this.inputSize, this.quantise ? 1 : 0, 0, 0], 24);
    this.device.queue.writeBuffer(this.uniform, 0, this.params);
    const pass = encoder.beginComputePass({ label: 'framewise preprocess' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup(target));
    const groups = Math.ceil(this.inputSize / 8);
    pass.dispatchWorkgroups(groups, groups);
    pass.end();
  }

  /** Encodes and submits the resize + normalise of the last upload into `target`. */
  run(target: GPUBuffer, t: ResizeTransform): void {
    const encoder = this.device.createCommandEncoder({ label: 'framewise preprocess' });
    this.encode(encoder, target, t);
    this.device.queue.submit([encoder.finish()]);
  }

  private bindGroup(target: GPUBuffer): GPUBindGroup {
    let group = this.bindGroups.get(target);
    if (!group) {
      group = this.device.createBindGroup({
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: this.texture!.createView() },
          { binding: 1, resource: { buffer: target, size: 3 * this.inputSize * this.inputSize * 4 } },
          { binding: 2, resource: { buffer: this.uniform } },
        ],
      });
      this.bindGroups.set(target, group);
    }
    return group;
  }

  destroy(): void {
    this.texture?.destroy();
    this.texture = undefined;
    this.uniform.destroy();
  }
}

/** Reads a GPU buffer back (tests, diagnostics). */
export async function readGpuBuffer(device: GPUDevice, buffer: GPUBuffer, size = buffer.size): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size, usage: BUFFER.MAP_READ | BUFFER.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return copy;
}

/**
 * Logit threshold for the GPU filter: a little below the decode's own (computed in float64), so that the GPU keeps a
 * superset and decodeRfDetr's exact comparison decides.
 */
export function gpuLogitThreshold(confidence: number): number {
  const c = Math.min(Math.max(confidence, 0), 1);
  if (c <= 0) return -3.4e38;
  if (c >= 1) return 3.4e38;
  const t = Math.log(c / (1 - c));
  return t - Math.max(1e-6, Math.abs(t) * 1e-6);
}

/** The parts of onnxruntime-web's Tensor class the frame path uses. */
export interface GpuTensorFactory {
  fromGpuBuffer(buffer: GPUBuffer, options: { dataType: 'float32'; dims: readonly number[] }): Tensor;
}

export interface GpuFramePathOptions {
  inputName: string;
  boxesName: string;
  logitsName: string;
  inputSize: number;
  /**
   * Output dims [1,Q,4] and [1,Q,C] when the model declares them: the path then owns the output buffers and passes
   * them as fetches (required for graph capture). Otherwise onnxruntime-web allocates them (`gpu-buffer` outputs).
   */
  outputDims?: { queries: number; classes: number };
  /** The session was created with `enableGraphCapture`: the input goes through one fixed buffer. */
  graphCapture?: boolean;
  /** Logits kept by the GPU filter before falling back to a full read-back (default 2048). */
  capacity?: number;
  /** Input slots, so that the next frame can be preprocessed while one runs (default 2). */
  slots?: number;
}

/** What a run hands to decodeRfDetr: boxes [Q·4], logits [Q·C] with the values the threshold dropped set to -∞. */
export interface GpuRunOutput {
  boxes: Float32Array;
  logits: Float32Array;
  queries: number;
  classes: number;
  /** Logits above the GPU threshold; `fullReadBack` when they did not fit. */
  kept: number;
  fullReadBack: boolean;
  /** Milliseconds: waiting for the previous run, session.run, and read-back (submit to mapped). */
  timings: { waitMs: number; runMs: number; readMs: number };
}

interface Slot {
  input: GPUBuffer;
  staging: GPUBuffer;
  /** GPU-side copy of the logits, read when the filter overflows. */
  snapshot?: GPUBuffer;
  /** Logits handed to the decoder (reused per slot). */
  logits?: Float32Array;
  /** Mappable copy of the snapshot, made on overflow. */
  full?: GPUBuffer;
  busy: boolean;
}

/**
 * Preprocess → session.run → filtered read-back, on onnxruntime-web's own GPU device.
 * `prepare` (synchronous) uploads and preprocesses a frame into a free slot; `run` executes it, runs serialised.
 */
export class GpuFramePath {
  readonly preprocessor: GpuPreprocessor;
  private readonly slots: Slot[] = [];
  private readonly waiters: Array<(slot: number) => void> = [];
  private readonly compact: GPUComputePipeline;
  private readonly compactParams: GPUBuffer;
  private readonly counter: GPUBuffer;
  private readonly kept: GPUBuffer;
  private readonly capacity: number;
  /** Fixed input + outputs for graph capture, or caller-owned fetches. */
  private readonly fixedInput?: GPUBuffer;
  private readonly fetches?: { boxes: GPUBuffer; logits: GPUBuffer; queries: number; classes: number };
  private chain: Promise<void> = Promise.resolve();
  private readonly compactGroups = new WeakMap<GPUBuffer, GPUBindGroup>();
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    private readonly session: InferenceSession,
    private readonly tensors: GpuTensorFactory,
    normalisation: Normalisation,
    private readonly options: GpuFramePathOptions,
    preprocessOptions: GpuPreprocessorOptions = {},
  ) {
    this.preprocessor = new GpuPreprocessor(device, options.inputSize, normalisation, preprocessOptions);
    this.capacity = options.capacity ?? 2048;
    const q = options.outputDims?.queries ?? 0;
    for (let i = 0; i < (options.slots ?? 2); i++) {
      const input = this.preprocessor.createInputBuffer(`framewise input ${i}`);
      this.slots.push({ input, staging: this.createStaging(q), busy: false });
    }
    if (options.graphCapture) this.fixedInput = this.preprocessor.createInputBuffer('framewise captured input');
    if (options.outputDims) {
      const { queries, classes } = options.outputDims;
      const usage = BUFFER.STORAGE | BUFFER.COPY_SRC | BUFFER.COPY_DST;
      const boxes = device.createBuffer({ size: queries * 4 * 4, usage, label: 'framewise boxes' });
      const logits = device.createBuffer({ size: queries * classes * 4, usage, label: 'framewise logits' });
      this.fetches = { boxes, logits, queries, classes };
    }
    const module = device.createShaderModule({ code: COMPACT_WGSL, label: 'framewise compact' });
    this.compact = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: 'framewise compact' });
    this.compactParams = device.createBuffer({ size: 16, usage: BUFFER.UNIFORM | BUFFER.COPY_DST });
    this.counter = device.createBuffer({ size: 4, usage: BUFFER.STORAGE | BUFFER.COPY_SRC | BUFFER.COPY_DST });
    this.kept = device.createBuffer({ size: this.capacity * 8, usage: BUFFER.STORAGE | BUFFER.COPY_SRC });
  }

  /** Staging layout: count (4 bytes) + 4 unused, boxes Q·4 float32, then `capacity` (index, bits) pairs. */
  private createStaging(queries: number): GPUBuffer {
    return this.device.createBuffer({ size: 8 + queries * 16 + this.capacity * 8, usage: BUFFER.MAP_READ | BUFFER.COPY_DST, label: 'framewise read-back' });
  }

  /** Waits for a free input slot. */
  acquire(): Promise<number> {
    const free = this.slots.findIndex((s) => !s.busy);
    if (free >= 0) {
      this.slots[free]!.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(slot: number): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.slots[slot]!.busy = false;
  }

  /** Uploads a frame and preprocesses it into `slot` (queued on the GPU; returns at once). */
  prepareExternal(slot: number, source: ExternalFrame, t: ResizeTransform): void {
    this.preprocessor.uploadExternal(source, t);
    this.preprocessor.run(this.slots[slot]!.input, t);
  }

  /**
   * How VideoFrames reach the texture: 'direct' (copyExternalImageToTexture on the frame) until that fails once, then
   * 'bitmap' (createImageBitmap of the source rectangle, then copyExternalImageToTexture). Chromium refuses VideoFrames
   * as copy sources where it cannot share them with WebGPU (e.g. headless with SwiftShader).
   */
  frameUpload: 'direct' | 'bitmap' = 'direct';
  /** Why 'direct' was given up. */
  frameUploadError?: string;

  /** Uploads a VideoFrame (or other image source) and preprocesses it into `slot`, falling back as `frameUpload` says. */
  async prepareFrame(slot: number, source: ExternalFrame, t: ResizeTransform): Promise<void> {
    if (this.frameUpload === 'direct') {
      try {
        this.prepareExternal(slot, source, t);
        return;
      } catch (error) {
        if (typeof VideoFrame === 'undefined' || !(source instanceof VideoFrame)) throw error;
        this.frameUpload = 'bitmap';
        this.frameUploadError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
    const bitmap = await createImageBitmap(source as ImageBitmapSource, t.sx, t.sy, t.sw, t.sh);
    try {
      this.preprocessor.uploadExternal(bitmap, t, true);
      this.preprocessor.run(this.slots[slot]!.input, t);
    } finally {
      bitmap.close();
    }
  }

  /** Uploads an RGBA8 frame (width pixels a row) and preprocesses it into `slot`. */
  prepareRgba(slot: number, rgba: Uint8Array | Uint8ClampedArray, width: number, t: ResizeTransform): void {
    this.preprocessor.uploadRgba(rgba, width, t);
    this.preprocessor.run(this.slots[slot]!.input, t);
  }

  /** Writes a prepared [1,3,S,S] tensor into `slot` (parity tests, inferTensor). */
  prepareTensor(slot: number, data: Float32Array): void {
    this.device.queue.writeBuffer(this.slots[slot]!.input, 0, data as Float32Array<ArrayBuffer>);
  }

  /** The input buffer of a slot (preprocessOnly). */
  inputBuffer(slot: number): GPUBuffer {
    return this.slots[slot]!.input;
  }

  /** Runs the session on `slot` and reads back what decoding at `confidence` needs. Runs are serialised. */
  async run(slot: number, confidence: number): Promise<GpuRunOutput> {
    const s = this.slots[slot]!;
    const previous = this.chain;
    let done!: () => void;
    this.chain = new Promise<void>((resolve) => (done = resolve));
    const t0 = performance.now();
    let t1 = t0;
    let t2 = t0;
    let queries = 0;
    let classes = 0;
    try {
      await previous;
      t1 = performance.now();
      // Fresh Tensor wrappers every run (onnxruntime-web may dispose the ones it was given); the buffers are fixed.
      const wrap = (buffer: GPUBuffer, dims: readonly number[]) => this.tensors.fromGpuBuffer(buffer, { dataType: 'float32', dims });
      const size = this.options.inputSize;
      let feed = wrap(s.input, [1, 3, size, size]);
      if (this.fixedInput) {
        const encoder = this.device.createCommandEncoder();
        encoder.copyBufferToBuffer(s.input, 0, this.fixedInput, 0, s.input.size);
        this.device.queue.submit([encoder.finish()]);
        feed = wrap(this.fixedInput, [1, 3, size, size]);
      }
      const feeds = { [this.options.inputName]: feed };
      const f = this.fetches;
      const outputs = f
        ? await this.session.run(feeds, {
            [this.options.boxesName]: wrap(f.boxes, [1, f.queries, 4]),
            [this.options.logitsName]: wrap(f.logits, [1, f.queries, f.classes]),
          })
        : await this.session.run(feeds);
      t2 = performance.now();
      const boxes = outputs[this.options.boxesName]!;
      const logits = outputs[this.options.logitsName]!;
      try {
        if (boxes.location !== 'gpu-buffer' || logits.location !== 'gpu-buffer') {
          throw new Error(`the session returned ${boxes.location}/${logits.location} outputs: expected gpu-buffer (create it with preferredOutputLocation 'gpu-buffer')`);
        }
        if (boxes.dims.length !== 3 || logits.dims.length !== 3 || boxes.dims[2] !== 4 || boxes.dims[1] !== logits.dims[1]) {
          throw new Error(`outputs [${boxes.dims.join(',')}] and [${logits.dims.join(',')}]: expected [1,Q,4] and [1,Q,C]`);
        }
        queries = boxes.dims[1]!;
        classes = logits.dims[2]!;
        this.encodeReadBack(s, boxes.gpuBuffer as GPUBuffer, logits.gpuBuffer as GPUBuffer, queries, classes, confidence);
      } finally {
        if (!this.fetches && !this.options.graphCapture) {
          // Commands that use them are submitted; WebGPU defers the destruction until they complete. (Under graph
          // capture onnxruntime-web reuses its captured output buffers: they are not ours to release.)
          boxes.dispose();
          logits.dispose();
        }
      }
    } finally {
      done();
    }
    return this.finishReadBack(s, queries, classes, { waitMs: t1 - t0, runMs: t2 - t1, t2 });
  }

  private compactGroup(logits: GPUBuffer, total: number): GPUBindGroup {
    let group = this.compactGroups.get(logits);
    if (!group) {
      group = this.device.createBindGroup({
        layout: this.compact.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: logits, size: total * 4 } },
          { binding: 1, resource: { buffer: this.counter } },
          { binding: 2, resource: { buffer: this.kept } },
          { binding: 3, resource: { buffer: this.compactParams } },
        ],
      });
      // Only caller-owned buffers are reused; ORT-allocated ones change size rarely but are not cached by size.
      if (this.fetches) this.compactGroups.set(logits, group);
    }
    return group;
  }

  private encodeReadBack(s: Slot, boxes: GPUBuffer, logits: GPUBuffer, queries: number, classes: number, confidence: number): void {
    const total = queries * classes;
    if (s.staging.size < 8 + queries * 16 + this.capacity * 8) {
      s.staging.destroy();
      s.staging = this.createStaging(queries);
    }
    if (!s.snapshot || s.snapshot.size < total * 4) {
      s.snapshot?.destroy();
      s.snapshot = this.device.createBuffer({ size: total * 4, usage: BUFFER.COPY_SRC | BUFFER.COPY_DST, label: 'framewise logits snapshot' });
    }
    const params = new ArrayBuffer(16);
    new Float32Array(params, 0, 1)[0] = gpuLogitThreshold(confidence);
    new Uint32Array(params, 4, 2).set([total, this.capacity]);
    this.device.queue.writeBuffer(this.compactParams, 0, params);
    const encoder = this.device.createCommandEncoder({ label: 'framewise read-back' });
    encoder.clearBuffer(this.counter);
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.compact);
    pass.setBindGroup(0, this.compactGroup(logits, total));
    const groups = Math.ceil(total / 256);
    const x = Math.min(groups, 65535);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    pass.end();
    encoder.copyBufferToBuffer(this.counter, 0, s.staging, 0, 4);
    encoder.copyBufferToBuffer(boxes, 0, s.staging, 8, queries * 16);
    encoder.copyBufferToBuffer(this.kept, 0, s.staging, 8 + queries * 16, this.capacity * 8);
    encoder.copyBufferToBuffer(logits, 0, s.snapshot, 0, total * 4);
    this.device.queue.submit([encoder.finish()]);
  }

  private async finishReadBack(
    s: Slot,
    queries: number,
    classes: number,
    t: { waitMs: number; runMs: number; t2: number },
  ): Promise<GpuRunOutput> {
    const total = queries * classes;
    await s.staging.mapAsync(MAP_READ, 0, 8 + queries * 16 + this.capacity * 8);
    const mapped = s.staging.getMappedRange(0, 8 + queries * 16 + this.capacity * 8);
    const count = new Uint32Array(mapped, 0, 1)[0]!;
    const boxes = new Float32Array(mapped.slice(8, 8 + queries * 16));
    let logits: Float32Array;
    const fullReadBack = count > this.capacity;
    if (!fullReadBack) {
      if (!s.logits || s.logits.length !== total) s.logits = new Float32Array(total);
      logits = s.logits;
      logits.fill(-Infinity);
      const pairs = new Uint32Array(mapped, 8 + queries * 16, count * 2);
      const values = new Float32Array(pairs.buffer, pairs.byteOffset, count * 2);
      for (let k = 0; k < count; k++) logits[pairs[2 * k]!] = values[2 * k + 1]!;
      s.staging.unmap();
    } else {
      s.staging.unmap();
      if (!s.full || s.full.size < total * 4) {
        s.full?.destroy();
        s.full = this.device.createBuffer({ size: total * 4, usage: BUFFER.MAP_READ | BUFFER.COPY_DST, label: 'framewise full logits' });
      }
      const full = s.full;
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(s.snapshot!, 0, full, 0, total * 4);
      this.device.queue.submit([encoder.finish()]);
      await full.mapAsync(MAP_READ, 0, total * 4);
      logits = new Float32Array(full.getMappedRange(0, total * 4).slice(0));
      full.unmap();
    }
    // s.logits is reused by the slot's next frame: decode before releasing the slot.
    return { boxes, logits, queries, classes, kept: count, fullReadBack, timings: { waitMs: t.waitMs, runMs: t.runMs, readMs: performance.now() - t.t2 } };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const s of this.slots) {
      s.input.destroy();
      s.staging.destroy();
      s.snapshot?.destroy();
      s.full?.destroy();
    }
    this.fixedInput?.destroy();
    this.fetches?.boxes.destroy();
    this.fetches?.logits.destroy();
    this.counter.destroy();
    this.kept.destroy();
    this.compactParams.destroy();
    this.preprocessor.destroy();
  }
}
