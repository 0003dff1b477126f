/**
 * The ceiling: a bare onnxruntime-web loop in a module worker, set up exactly as framewise's inference worker sets
 * up its session (same import, same env settings, same session options), running `session.run` on a prepared
 * tensor with nothing else around it.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';

export interface RawLoadRequest {
  modelBytes: ArrayBuffer;
  numThreads: number;
  backend: 'wasm' | 'webgpu';
  /** Raw float32 [1,3,S,S] input. */
  tensor: ArrayBuffer;
  inputSize: number;
}

export interface RawLoopResult {
  /** Milliseconds of each untimed warm-up run. */
  warmupMs: number[];
  /** Milliseconds of each `session.run` (output tensors disposed, as framewise does). */
  runMs: number[];
  /** Wall time of the whole loop, ms (performance.now() of this worker). */
  totalMs: number;
  /** performance.timeOrigin + now() at the start and end, so loops in several workers can be lined up. */
  startEpochMs: number;
  endEpochMs: number;
}

class RawWorker {
  private session?: ort.InferenceSession;
  private input?: Float32Array;
  private inputName = '';
  private size = 0;

  async load(request: RawLoadRequest): Promise<{ loadMs: number; inputName: string; outputNames: string[] }> {
    const t0 = performance.now();
    ort.env.wasm.numThreads = request.numThreads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    this.session = await ort.InferenceSession.create(new Uint8Array(request.modelBytes), {
      executionProviders: [request.backend],
      graphOptimizationLevel: 'all',
    });
    this.input = new Float32Array(request.tensor);
    this.size = request.inputSize;
    this.inputName = this.session.inputNames[0]!;
    return { loadMs: performance.now() - t0, inputName: this.inputName, outputNames: [...this.session.outputNames] };
  }

  /** Runs `warmup` untimed runs, then `runs` timed ones back to back. */
  async loop(runs: number, warmup: number): Promise<RawLoopResult> {
    const session = this.session;
    const input = this.input;
    if (!session || !input) throw new Error('load() first');
    const once = async () => {
      const outputs = await session.run({ [this.inputName]: new ort.Tensor('float32', input as Float32Array<ArrayBuffer>, [1, 3, this.size, this.size]) });
      for (const tensor of Object.values(outputs)) tensor.dispose();
    };
    const warmupMs: number[] = [];
    for (let i = 0; i < warmup; i++) {
      const t = performance.now();
      await once();
      warmupMs.push(performance.now() - t);
    }
    const runMs: number[] = [];
    const startEpochMs = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await once();
      runMs.push(performance.now() - t);
    }
    const totalMs = performance.now() - t0;
    return { warmupMs, runMs, totalMs, startEpochMs, endEpochMs: performance.timeOrigin + performance.now() };
  }

  async dispose(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}

export type RawWorkerApi = RawWorker;
Comlink.expose(new RawWorker());
