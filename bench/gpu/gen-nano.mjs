// Writes the RF-DETR-Nano-shaped ONNX (tests/fixtures/make-nano.ts, same seed and weights as the fixtures) at a
// given resolution, so the GPU machine can make the 108 MB model itself. Bundled by bench/gpu/bundle.sh.
// Usage: node gen-nano.mjs OUT.onnx [resolution=384]
import { writeFileSync } from 'node:fs';

// make-nano.ts runs its generator when it is the main script; in a bundle it would think it is.
const [out, res = '384'] = process.argv.slice(2);
process.argv[1] = '/not-the-generator';
const { buildNano } = await import('../../tests/fixtures/make-nano.ts');
const t = performance.now();
const built = buildNano(Number(res));
writeFileSync(out, built.bytes);
console.log(JSON.stringify({ model: out, resolution: Number(res), parameters: built.parameterCount, gmac: built.macs / 1e9, mib: built.bytes.byteLength / 2 ** 20, seconds: (performance.now() - t) / 1e3 }));
