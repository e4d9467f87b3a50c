#!/usr/bin/env python3
"""PyTorch's CPU kernels timed the way `soma bench` times Soma's: the peer figures for BENCHMARKS.md.

Same ops, sizes, row lengths, dtypes and directions as `soma bench`, the same method (warm-up,
samples long enough to beat timer noise, median of repeats), the same byte accounting (inputs
read once, output written once) and the same roofline: a copy of the same bytes, here
`torch.Tensor.copy_`, measured in the same run. Prints the CSV columns of `soma bench --format csv`
with backend `pytorch-cpu`, so the two files concatenate.

Kernels are called through their ATen `out=` overloads into preallocated outputs, as Soma writes
into preallocated outputs: an allocating call would time malloc and page faults, not the kernel.
Backward ops are ATen's own backward kernels (what autograd calls), fed the saved tensor autograd
would save (the input, or the output for sigmoid, tanh, softmax and log_softmax). mish_backward has
no out= overload in PyTorch 1.13; it allocates its result (noted on stderr).

Run it on a quiet machine: PyTorch's OpenMP threads wait for each other at every parallel region,
and where other jobs hold the cores each wait can last a scheduler tick, which turns microseconds
into milliseconds (the copy baseline suffers as much, so fraction_of_copy then means little).
`--threads 1` sidesteps that at the cost of parallelism.

Usage: pytorch_peer.py [--ops a,b] [--sizes ...] [--rows ...] [--row-elements N] [--dtype f32|f64]
                       [--direction forward,backward] [--repeats N] [--warmup N] [--sample-ms MS]
                       [--threads N] [--seed S]
"""
import argparse
import math
import os
import statistics
import sys
import time

import torch

aten = torch.ops.aten

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "celu", "selu", "gelu", "gelu_tanh", "silu",
               "softplus", "mish", "relu6", "hardsigmoid", "hardswish"]
ROWWISE = ["softmax", "log_softmax"]
COLUMNS = ["backend", "op", "direction", "dtype", "shape", "elements", "median_s", "gelem_per_s", "gb_per_s",
           "copy_gb_per_s", "fraction_of_copy"]
ALLOCATING = set()


def forward_fn(op):
    """out = op(x), written into a preallocated `out`."""
    table = {
        "sigmoid": lambda x, out: aten.sigmoid.out(x, out=out),
        "tanh": lambda x, out: aten.tanh.out(x, out=out),
        "relu": lambda x, out: aten.relu.out(x, out=out),
        "leaky_relu": lambda x, out: aten.leaky_relu.out(x, 0.01, out=out),
        "elu": lambda x, out: aten.elu.out(x, 1.0, 1, 1, out=out),
        "celu": lambda x, out: aten.celu.out(x, 1.0, out=out),
        # torch.selu is elu with SELU's constants; selu has no out= overload of its own.
        "selu": lambda x, out: aten.elu.out(x, SELU_ALPHA, SELU_SCALE, 1, out=out),
        "gelu": lambda x, out: aten.gelu.out(x, approximate="none", out=out),
        "gelu_tanh": lambda x, out: aten.gelu.out(x, approximate="tanh", out=out),
        "silu": lambda x, out: aten.silu.out(x, out=out),
        "softplus": lambda x, out: aten.softplus.out(x, 1, 20, out=out),
        "mish": lambda x, out: aten.mish.out(x, out=out),
        # torch.nn.functional.relu6 is hardtanh(x, 0, 6).
        "relu6": lambda x, out: aten.hardtanh.out(x, 0, 6, out=out),
        "hardsigmoid": lambda x, out: aten.hardsigmoid.out(x, out=out),
        "hardswish": lambda x, out: aten.hardswish.out(x, out=out),
        "softmax": lambda x, out: aten._softmax.out(x, -1, False, out=out),
        "log_softmax": lambda x, out: aten._log_softmax.out(x, -1, False, out=out),
    }
    return table[op]


def backward_fn(op, dtype):
    """dx = op'(x) * dy into a preallocated `dx`; `saved` is what autograd saves (x or y)."""
    def mish_allocating(saved, dy, dx):
        ALLOCATING.add("mish backward")
        return aten.mish_backward(dy, saved)

    table = {
        "sigmoid": ("y", lambda s, dy, dx: aten.sigmoid_backward.grad_input(dy, s, grad_input=dx)),
        "tanh": ("y", lambda s, dy, dx: aten.tanh_backward.grad_input(dy, s, grad_input=dx)),
        "relu": ("y", lambda s, dy, dx: aten.threshold_backward.grad_input(dy, s, 0, grad_input=dx)),
        "leaky_relu": ("x", lambda s, dy, dx: aten.leaky_relu_backward.grad_input(dy, s, 0.01, False, grad_input=dx)),
        "elu": ("x", lambda s, dy, dx: aten.elu_backward.grad_input(dy, 1.0, 1, 1, False, s, grad_input=dx)),
        # celu(x, a) is elu(x, a, 1, 1/a) in PyTorch, and its autograd calls elu_backward so.
        "celu": ("x", lambda s, dy, dx: aten.elu_backward.grad_input(dy, 1.0, 1, 1.0, False, s, grad_input=dx)),
        "selu": ("x", lambda s, dy, dx: aten.elu_backward.grad_input(dy, SELU_ALPHA, SELU_SCALE, 1, False, s,
                                                                      grad_input=dx)),
        "gelu": ("x", lambda s, dy, dx: aten.gelu_backward.grad_input(dy, s, approximate="none", grad_input=dx)),
        "gelu_tanh": ("x", lambda s, dy, dx: aten.gelu_backward.grad_input(dy, s, approximate="tanh", grad_input=dx)),
        "silu": ("x", lambda s, dy, dx: aten.silu_backward.grad_input(dy, s, grad_input=dx)),
        "softplus": ("x", lambda s, dy, dx: aten.softplus_backward.grad_input(dy, s, 1, 20, grad_input=dx)),
        "mish": ("x", mish_allocating),
        "relu6": ("x", lambda s, dy, dx: aten.hardtanh_backward.grad_input(dy, s, 0, 6, grad_input=dx)),
        "hardsigmoid": ("x", lambda s, dy, dx: aten.hardsigmoid_backward.grad_input(dy, s, grad_input=dx)),
        "hardswish": ("x", lambda s, dy, dx: aten.hardswish_backward.out(dy, s, out=dx)),
        "softmax": ("y", lambda s, dy, dx: aten._softmax_backward_data.out(dy, s, -1, dtype, grad_input=dx)),
        "log_softmax": ("y", lambda s, dy, dx: aten._log_softmax_backward_data.out(dy, s, -1, dtype, out=dx)),
    }
    return table[op]


def parse_size(text):
    s = text.strip().lower()
    if "^" in s:
        base, exp = s.split("^")
        if base != "2":
            raise ValueError(text)
        return 1 << int(exp)
    for suffix, shift in (("k", 10), ("m", 20), ("g", 30)):
        if s.endswith(suffix):
            return int(s[:-1]) << shift
    v = int(s)
    if v < 1:
        raise ValueError(text)
    return v


def sizes(text):
    try:
        return [parse_size(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a list of sizes like 4096,2^12,64K,1M" % text)


def time_workload(run, warmup, repeats, sample_ns, min_warmup_ns):
    """Median seconds per call; each sample batches enough calls to last about sample_ns."""
    def timed(k):
        t0 = time.perf_counter_ns()
        run(k)
        return max(1, time.perf_counter_ns() - t0)

    calls = max(1, min(1 << 20, math.ceil(sample_ns / timed(1))))
    start = time.perf_counter_ns()
    best = math.inf
    i = 0
    while i < warmup or time.perf_counter_ns() - start < min_warmup_ns:
        best = min(best, timed(calls) / calls)
        i += 1
    if best < math.inf:
        calls = max(1, min(1 << 20, math.ceil(sample_ns / max(1.0, best))))
    return statistics.median(timed(calls) / 1e9 / calls for _ in range(repeats)), calls


def repeat(fn, *args):
    def run(k):
        for _ in range(k):
            fn(*args)
    return run


def max_error(got, want):
    """Soma's metric (relative where |want| > 1e-5, else absolute), NaN-aware."""
    got = got.double()
    diff = (got - want).abs()
    err = torch.where(want.abs() > 1e-5, diff / want.abs(), diff)
    both_nan = got.isnan() & want.isnan()
    err = torch.where(both_nan, torch.zeros_like(err), err)
    err = torch.nan_to_num(err, nan=math.inf)
    return float(err.max()) if err.numel() else 0.0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ops", default=",".join(ELEMENTWISE + ROWWISE))
    p.add_argument("--sizes", type=sizes, default=[1 << k for k in range(12, 25, 2)])
    p.add_argument("--rows", type=sizes, default=[128, 1024, 8192, 32768])
    p.add_argument("--row-elements", type=parse_size, default=1 << 22)
    p.add_argument("--dtype", default="f32")
    p.add_argument("--direction", default="forward,backward")
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--sample-ms", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()

    ops = [o.strip().replace("-", "_") for o in a.ops.split(",")]
    unknown = [o for o in ops if o not in ELEMENTWISE + ROWWISE]
    if unknown:
        p.error("unknown op(s) %s; use some of %s" % (", ".join(unknown), ", ".join(ELEMENTWISE + ROWWISE)))
    dtypes = {"f32": torch.float32, "float32": torch.float32, "f64": torch.float64, "float64": torch.float64}
    try:
        dts = [dtypes[d.strip().lower()] for d in a.dtype.split(",")]
    except KeyError as e:
        p.error("unknown --dtype %s; use f32 or f64" % e)
    directions = [d.strip().lower() for d in a.direction.split(",")]
    if any(d not in ("forward", "backward") for d in directions):
        p.error("--direction takes forward and/or backward")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    print("# pytorch %s, %d threads, %s" % (torch.__version__, torch.get_num_threads(),
                                           torch.__config__.parallel_info().splitlines()[0]), file=sys.stderr)
    sample_ns = a.sample_ms * 1_000_000
    # As soma bench: at least ten sample lengths of warm-up, none with --warmup 0.
    timing = dict(warmup=a.warmup, repeats=a.repeats, sample_ns=sample_ns,
                  min_warmup_ns=0 if a.warmup == 0 else 10 * sample_ns)
    copy_cache = {}
    print(",".join(COLUMNS), flush=True)
    worst = {}
    for dt in dts:
        dtname = "float32" if dt == torch.float32 else "float64"
        esize = torch.finfo(dt).bits // 8
        for direction in directions:
            for op in ops:
                if op in ROWWISE:
                    shapes = [(max(1, a.row_elements // n), n) for n in sorted(a.rows)]
                else:
                    shapes = [(n,) for n in sorted(a.sizes)]
                for shape in shapes:
                    n = math.prod(shape)
                    x = torch.rand(shape, dtype=dt) * 16 - 8
                    want_x = x.double()
                    if direction == "forward":
                        fn = forward_fn(op)
                        y = torch.full(shape, math.nan, dtype=dt)
                        fn(x, y)
                        want = torch.empty(shape, dtype=torch.float64)
                        fn(want_x, want)
                        err = max_error(y, want)
                        run = repeat(fn, x, y)
                        traffic = 2 * n * esize
                    else:
                        dy = torch.rand(shape, dtype=dt) * 2 - 1
                        saved_kind, fn = backward_fn(op, dt)
                        fwd = forward_fn(op)
                        if saved_kind == "y":
                            saved = torch.empty(shape, dtype=dt)
                            fwd(x, saved)
                            saved64 = torch.empty(shape, dtype=torch.float64)
                            fwd(want_x, saved64)
                        else:
                            saved, saved64 = x, want_x
                        dx = torch.full(shape, math.nan, dtype=dt)
                        got = fn(saved, dy, dx)
                        fn64 = backward_fn(op, torch.float64)[1]
                        want = fn64(saved64, dy.double(), torch.empty(shape, dtype=torch.float64))
                        err = max_error(got, want)
                        run = repeat(fn, saved, dy, dx)
                        traffic = 3 * n * esize
                    # A sanity check that the right kernel is wired up, not an accuracy test:
                    # PyTorch's float32 kernels reach 2e-2 on some ops (shared/semantics.md).
                    if not err <= 0.1:
                        print("pytorch_peer: %s %s %s %s gives max error %.3g against float64; not timed"
                              % (op, direction, dtname, "x".join(map(str, shape)), err), file=sys.stderr)
                        continue
                    key = (op, direction, dtname)
                    worst[key] = max(worst.get(key, 0.0), err)
                    median_s, _ = time_workload(run, **timing)
                    copy_bytes = traffic // 2
                    if copy_bytes not in copy_cache:
                        src = torch.ones(copy_bytes // esize, dtype=dt)
                        dst = torch.zeros_like(src)
                        copy_s, _ = time_workload(repeat(dst.copy_, src), **timing)
                        copy_cache[copy_bytes] = 2 * copy_bytes / copy_s / 1e9
                    copy_gbs = copy_cache[copy_bytes]
                    gbs = traffic / median_s / 1e9
                    # Rows as they come (flushed), so a long run shows progress and a killed one keeps them.
                    print("pytorch-cpu,%s,%s,%s,%s,%d,%.6e,%.5g,%.5g,%.5g,%.4g" % (
                        op, direction, dtname, "x".join(map(str, shape)), n, median_s, n / median_s / 1e9, gbs,
                        copy_gbs, gbs / copy_gbs), flush=True)
    for key, err in worst.items():
        print("# max error vs float64: %s %s %s: %.3g" % (key + (err,)), file=sys.stderr)
    if ALLOCATING:
        print("# allocating (no out= overload): %s" % ", ".join(sorted(ALLOCATING)), file=sys.stderr)


if __name__ == "__main__":
    main()
