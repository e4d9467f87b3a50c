#!/usr/bin/env python3
"""Joins `soma bench --format csv` and `pytorch_peer.py` output into one markdown section.

Usage: side_by_side.py SOMA_CSV PYTORCH_CSV [--title TEXT] [--machine TEXT]
Each row is one case (op, direction, dtype, shape); each Soma backend gets its GB/s and fraction of
its own copy roofline, PyTorch CPU likewise, and the last column is Soma CPU's speed over PyTorch CPU
(PyTorch's median time / Soma's). Standard library only.
"""
import argparse
import csv
import sys

COLUMNS = ["backend", "op", "direction", "dtype", "shape", "elements", "median_s", "gelem_per_s", "gb_per_s",
           "copy_gb_per_s", "fraction_of_copy"]


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    if rows and list(rows[0].keys()) != COLUMNS:
        sys.exit("side_by_side: %s does not have the soma bench columns %s" % (path, ",".join(COLUMNS)))
    return rows


def cell(row):
    if row is None:
        return "-"
    frac = float(row["fraction_of_copy"]) if row["fraction_of_copy"] not in ("", "NaN") else float("nan")
    return "%.2f (%.0f%%)" % (float(row["gb_per_s"]), 100 * frac)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("soma_csv")
    p.add_argument("pytorch_csv")
    p.add_argument("--title", default="Soma and PyTorch CPU, same machine, same run")
    p.add_argument("--machine", default="")
    a = p.parse_args()
    soma = load(a.soma_csv)
    torch_rows = load(a.pytorch_csv)

    key = lambda r: (r["op"], r["direction"], r["dtype"], r["shape"])
    backends = []
    for r in soma:
        if r["backend"] not in backends:
            backends.append(r["backend"])
    by_case = {}
    order = []
    for r in soma + torch_rows:
        k = key(r)
        if k not in by_case:
            by_case[k] = {}
            order.append(k)
        by_case[k][r["backend"]] = r

    out = ["### " + a.title, ""]
    if a.machine:
        out += [a.machine, ""]
    out += ["GB/s counts each input read once and the output written once; in brackets, the fraction of a",
            "copy of the same bytes on the same backend (for PyTorch, `Tensor.copy_`), measured in the same run.",
            "Median of repeats after warm-up; Soma's rows were validated against the float64 reference first.",
            "GPU backends are timed kernel-only (data resident on the device).",
            "`soma/torch` is PyTorch CPU's median time over Soma CPU's: above 1, Soma is faster.",
            ""]
    head = ["op", "direction", "dtype", "shape"] + ["soma %s GB/s" % b for b in backends] + ["pytorch-cpu GB/s",
                                                                                             "soma/torch"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---"] * 4 + ["---:"] * (len(head) - 4)) + "|")
    for k in order:
        rows = by_case[k]
        pt = rows.get("pytorch-cpu")
        cpu = rows.get("cpu")
        ratio = "%.2fx" % (float(pt["median_s"]) / float(cpu["median_s"])) if pt and cpu else "-"
        out.append("| " + " | ".join(list(k) + [cell(rows.get(b)) for b in backends] + [cell(pt), ratio]) + " |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
