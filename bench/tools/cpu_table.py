#!/usr/bin/env python3
"""Turns a JMH log of CpuOpsBenchmark + CopyBenchmark (float32, vector path, 2^26 elements) into the
markdown rows of BENCHMARKS.md: best iteration of each benchmark, Gelem/s, GB/s, the op's fraction of
the streaming copy timed right after each of its measurement iterations (median over them; the figure
the targets are judged on: this machine's memory speed drifts between forks) and the fraction of the
best CopyBenchmark of the run.
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
            pairs = [(float(a), float(b)) for a, b in
                     re.findall(r"soma: iteration: op ([0-9.]+) ms, copy ([0-9.]+) ms", block)][-len(its):]
            ratios = sorted(c / o for o, c in pairs)
            paired = ratios[len(ratios) // 2] if ratios else None
            copy_ms = sorted(c for _, c in pairs)[len(pairs) // 2] if pairs else None
            ops[(op.group(1), direction)] = (min(its), paired, copy_ms)
        else:
            copies[name] = min(its)
    print("| copy | ms (best) | Gelem/s | GB/s (read + write) |")
    print("|---|---:|---:|---:|")
    for name, ms in copies.items():
        print(f"| {name} | {ms:.2f} | {size / ms / 1e6:.2f} | {8 * size / ms / 1e6:.1f} |")
    best = min(copies.values())
    ceiling = 8 * size / best / 1e6
    print(f"\nCeiling: the best copy, {ceiling:.1f} GB/s.\n")
    print("| op | direction | ms (best) | Gelem/s | GB/s | paired copy, ms (median) | fraction of it (median) | "
          "fraction of the run's best copy | target | met |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    order = []
    for (op, d) in ops:
        if op not in order:
            order.append(op)
    for op in order:
        for d in ("forward", "backward"):
            if (op, d) not in ops:
                continue
            ms, paired, fork_copy = ops[(op, d)]
            gbs = (8 if d == "forward" else 12) * size / ms / 1e6
            frac = gbs / ceiling
            # The copy moves 8 bytes per element; a backward 12.
            own = None if paired is None else (8 if d == "forward" else 12) / 8 * paired
            target = TARGET.get(op, 0.7) if d == "forward" else None
            judged = own if own is not None else frac
            met = "" if target is None else ("yes" if judged >= target else "**no**")
            print(f"| {op} | {d} | {ms:.1f} | {size / ms / 1e6:.2f} | {gbs:.1f} | "
                  f"{'' if fork_copy is None else f'{fork_copy:.2f}'} | {'' if own is None else f'{own:.2f}'} | "
                  f"{frac:.2f} | {'' if target is None else target} | {met} |")


if __name__ == "__main__":
    main()
