#!/usr/bin/env python3
"""Turns a JMH log of CpuOpsBenchmark + CopyBenchmark (float32, vector path, 2^26 elements) into the
markdown rows of BENCHMARKS.md: best iteration of each benchmark, Gelem/s, GB/s and the fraction of
the best copy of the same run. Usage: cpu_table.py jmh.log [size]"""
import re
import sys

TARGET = {"relu": 0.9, "leaky_relu": 0.9, "relu6": 0.9, "prelu": 0.9, "softmax": 0.5, "log_softmax": 0.5}


def main():
    log = open(sys.argv[1]).read()
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 26
    copies, ops = {}, {}
    for block in re.split(r"# Benchmark: ", log)[1:]:
        name = block.split("\n")[0].strip().split(".")[-1]
        its = [float(x) for x in re.findall(r"^Iteration +\d+: ([0-9.]+) ms/op", block, re.M)]
        if not its:
            continue
        op = re.search(r"op = (\w+)", block)
        if op:
            direction = re.search(r"direction = (\w+)", block).group(1)
            ops[(op.group(1), direction)] = min(its)
        else:
            copies[name] = min(its)
    print("| copy | ms (best) | Gelem/s | GB/s (read + write) |")
    print("|---|---:|---:|---:|")
    for name, ms in copies.items():
        print(f"| {name} | {ms:.2f} | {size / ms / 1e6:.2f} | {8 * size / ms / 1e6:.1f} |")
    best = min(copies.values())
    ceiling = 8 * size / best / 1e6
    print(f"\nCeiling: the best copy, {ceiling:.1f} GB/s.\n")
    print("| op | direction | ms (best) | Gelem/s | GB/s | fraction of copy | target | met |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    order = []
    for (op, d) in ops:
        if op not in order:
            order.append(op)
    for op in order:
        for d in ("forward", "backward"):
            if (op, d) not in ops:
                continue
            ms = ops[(op, d)]
            gbs = (8 if d == "forward" else 12) * size / ms / 1e6
            frac = gbs / ceiling
            target = TARGET.get(op, 0.7) if d == "forward" else None
            met = "" if target is None else ("yes" if frac >= target else "**no**")
            print(f"| {op} | {d} | {ms:.1f} | {size / ms / 1e6:.2f} | {gbs:.1f} | {frac:.2f} | "
                  f"{'' if target is None else target} | {met} |")


if __name__ == "__main__":
    main()
