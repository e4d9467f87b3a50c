#!/usr/bin/env python3
"""Turns a JMH log of CpuOpsBenchmark + CopyBenchmark (float32, vector path, 2^26 elements) into the
markdown rows of BENCHMARKS.md: best iteration of each benchmark, Gelem/s, GB/s, the op's fraction of
the streaming copy and of System.arraycopy (the issue's plain array copy), each timed right after
each of its measurement iterations (median over them: this machine's memory speed drifts between
forks), and the fraction of the best CopyBenchmark of the run. The targets are judged on the paired
arraycopy where the log has it (the streaming copy beside it), else on the paired streaming copy.
Usage: cpu_table.py jmh.log [size]"""
import re
import sys

TARGET = {"relu": 0.9, "leaky_relu": 0.9, "relu6": 0.9, "prelu": 0.9, "softmax": 0.5, "log_softmax": 0.5}


def main():
    log = open(sys.argv[1]).read()
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 26
    copies, ops = {}, {}
    for block in re.split(r"# Benchmark: ", log)[1:]:
        name = block.split("\n")[0].strip().split(".")[-1]
        # CpuOpsBenchmark's own line lands between "Iteration N:" and the score: read around it.
        scores = re.sub(r"\nsoma: iteration[^\n]*\n", "", block)
        its = [float(x) for x in re.findall(r"^Iteration +\d+: ([0-9.]+) ms/op", scores, re.M)]
        if not its:
            continue
        op = re.search(r"op = (\w+)", block)
        if op:
            direction = re.search(r"direction = (\w+)", block).group(1)
            # (op, copy) ms per iteration, printed by CpuOpsBenchmark after each; the last len(its)
            # are the measurement iterations. The fraction is the median of their copy / op.
            lines = re.findall(r"soma: iteration: op ([0-9.]+) ms, copy ([0-9.]+) ms(?:, arraycopy ([0-9.]+) ms)?",
                               block)[-len(its):]
            stream = median([float(c) / float(o) for o, c, _ in lines])
            array = median([float(a) / float(o) for o, _, a in lines if a])
            copy_ms = median([float(c) for _, c, _ in lines])
            array_ms = median([float(a) for _, _, a in lines if a])
            ops[(op.group(1), direction)] = (min(its), stream, copy_ms, array, array_ms)
        else:
            copies[name] = min(its)
    if not copies:
        sys.exit("no CopyBenchmark in the log: run 'CpuOpsBenchmark|bench.CopyBenchmark'")
    print("| copy | ms (best) | Gelem/s | GB/s (read + write) |")
    print("|---|---:|---:|---:|")
    for name, ms in copies.items():
        print(f"| {name} | {ms:.2f} | {size / ms / 1e6:.2f} | {8 * size / ms / 1e6:.1f} |")
    best = min(copies.values())
    ceiling = 8 * size / best / 1e6
    print(f"\nCeiling: the best copy, {ceiling:.1f} GB/s.\n")
    print("| op | direction | ms (best) | Gelem/s | GB/s | paired streaming copy, ms | fraction of it | "
          "paired arraycopy, ms | fraction of it | fraction of the run's best copy | target | met |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    order = []
    for (op, d) in ops:
        if op not in order:
            order.append(op)
    for op in order:
        for d in ("forward", "backward"):
            if (op, d) not in ops:
                continue
            ms, stream, copy_ms, array, array_ms = ops[(op, d)]
            gbs = (8 if d == "forward" else 12) * size / ms / 1e6
            frac = gbs / ceiling
            # The copies move 8 bytes per element; a backward 12.
            scale = (8 if d == "forward" else 12) / 8
            own = None if stream is None else scale * stream
            own_array = None if array is None else scale * array
            target = TARGET.get(op, 0.7) if d == "forward" else None
            judged = next(v for v in (own_array, own, frac) if v is not None)
            met = "" if target is None else ("yes" if judged >= target else "**no**")
            print(f"| {op} | {d} | {ms:.1f} | {size / ms / 1e6:.2f} | {gbs:.1f} | {fmt(copy_ms)} | {fmt(own)} | "
                  f"{fmt(array_ms)} | {fmt(own_array)} | {frac:.2f} | {'' if target is None else target} | {met} |")


def median(values):
    return sorted(values)[len(values) // 2] if values else None


def fmt(v):
    return "" if v is None else f"{v:.2f}"


if __name__ == "__main__":
    main()
