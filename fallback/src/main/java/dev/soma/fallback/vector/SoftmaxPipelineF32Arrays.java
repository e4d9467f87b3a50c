package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * {@link SoftmaxPipelineF32} over Java arrays: the same loops with {@code fromArray} and
 * {@code intoArray} (which C2 compiles to vector instructions, where Vector API access to a heap
 * segment takes the per-lane fallback; see {@link Staging}). Staged through native scratch instead,
 * heap softmax took 23.6 ms against 15.4 off-heap at 2^26 (rows of 1024, both cores): copy-in,
 * compute and copy-out ran one after another in each thread. The bits are those of the segment
 * pipeline. x and y are arrays with the offsets xo and yo of element 0; xs is x as a segment, for
 * the first row's maximum and the NaN check of rows without a value above -inf (once per call or
 * per such row; those take the segment code).
 */
final class SoftmaxPipelineF32Arrays {
    private static final int L = Lanes.F.length();

    private SoftmaxPipelineF32Arrays() {
    }

    /** Rows [rowFrom, rowTo) of length len (at most {@link SoftmaxF32#SCRATCH_MAX}). */
    static void forward(boolean log, float[] x, int xo, float[] y, int yo, MemorySegment xs, long len,
                        long rowFrom, long rowTo,
                        SoftmaxPipelineF32.SpecialRow special) {
        if (log) {
            logSoftmax(x, xo, y, yo, xs, len, rowFrom, rowTo, special);
        } else {
            softmax(x, xo, y, yo, xs, len, rowFrom, rowTo, special);
        }
    }

    // One driver and one loop per op, as in SoftmaxPipelineF32 (and for the same reason).

    private static void softmax(float[] x, int xo, float[] y, int yo, MemorySegment xs, long len, long rowFrom, long rowTo,
                                SoftmaxPipelineF32.SpecialRow special) {
        int n = (int) len;
        float[] cur = new float[n];
        float[] prev = new float[n];
        long pending = -1; // the row whose exponentials wait in prev, scaled by pendingInv = 1 / Z
        float pendingInv = 0f;
        float max = SoftmaxF32.rowMax(xs, rowFrom * len, len);
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            long next = r + 1 < rowTo ? base + len : base;
            if (!Float.isFinite(max)) {
                if (pending >= 0) {
                    writeSoftmaxRow(prev, y, yo, pending, n, pendingInv);
                    pending = -1;
                }
                special.write(base, max);
                max = next != base ? SoftmaxF32.rowMax(xs, next, len) : 0f;
                continue;
            }
            float nextMax = softmaxStep(x, xo, base, n, max, cur, next, pending >= 0, prev, y, yo, pending, pendingInv);
            pending = base;
            pendingInv = (float) (1.0 / SoftmaxF32.sumPairwise(cur, 0, n));
            float[] t = prev;
            prev = cur;
            cur = t;
            max = next != base ? SoftmaxF32.finishMax(nextMax, xs, next, len) : 0f;
        }
        if (pending >= 0) {
            writeSoftmaxRow(prev, y, yo, pending, n, pendingInv);
        }
    }

    private static void logSoftmax(float[] x, int xo, float[] y, int yo, MemorySegment xs, long len, long rowFrom, long rowTo,
                                   SoftmaxPipelineF32.SpecialRow special) {
        int n = (int) len;
        float[] cur = new float[n];
        float[] rowNow = new float[n];
        float[] rowPending = new float[n];
        long pending = -1; // the row to write as (x - pendingMax) - pendingLogZ
        float pendingMax = 0f;
        float pendingLogZ = 0f;
        float max = SoftmaxF32.rowMax(xs, rowFrom * len, len);
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            long next = r + 1 < rowTo ? base + len : base;
            if (!Float.isFinite(max)) {
                if (pending >= 0) {
                    writeLogSoftmaxRow(x, xo, y, yo, pending, n, pendingMax, pendingLogZ);
                    pending = -1;
                }
                special.write(base, max);
                max = next != base ? SoftmaxF32.rowMax(xs, next, len) : 0f;
                continue;
            }
            float nextMax = logSoftmaxStep(x, xo, base, n, max, cur, next, pending >= 0, y, yo, pending, pendingMax,
                    pendingLogZ, rowNow, rowPending);
            float[] t = rowPending;
            rowPending = rowNow;
            rowNow = t;
            pending = base;
            pendingMax = max;
            pendingLogZ = (float) Math.log(SoftmaxF32.sumPairwise(cur, 0, n));
            max = next != base ? SoftmaxF32.finishMax(nextMax, xs, next, len) : 0f;
        }
        if (pending >= 0) {
            writeLogSoftmaxRow(x, xo, y, yo, pending, n, pendingMax, pendingLogZ);
        }
    }

    /**
     * Softmax, over j < n: cur[j] = e^(x[base + j] - m) and the raw maximum of x[next + j] (returned;
     * -inf for a row of -inf and NaN); when {@code write}, also y[out + j] = prev[j] * inv.
     */
    private static float softmaxStep(float[] x, int xo, long base, int n, float m, float[] cur, long next,
                                     boolean write, float[] prev, float[] y, int yo, long out, float inv) {
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            acc = SoftmaxPipelineF32.maxInto(acc, FloatVector.fromArray(Lanes.F, x, xo + (int) (next + j)));
            SoftmaxF32.expShifted(FloatVector.fromArray(Lanes.F, x, xo + (int) (base + j)), m).intoArray(cur, j);
            if (write) {
                FloatVector.fromArray(Lanes.F, prev, j).mul(inv).intoArray(y, yo + (int) (out + j));
            }
        }
        if (j < n) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, n);
            acc = SoftmaxPipelineF32.maxInto(acc, FloatVector.fromArray(Lanes.F, x, xo + (int) (next + j), k), k);
            SoftmaxF32.expShifted(FloatVector.fromArray(Lanes.F, x, xo + (int) (base + j), k), m).intoArray(cur, j, k);
            if (write) {
                FloatVector.fromArray(Lanes.F, prev, j, k).mul(inv).intoArray(y, yo + (int) (out + j), k);
            }
        }
        return acc.reduceLanes(MAX);
    }

    /**
     * Log-softmax, as {@link #softmaxStep}; the write is y[out + j] = (x[out + j] - pm) - logZ, with
     * x[out + j] taken from rowPending, the copy of row out that the previous step kept (this step
     * keeps row base in rowNow). Reading row out from x again, as this loop first did, made
     * log-softmax 45 % slower than softmax at full size (15.3 against 10.6 ms at 2^25 on one core):
     * the loads of x behind this loop's stores to y, 4 KiB rows apart, seem to alias in the core's
     * load-store ordering checks. Bits unchanged.
     */
    private static float logSoftmaxStep(float[] x, int xo, long base, int n, float m, float[] cur, long next,
                                        boolean write, float[] y, int yo, long out, float pm, float logZ,
                                        float[] rowNow, float[] rowPending) {
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            acc = SoftmaxPipelineF32.maxInto(acc, FloatVector.fromArray(Lanes.F, x, xo + (int) (next + j)));
            FloatVector v = FloatVector.fromArray(Lanes.F, x, xo + (int) (base + j));
            v.intoArray(rowNow, j);
            SoftmaxF32.expShifted(v, m).intoArray(cur, j);
            if (write) {
                FloatVector.fromArray(Lanes.F, rowPending, j).sub(pm).sub(logZ).intoArray(y, yo + (int) (out + j));
            }
        }
        if (j < n) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, n);
            acc = SoftmaxPipelineF32.maxInto(acc, FloatVector.fromArray(Lanes.F, x, xo + (int) (next + j), k), k);
            FloatVector v = FloatVector.fromArray(Lanes.F, x, xo + (int) (base + j), k);
            v.intoArray(rowNow, j, k);
            SoftmaxF32.expShifted(v, m).intoArray(cur, j, k);
            if (write) {
                FloatVector.fromArray(Lanes.F, rowPending, j, k).sub(pm).sub(logZ).intoArray(y, yo + (int) (out + j), k);
            }
        }
        return acc.reduceLanes(MAX);
    }

    /** Softmax output of row {@code base} from its exponentials e: e * inv. */
    private static void writeSoftmaxRow(float[] e, float[] y, int yo, long base, int n, float inv) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            FloatVector.fromArray(Lanes.F, e, j).mul(inv).intoArray(y, yo + (int) (base + j));
        }
        if (j < n) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, n);
            FloatVector.fromArray(Lanes.F, e, j, k).mul(inv).intoArray(y, yo + (int) (base + j), k);
        }
    }

    /** Log-softmax output of row {@code base}: (x - m) - logZ. */
    private static void writeLogSoftmaxRow(float[] x, int xo, float[] y, int yo, long base, int n, float m, float logZ) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            FloatVector.fromArray(Lanes.F, x, xo + (int) (base + j)).sub(m).sub(logZ).intoArray(y, yo + (int) (base + j));
        }
        if (j < n) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, n);
            FloatVector.fromArray(Lanes.F, x, xo + (int) (base + j), k).sub(m).sub(logZ).intoArray(y, yo + (int) (base + j), k);
        }
    }
}
