"""
The native reference for the GPU numbers: the RF-DETR-Nano-shaped network in PyTorch on CUDA, fp32, with the very
weights of the ONNX file that onnxruntime-web runs.

The network is built from the ONNX graph that tests/fixtures/make-nano.ts writes: every node becomes one PyTorch op
(MatMul -> torch.matmul, LayerNormalization -> F.layer_norm, GridSample -> F.grid_sample, ...), with the constant
inputs (shapes, axes, indices) resolved once, so a forward pass is the same sequence of CUDA kernels an eager
nn.Module with these layers would launch. Two timings:
  - eager: the ops launched one by one from Python (like module(x) in eager mode);
  - CUDA graph: the same ops captured once and replayed (no Python or launch overhead; the best native fp32 case).
Each timed iteration uploads the [1,3,S,S] input from pinned host memory, runs, and copies both outputs back, then
synchronises (the same work as the WebGPU "upload + run + read-back" loop). TF32 is off: strict fp32 like WebGPU.

Usage: python3 nano_torch.py MODEL.onnx [--runs 50] [--warmup 10] [--input input.f32] [--compare dir] [--json out.json]
  --input: raw float32 [1,3,S,S] to run (else a fixed random tensor); --compare: a folder with dets.f32 and labels.f32
  from onnxruntime-web on WebGPU for the same input, compared with PyTorch's outputs.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attrs_of(node):
    out = {}
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


class OnnxTorch:
    """Runs an ONNX graph (the op set make-nano.ts uses) as PyTorch ops on one device."""

    def __init__(self, model, device):
        g = model.graph
        self.device = device
        self.consts = {}
        self.host_ints = {}
        for init in g.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype == np.int64:
                self.host_ints[init.name] = [int(x) for x in arr.reshape(-1)]
                self.consts[init.name] = torch.from_numpy(arr.copy()).to(device)
            else:
                self.consts[init.name] = torch.from_numpy(arr.astype(np.float32).copy()).to(device)
        self.input_name = g.input[0].name
        self.output_names = [o.name for o in g.output]
        self.steps = [self._compile(n) for n in g.node]

    def _ints(self, name):
        return self.host_ints[name]

    def _compile(self, node):
        op, a, ins, outs = node.op_type, attrs_of(node), list(node.input), list(node.output)
        unary = {'Relu': torch.relu, 'Erf': torch.erf, 'Sigmoid': torch.sigmoid, 'Sin': torch.sin, 'Cos': torch.cos}
        binary = {'Add': torch.add, 'Mul': torch.mul, 'Div': torch.div, 'Sub': torch.sub, 'MatMul': torch.matmul}
        if op == 'Identity':
            fn = lambda v: v[0]
        elif op in unary:
            f = unary[op]
            fn = lambda v: f(v[0])
        elif op in binary:
            f = binary[op]
            fn = lambda v: f(v[0], v[1])
        elif op == 'Reshape':
            shape = self._ints(ins[1])
            ins = ins[:1]

            def fn(v, shape=shape):
                x = v[0]
                s = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
                return x.reshape(s)
        elif op == 'Transpose':
            perm = list(a['perm'])
            fn = lambda v: v[0].permute(perm)
        elif op == 'Slice':
            starts, ends = self._ints(ins[1]), self._ints(ins[2])
            axes = self._ints(ins[3]) if len(ins) > 3 and ins[3] else list(range(len(starts)))
            steps = self._ints(ins[4]) if len(ins) > 4 and ins[4] else [1] * len(starts)
            ins = ins[:1]

            def fn(v):
                x = v[0]
                idx = [slice(None)] * x.dim()
                for s, e, ax, st in zip(starts, ends, axes, steps):
                    n = x.shape[ax]
                    e = min(e, n) if e >= 0 else e
                    idx[ax] = slice(s, e, st)
                return x[tuple(idx)]
        elif op == 'Unsqueeze':
            axes = sorted(self._ints(ins[1]))
            ins = ins[:1]

            def fn(v):
                x = v[0]
                for ax in axes:
                    x = x.unsqueeze(ax if ax >= 0 else ax + x.dim() + 1)
                return x
        elif op == 'LayerNormalization':
            eps = a.get('epsilon', 1e-5)
            axis = a.get('axis', -1)
            assert axis == -1, 'only last-axis LayerNormalization'
            fn = lambda v: F.layer_norm(v[0], v[0].shape[-1:], v[1], v[2], eps)
        elif op == 'Softmax':
            axis = a.get('axis', -1)
            fn = lambda v: torch.softmax(v[0], dim=axis)
        elif op == 'Conv':
            strides = list(a.get('strides', [1, 1]))
            pads = list(a.get('pads', [0, 0, 0, 0]))
            assert pads[0] == pads[2] and pads[1] == pads[3]
            group = a.get('group', 1)
            dil = list(a.get('dilations', [1, 1]))
            fn = lambda v: F.conv2d(v[0], v[1], v[2] if len(v) > 2 else None, strides, pads[:2], dil, group)
        elif op == 'Concat':
            axis = a['axis']
            fn = lambda v: torch.cat(v, dim=axis)
        elif op == 'Split':
            axis = a.get('axis', 0)
            sizes = self._ints(ins[1])
            ins = ins[:1]
            fn = lambda v: torch.split(v[0], sizes, dim=axis)
        elif op == 'ReduceMax':
            axes = list(a['axes'])
            keep = bool(a.get('keepdims', 1))
            fn = lambda v: torch.amax(v[0], dim=axes, keepdim=keep)
        elif op == 'ReduceSum':
            axes = self._ints(ins[1])
            keep = bool(a.get('keepdims', 1))
            ins = ins[:1]
            fn = lambda v: torch.sum(v[0], dim=axes, keepdim=keep)
        elif op == 'TopK':
            k = self._ints(ins[1])[0]
            axis = a.get('axis', -1)
            largest = bool(a.get('largest', 1))
            srt = bool(a.get('sorted', 1))
            ins = ins[:1]
            fn = lambda v: tuple(torch.topk(v[0], k, dim=axis, largest=largest, sorted=srt))
        elif op == 'Tile':
            reps = self._ints(ins[1])
            ins = ins[:1]
            fn = lambda v: v[0].repeat(*reps)
        elif op == 'GatherElements':
            axis = a.get('axis', 0)
            fn = lambda v: torch.gather(v[0], axis, v[1])
        elif op == 'Gather':
            axis = a.get('axis', 0)
            fn = lambda v: torch.index_select(v[0], axis, v[1]) if v[1].dim() == 1 else torch.take_along_dim(v[0], v[1], axis)
        elif op == 'GridSample':
            assert a.get('mode', 'bilinear') == 'bilinear' and a.get('padding_mode', 'zeros') == 'zeros'
            align = bool(a.get('align_corners', 0))
            fn = lambda v: F.grid_sample(v[0], v[1], mode='bilinear', padding_mode='zeros', align_corners=align)
        else:
            raise NotImplementedError(f'ONNX op {op}')
        return ins, outs, fn

    def forward(self, x):
        env = dict(self.consts)
        env[self.input_name] = x
        for ins, outs, fn in self.steps:
            r = fn([env[i] for i in ins])
            if len(outs) == 1:
                env[outs[0]] = r
            else:
                for name, value in zip(outs, r):
                    env[name] = value
        return [env[n] for n in self.output_names]


def summary(ms):
    return {'median': statistics.median(ms), 'min': min(ms), 'mean': statistics.fmean(ms), 'p90': sorted(ms)[int(0.9 * (len(ms) - 1))], 'runs': len(ms)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('model')
    p.add_argument('--runs', type=int, default=50)
    p.add_argument('--warmup', type=int, default=10)
    p.add_argument('--input')
    p.add_argument('--compare')
    p.add_argument('--save', help='write dets.f32 and labels.f32 here')
    p.add_argument('--json')
    p.add_argument('--device', default='cuda', help='cpu: check the graph translation only (no CUDA timings)')
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device(args.device)
    cuda = dev.type == 'cuda'
    model = onnx.load(args.model)
    net = OnnxTorch(model, dev)
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if args.input:
        host = torch.from_numpy(np.fromfile(args.input, dtype=np.float32).reshape(dims))
    else:
        host = torch.from_numpy(np.random.default_rng(1).standard_normal(dims).astype(np.float32))
    if cuda:
        host = host.pin_memory()
    info = {'device': torch.cuda.get_device_properties(0).name if cuda else 'cpu', 'torch': torch.__version__, 'cuda': torch.version.cuda,
            'cudnn': torch.backends.cudnn.version(), 'nodes': len(net.steps), 'input': dims, 'tf32': False}
    print(json.dumps(info), flush=True)
    out_host = None

    def step_eager():
        x = host.to(dev, non_blocking=True)
        outs = net.forward(x)
        return [o.to('cpu') for o in outs]

    def sync():
        if cuda:
            torch.cuda.synchronize()

    with torch.inference_mode():
        for _ in range(args.warmup):
            out_host = step_eager()
        sync()
        eager = []
        for _ in range(args.runs):
            t = time.perf_counter()
            out_host = step_eager()  # .to('cpu') synchronises
            eager.append((time.perf_counter() - t) * 1e3)
    result = {**info, 'eager_ms': summary(eager)}
    if cuda:
        result.update(cuda_timings(net, host, dev, args, out_host))
    dets, labels = [o.numpy() for o in out_host]
    if args.compare:
        theirs_d = np.fromfile(f'{args.compare}/dets.f32', dtype=np.float32).reshape(dets.shape)
        theirs_l = np.fromfile(f'{args.compare}/labels.f32', dtype=np.float32).reshape(labels.shape)
        result['webgpu_vs_torch'] = {
            'dets_max_abs': float(np.abs(theirs_d - dets).max()),
            'labels_max_abs': float(np.abs(theirs_l - labels).max()),
            'labels_max_rel': float((np.abs(theirs_l - labels) / np.maximum(np.abs(labels), 1)).max()),
        }
    if args.save:
        dets.tofile(f'{args.save}/dets.f32')
        labels.tofile(f'{args.save}/labels.f32')
    print(json.dumps(result, indent=1), flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


def cuda_timings(net, host, dev, args, out_host):
    with torch.inference_mode():
        # GPU time alone (CUDA events around the forward, input already on the device).
        x = host.to(dev)
        gpu_only = []
        for _ in range(args.runs):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            net.forward(x)
            e.record()
            e.synchronize()
            gpu_only.append(s.elapsed_time(e))
        # CUDA graph of the forward; upload and read-back stay outside (copies into/out of static tensors).
        static_in = host.to(dev)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                net.forward(static_in)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = net.forward(static_in)
        pinned_out = [torch.empty(o.shape, dtype=o.dtype, pin_memory=True) for o in static_out]
        graphed = []
        for i in range(args.warmup + args.runs):
            t = time.perf_counter()
            static_in.copy_(host, non_blocking=True)
            graph.replay()
            for d, o in zip(pinned_out, static_out):
                d.copy_(o, non_blocking=True)
            torch.cuda.synchronize()
            if i >= args.warmup:
                graphed.append((time.perf_counter() - t) * 1e3)
        graph_outs = [o.clone() for o in pinned_out]
    diff = max(float((a - b).abs().max()) for a, b in zip(graph_outs, out_host))
    return {'eager_gpu_only_ms': summary(gpu_only), 'cuda_graph_ms': summary(graphed), 'graph_vs_eager_max_abs': diff}


if __name__ == '__main__':
    sys.exit(main())
