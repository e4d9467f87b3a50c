package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * float32 softmax and log-softmax backward over contiguous rows of at most
 * {@link SoftmaxF32#SCRATCH_MAX} whose x, dy and dx are all Java arrays: {@link SoftmaxF32}'s row
 * maximum, pairwise sums and scratch-row outputs with {@code fromArray}/{@code intoArray} (C2 does
 * not vectorize Vector API access to a segment over an array; see {@link Staging}). Staged through
 * native scratch, where copy-in, compute and copy-out take turns in each thread, these took 59 and
 * 81 ms at 2^26 (rows of 1024, both cores) against 27 and 28 off-heap. The bits are those of
 * {@link SoftmaxF32#backwardRow}: the same operations in the same order. Offsets (xo, dyo, dxo) are
 * each array's index of element 0; x, dy and dx are also passed as segments for the rare paths
 * (the NaN check of a row without a value above -inf, and special rows' fills).
 */
final class SoftmaxF32Arrays {
    private static final int L = Lanes.F.length();

    private SoftmaxF32Arrays() {
    }

    /** Rows [rowFrom, rowTo) of length len; special rows get {@code special}, as in the segment code. */
    static void backwardRows(boolean log, float[] x, int xo, float[] dy, int dyo, float[] dx, int dxo,
                             MemorySegment xs, long len, long rowFrom, long rowTo, SoftmaxPipelineF32.SpecialRow special) {
        int n = (int) len;
        float[] row = new float[n];
        double[] out = new double[2];
        for (long r = rowFrom; r < rowTo; r++) {
            int base = (int) (r * len);
            float m = SoftmaxF32.finishMax(rowMax(x, xo + base, n), xs, base, len);
            if (!Float.isFinite(m)) {
                special.write(base, m);
                continue;
            }
            sums(log, x, xo + base, dy, dyo + base, row, 0, n, m, out);
            double inv = 1.0 / out[0];
            float fInv = (float) inv;
            float k = (float) (log ? out[1] : out[1] * inv);
            if (log) {
                logSoftmaxFromRow(dy, dyo + base, dx, dxo + base, row, n, fInv, k);
            } else {
                softmaxFromRow(dy, dyo + base, dx, dxo + base, row, n, fInv, k);
            }
        }
    }

    /** {@link SoftmaxF32#rowMax} without its NaN check: the raw maximum by compare and masked move. */
    private static float rowMax(float[] x, int at, int len) {
        FloatVector a0 = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (int stop = len / (4 * L) * (4 * L); i < stop; i += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(Lanes.F, x, at + i);
            FloatVector v1 = FloatVector.fromArray(Lanes.F, x, at + i + L);
            FloatVector v2 = FloatVector.fromArray(Lanes.F, x, at + i + 2 * L);
            FloatVector v3 = FloatVector.fromArray(Lanes.F, x, at + i + 3 * L);
            a0 = a0.blend(v0, v0.compare(GT, a0));
            a1 = a1.blend(v1, v1.compare(GT, a1));
            a2 = a2.blend(v2, v2.compare(GT, a2));
            a3 = a3.blend(v3, v3.compare(GT, a3));
        }
        for (int stop = Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector v = FloatVector.fromArray(Lanes.F, x, at + i);
            a0 = a0.blend(v, v.compare(GT, a0));
        }
        if (i < len) {
            VectorMask<Float> m = Lanes.F.indexInRange(i, len);
            FloatVector v = FloatVector.fromArray(Lanes.F, x, at + i, m);
            a0 = a0.blend(v, v.compare(GT, a0).and(m));
        }
        a0 = a0.blend(a1, a1.compare(GT, a0));
        a2 = a2.blend(a3, a3.compare(GT, a2));
        return a0.blend(a2, a2.compare(GT, a0)).reduceLanes(MAX);
    }

    /** As SoftmaxF32's sums with a whole scratch row: Z into out[0], sum dy (log) or sum dy e into out[1]. */
    private static void sums(boolean log, float[] x, int xAt, float[] dy, int dyAt, float[] row, int off, int len,
                             float m, double[] out) {
        if (len > SoftmaxF32.BLOCK) {
            int half = (len / 2 + L - 1) / L * L;
            sums(log, x, xAt, dy, dyAt, row, off, half, m, out);
            double z = out[0];
            double t = out[1];
            sums(log, x, xAt + half, dy, dyAt + half, row, off + half, len - half, m, out);
            out[0] = z + out[0];
            out[1] = t + out[1];
            return;
        }
        expInto(x, xAt, len, m, row, off);
        out[0] = SoftmaxF32.sum(row, off, len);
        out[1] = log ? SoftmaxF32.sum(dy, dyAt, len) : sumProduct(row, off, dy, dyAt, len);
    }

    /** e^(x - m) for x[at, at + len) into a[off, off + len). */
    private static void expInto(float[] x, int at, int len, float m, float[] a, int off) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            SoftmaxF32.expShifted(FloatVector.fromArray(Lanes.F, x, at + j), m).intoArray(a, off + j);
        }
        if (j < len) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, len);
            SoftmaxF32.expShifted(FloatVector.fromArray(Lanes.F, x, at + j, k), m).intoArray(a, off + j, k);
        }
    }

    /** Sum of a[off + k] * dy[at + k] for k < len, each float product widened and summed in double. */
    private static double sumProduct(float[] arr, int off, float[] dy, int at, int len) {
        DoubleVector a = DoubleVector.zero(Lanes.D);
        DoubleVector b = DoubleVector.zero(Lanes.D);
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            FloatVector v = FloatVector.fromArray(Lanes.F, arr, off + j).mul(FloatVector.fromArray(Lanes.F, dy, at + j));
            a = a.add(SoftmaxF32.lo(v));
            b = b.add(SoftmaxF32.hi(v));
        }
        if (j < len) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, len);
            FloatVector v = FloatVector.fromArray(Lanes.F, arr, off + j, k).mul(FloatVector.fromArray(Lanes.F, dy, at + j, k));
            a = a.add(SoftmaxF32.lo(v));
            b = b.add(SoftmaxF32.hi(v));
        }
        return Lanes.sum(a.add(b));
    }

    /** softmax: dx = p (dy - k), p = e * inv from the scratch row. */
    private static void softmaxFromRow(float[] dy, int dyAt, float[] dx, int dxAt, float[] row, int len, float inv, float k) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            FloatVector p = FloatVector.fromArray(Lanes.F, row, j).mul(inv);
            FloatVector.fromArray(Lanes.F, dy, dyAt + j).sub(k).mul(p).intoArray(dx, dxAt + j);
        }
        if (j < len) {
            VectorMask<Float> msk = Lanes.F.indexInRange(j, len);
            FloatVector p = FloatVector.fromArray(Lanes.F, row, j, msk).mul(inv);
            FloatVector.fromArray(Lanes.F, dy, dyAt + j, msk).sub(k).mul(p).intoArray(dx, dxAt + j, msk);
        }
    }

    /** log_softmax: dx = dy - p k, p = e * inv from the scratch row. */
    private static void logSoftmaxFromRow(float[] dy, int dyAt, float[] dx, int dxAt, float[] row, int len, float inv, float k) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            FloatVector p = FloatVector.fromArray(Lanes.F, row, j).mul(inv);
            FloatVector.fromArray(Lanes.F, dy, dyAt + j).sub(p.mul(k)).intoArray(dx, dxAt + j);
        }
        if (j < len) {
            VectorMask<Float> msk = Lanes.F.indexInRange(j, len);
            FloatVector p = FloatVector.fromArray(Lanes.F, row, j, msk).mul(inv);
            FloatVector.fromArray(Lanes.F, dy, dyAt + j, msk).sub(p.mul(k)).intoArray(dx, dxAt + j, msk);
        }
    }
}
