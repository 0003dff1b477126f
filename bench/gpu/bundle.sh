#!/usr/bin/env bash
# Builds .gpu/ (git-ignored) for the NVIDIA machine: Node, Dawn and onnxruntime-web via ../shared/gpu/make-bundle.sh,
# plus this folder's scripts bundled with esbuild (so they carry framewise's own preprocess-gpu.ts, rfdetr-decode.ts
# and make-nano.ts) and the PyTorch reference.
# Run from the project root after `npm install` (webgpu is a devDependency). Then, on the GPU machine (carry .gpu):
#   source .gpu/setup.sh && cd .gpu && $NODE gen-nano.mjs /tmp/nano.onnx 384 &&
#   $NODE webgpu-bench.mjs --model /tmp/nano.onnx --save /tmp/cmp && python3 nano_torch.py /tmp/nano.onnx --input /tmp/cmp/input.f32 --compare /tmp/cmp
set -euo pipefail
dest=${1:-.gpu}
bash ../shared/gpu/make-bundle.sh "$dest"
esb() { npx esbuild "$1" --bundle --platform=node --format=esm --log-level=warning --outfile="$dest/$(basename "$1")" \
  --external:./dawn-env.mjs --external:onnxruntime-web --external:onnxruntime-web/webgpu; }
esb bench/gpu/webgpu-bench.mjs
esb bench/gpu/gen-nano.mjs
cp bench/gpu/nano_torch.py "$dest/"
du -sh "$dest"
