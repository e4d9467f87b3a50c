#!/usr/bin/env python3
"""Writes the .npy fixtures for NpyFixtureTest with NumPy itself (run once; the files are committed).

Every float fixture holds arange(n).reshape(shape) * 0.25 - 1 in its logical (C) order, so a test
can check element i of the flat C order against i * 0.25 - 1 whatever the file's byte order,
format version or memory order.
Usage: python3 make_fixtures.py   (from this directory; NumPy 2.x)
"""
import pickle  # noqa: F401  (object arrays below are written as pickles by NumPy)

import numpy as np
from numpy.lib import format as npf


def values(shape, dtype):
    n = int(np.prod(shape, dtype=np.int64))
    return (np.arange(n, dtype=np.float64).reshape(shape) * 0.25 - 1).astype(dtype)


def save(name, arr, version=None):
    with open(name, "wb") as f:
        npf.write_array(f, arr, version=version, allow_pickle=arr.dtype == object)


save("f4_le_v1_2x3.npy", values((2, 3), "<f4"), (1, 0))
save("f4_be_v1_2x3.npy", values((2, 3), ">f4"), (1, 0))
save("f8_le_v1_3x4.npy", values((3, 4), "<f8"), (1, 0))
save("f8_be_v1_3x4.npy", values((3, 4), ">f8"), (1, 0))
save("f4_le_v2_5.npy", values((5,), "<f4"), (2, 0))
save("f8_be_v3_2x2x2.npy", values((2, 2, 2), ">f8"), (3, 0))
save("f4_le_v1_0d.npy", values((), "<f4"), (1, 0))
save("f8_le_v1_empty_0x3.npy", values((0, 3), "<f8"), (1, 0))
save("f4_le_v1_rank4_2x3x2x2.npy", values((2, 3, 2, 2), "<f4"), (1, 0))
save("f8_le_fortran_3x4.npy", np.asfortranarray(values((3, 4), "<f8")), (1, 0))
save("f4_be_fortran_2x3x4.npy", np.asfortranarray(values((2, 3, 4), ">f4")), (1, 0))
# Refusals.
save("i8_le_3.npy", np.arange(3, dtype="<i8"), (1, 0))
save("f2_le_3.npy", np.arange(3, dtype="<f2"), (1, 0))
save("object_pickle.npy", np.array([{"a": 1}, None], dtype=object), (1, 0))
save("structured.npy", np.zeros(2, dtype=[("x", "<f4"), ("y", "<f4")]), (1, 0))
with open("f4_le_v1_2x3.npy", "rb") as f:
    whole = f.read()
with open("truncated_2x3.npy", "wb") as f:
    f.write(whole[:-5])
