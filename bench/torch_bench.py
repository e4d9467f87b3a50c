"""PyTorch's same ops on the same GPU, timed like CudaBench (CUDA events, best of N after a warm-up),
for the side-by-side table of bench/gpu-check.sh. Writes torch-bench.csv with CudaBench's columns:
kind,op,direction,size,ms,gbps,fraction_of_copy (fraction of torch's own device-to-device copy)."""
import argparse
import os

import torch
import torch.nn.functional as F

aten = torch.ops.aten
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

# op id -> (forward(x), backward(dy, x, y)), using ATen's own backward kernels (what autograd runs).
OPS = {
    "sigmoid": (torch.sigmoid, lambda g, x, y: aten.sigmoid_backward(g, y)),
    "tanh": (torch.tanh, lambda g, x, y: aten.tanh_backward(g, y)),
    "relu": (torch.relu, lambda g, x, y: aten.threshold_backward(g, x, 0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.01), lambda g, x, y: aten.leaky_relu_backward(g, x, 0.01, False)),
    "elu": (F.elu, lambda g, x, y: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x)),
    "celu": (F.celu, lambda g, x, y: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x)),
    "selu": (F.selu, lambda g, x, y: aten.elu_backward(g, SELU_ALPHA, SELU_SCALE, 1.0, False, x)),
    "gelu": (F.gelu, lambda g, x, y: aten.gelu_backward(g, x)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda g, x, y: aten.gelu_backward(g, x, approximate="tanh")),
    "silu": (F.silu, lambda g, x, y: aten.silu_backward(g, x)),
    "softplus": (F.softplus, lambda g, x, y: aten.softplus_backward(g, x, 1.0, 20.0)),
    "mish": (F.mish, lambda g, x, y: aten.mish_backward(g, x)),
    "relu6": (F.relu6, lambda g, x, y: aten.hardtanh_backward(g, x, 0.0, 6.0)),
    "hardsigmoid": (F.hardsigmoid, lambda g, x, y: aten.hardsigmoid_backward(g, x)),
    "hardswish": (F.hardswish, lambda g, x, y: aten.hardswish_backward(g, x)),
}
SOFTMAX_ROWS = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


def best_ms(fn, reps):
    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        best = min(best, a.elapsed_time(b))
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=".")
    p.add_argument("--elements", type=int, default=1 << 28)
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    n = a.elements
    dev = torch.device("cuda")
    x = torch.empty(n, device=dev).uniform_(-8, 8)
    dy = torch.empty(n, device=dev).uniform_(-1, 1)
    y = torch.empty_like(x)
    rows = []
    copy_ms = best_ms(lambda: y.copy_(x), a.reps)
    copy = 8.0 * n / (copy_ms * 1e6)
    rows.append(("copy", "memcpy_dtod", "fwd", n, copy_ms, copy, 1.0))

    def add(kind, op, d, size, ms, nbytes):
        g = nbytes / (ms * 1e6)
        rows.append((kind, op, d, size, ms, g, g / copy))

    for name, (fwd, bwd) in OPS.items():
        try:
            out = fwd(x)
            add("elementwise", name, "fwd", n, best_ms(lambda: fwd(x), a.reps), 8.0 * n)
            add("elementwise", name, "bwd", n, best_ms(lambda: bwd(dy, x, out), a.reps), 12.0 * n)
            del out
        except Exception as e:  # one op missing in an old PyTorch must not lose the others
            print(f"torch {name}: {e}")
    total = min(n, 1 << 26)
    for length in SOFTMAX_ROWS:
        r = total // length
        xs = x[: r * length].view(r, length)
        gs = dy[: r * length].view(r, length)
        for name, f, b in (("softmax", torch.softmax, aten._softmax_backward_data),
                           ("log_softmax", torch.log_softmax, aten._log_softmax_backward_data)):
            out = f(xs, -1)
            add("softmax", name, "fwd", length, best_ms(lambda: f(xs, -1), a.reps), 8.0 * r * length)
            add("softmax", name, "bwd", length, best_ms(lambda: b(gs, out, 1, torch.float32), a.reps), 12.0 * r * length)
            del out
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "torch-bench.csv"), "w") as fh:
        fh.write("kind,op,direction,size,ms,gbps,fraction_of_copy\n")
        for k, o, d, s, ms, g, fr in rows:
            fh.write(f"{k},{o},{d},{s},{ms:.4f},{g:.1f},{fr:.3f}\n")
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}: copy {copy:.1f} GB/s")
    for k, o, d, s, ms, g, fr in rows:
        print(f"{k:11s} {o:14s} {d} {s:>10} {ms:9.3f} ms {g:8.1f} GB/s {fr:5.2f}")


if __name__ == "__main__":
    main()
