package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * float32 softmax and log-softmax over contiguous rows that fit a scratch row, software-pipelined
 * across rows: one loop computes row r's exponentials (from L1, into a scratch row) while it reads
 * row r + 1 for its maximum and writes row r - 1's output (softmax: from the other scratch row;
 * log-softmax: x - m - log Z from x, still in L1).
 *
 * <p>Why: done row by row ({@link SoftmaxF32#softmaxRow}), a row's memory traffic comes in bursts
 * around its compute (a pure read stream for the maximum, then a burst of stores whose lines must
 * first be read), so memory sits idle while the exponentials run and the cores sit idle while the
 * maximum pass waits for memory. Spreading both streams over the exponential loop overlaps them:
 * softmax over rows of 1024 went from 19.0 to 15.7 ms at 2^26 elements on two cores.
 *
 * <p>Results are bit for bit those of {@link SoftmaxF32#softmaxRow} and
 * {@link SoftmaxF32#logSoftmaxRow}: the same exponentials, summed in the same pairwise order, then
 * the same float reciprocal or logarithm; the maximum is taken over the same elements (by compare
 * and masked move, so NaN never wins, as in {@link SoftmaxF32#rowMax}).
 * y may be x: row r - 1 is written only after all of it was read, and rows r and r + 1 are only read.
 * {@link SoftmaxPipelineF32Arrays}, the same over Java arrays, is generated from this file
 * ({@code fallback/tools/gen_softmax_pipeline_arrays.py}): rerun it after editing.
 */
final class SoftmaxPipelineF32 {
    private static final int L = Lanes.F.length();

    private SoftmaxPipelineF32() {
    }

    /** Receives a row whose maximum is not finite (all -inf, +inf, or NaN without anything larger). */
    @FunctionalInterface
    interface SpecialRow {
        void write(long base, float max);
    }

    /** Rows [rowFrom, rowTo) of length len (at most {@link SoftmaxF32#SCRATCH_MAX}). */
    static void forward(boolean log, MemorySegment x, MemorySegment y, long len, long rowFrom, long rowTo,
                        SpecialRow special) {
        if (log) {
            logSoftmax(x, y, len, rowFrom, rowTo, special);
        } else {
            softmax(x, y, len, rowFrom, rowTo, special);
        }
    }

    // One driver and one loop per op, not one with a flag: the JIT profiles each method once, so a
    // flag seen only one way compiles the other branch as a trap, and the method recompiled with
    // both inlined grew past C2's inlining budget (log-softmax then boxed its vectors, 2x slower).
    // In each driver: without a next row the loop reads the current row again (from L1) and
    // ignores the maximum; without a pending row it writes nothing (both invariant in the loop).

    private static void softmax(MemorySegment x, MemorySegment y, long len, long rowFrom, long rowTo,
                                SpecialRow special) {
        int n = (int) len;
        float[] cur = new float[n];
        float[] prev = new float[n];
        long pending = -1; // the row whose exponentials wait in prev, scaled by pendingInv = 1 / Z
        float pendingInv = 0f;
        float max = SoftmaxF32.rowMax(x, rowFrom * len, len);
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            long next = r + 1 < rowTo ? base + len : base;
            if (!Float.isFinite(max)) {
                if (pending >= 0) {
                    writeSoftmaxRow(prev, y, pending, n, pendingInv);
                    pending = -1;
                }
                special.write(base, max);
                max = next != base ? SoftmaxF32.rowMax(x, next, len) : 0f;
                continue;
            }
            float nextMax = softmaxStep(x, base, n, max, cur, next, pending >= 0, prev, y, pending, pendingInv);
            pending = base;
            pendingInv = (float) (1.0 / SoftmaxF32.sumPairwise(cur, 0, n));
            float[] t = prev;
            prev = cur;
            cur = t;
            max = next != base ? SoftmaxF32.finishMax(nextMax, x, next, len) : 0f;
        }
        if (pending >= 0) {
            writeSoftmaxRow(prev, y, pending, n, pendingInv);
        }
    }

    private static void logSoftmax(MemorySegment x, MemorySegment y, long len, long rowFrom, long rowTo,
                                   SpecialRow special) {
        int n = (int) len;
        float[] cur = new float[n];
        float[] rowNow = new float[n];
        float[] rowPending = new float[n];
        long pending = -1; // the row to write as (x - pendingMax) - pendingLogZ
        float pendingMax = 0f;
        float pendingLogZ = 0f;
        float max = SoftmaxF32.rowMax(x, rowFrom * len, len);
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            long next = r + 1 < rowTo ? base + len : base;
            if (!Float.isFinite(max)) {
                if (pending >= 0) {
                    writeLogSoftmaxRow(x, y, pending, n, pendingMax, pendingLogZ);
                    pending = -1;
                }
                special.write(base, max);
                max = next != base ? SoftmaxF32.rowMax(x, next, len) : 0f;
                continue;
            }
            float nextMax = logSoftmaxStep(x, base, n, max, cur, next, pending >= 0, y, pending, pendingMax,
                    pendingLogZ, rowNow, rowPending);
            float[] t = rowPending;
            rowPending = rowNow;
            rowNow = t;
            pending = base;
            pendingMax = max;
            pendingLogZ = (float) Math.log(SoftmaxF32.sumPairwise(cur, 0, n));
            max = next != base ? SoftmaxF32.finishMax(nextMax, x, next, len) : 0f;
        }
        if (pending >= 0) {
            writeLogSoftmaxRow(x, y, pending, n, pendingMax, pendingLogZ);
        }
    }

    // The running maximum is a compare and masked move written out (NaN never replaces it), not a
    // helper call: in a process that had run many kernels, C2 passed its node cutoff in the step
    // loops and left such a call out of line, boxing every vector (heap log_softmax forward
    // allocated 7-16 bytes per element).
    // The same cutoff is why the steps store to y with the Vector API call written out, not through
    // the helper in Lanes: C2 stops inlining our own methods once a compilation has parsed about 18000
    // nodes (the JDK's @ForceInline methods it inlines later instead), and the exponential alone is
    // some 10000. Called after it, that helper stayed out of line and boxed every vector (native
    // softmax and log_softmax forward allocated 26 bytes per element in a process that had run
    // the other kernels; NoBoxingAfterEveryKernelTest). Each loop's masked tail is a method of its
    // own: parsed into the step, the tail's mask construction took 11000 more nodes.

    /**
     * Softmax, over j < n: cur[j] = e^(x[base + j] - m) and the raw maximum of x[next + j] (returned;
     * -inf for a row of -inf and NaN); when {@code write}, also y[out + j] = prev[j] * inv.
     */
    private static float softmaxStep(MemorySegment x, long base, int n, float m, float[] cur, long next,
                                     boolean write, float[] prev, MemorySegment y, long out, float inv) {
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            FloatVector nv = Lanes.loadFloats(x, next + j);
            acc = acc.blend(nv, nv.compare(GT, acc));
            SoftmaxF32.expShifted(Lanes.loadFloats(x, base + j), m).intoArray(cur, j);
            if (write) {
                FloatVector.fromArray(Lanes.F, prev, j).mul(inv).reinterpretShape(Lanes.B, 0).intoMemorySegment(y, (out + j) * Float.BYTES, Lanes.NO);
            }
        }
        float max = acc.reduceLanes(MAX);
        if (j < n) {
            float tail = softmaxStepTail(x, base, j, n, m, cur, next, write, prev, y, out, inv);
            max = tail > max ? tail : max;
        }
        return max;
    }

    /** {@link #softmaxStep} for the last j < n (fewer than a vector); returns their maximum. */
    private static float softmaxStepTail(MemorySegment x, long base, int j, int n, float m, float[] cur, long next,
                                         boolean write, float[] prev, MemorySegment y, long out, float inv) {
        VectorMask<Float> k = Lanes.F.indexInRange(j, n);
        FloatVector nv = Lanes.loadFloats(x, next + j, k);
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        acc = acc.blend(nv, nv.compare(GT, acc).and(k));
        SoftmaxF32.expShifted(Lanes.loadFloats(x, base + j, k), m).intoArray(cur, j, k);
        if (write) {
            FloatVector.fromArray(Lanes.F, prev, j, k).mul(inv).intoMemorySegment(y, (out + j) * Float.BYTES, Lanes.NO, k);
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
    private static float logSoftmaxStep(MemorySegment x, long base, int n, float m, float[] cur, long next,
                                        boolean write, MemorySegment y, long out, float pm, float logZ,
                                        float[] rowNow, float[] rowPending) {
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            FloatVector nv = Lanes.loadFloats(x, next + j);
            acc = acc.blend(nv, nv.compare(GT, acc));
            FloatVector v = Lanes.loadFloats(x, base + j);
            v.intoArray(rowNow, j);
            SoftmaxF32.expShifted(v, m).intoArray(cur, j);
            if (write) {
                FloatVector.fromArray(Lanes.F, rowPending, j).sub(pm).sub(logZ).reinterpretShape(Lanes.B, 0).intoMemorySegment(y, (out + j) * Float.BYTES, Lanes.NO);
            }
        }
        float max = acc.reduceLanes(MAX);
        if (j < n) {
            float tail = logSoftmaxStepTail(x, base, j, n, m, cur, next, write, y, out, pm, logZ, rowNow, rowPending);
            max = tail > max ? tail : max;
        }
        return max;
    }

    /** {@link #logSoftmaxStep} for the last j < n (fewer than a vector); returns their maximum. */
    private static float logSoftmaxStepTail(MemorySegment x, long base, int j, int n, float m, float[] cur, long next,
                                            boolean write, MemorySegment y, long out, float pm, float logZ,
                                            float[] rowNow, float[] rowPending) {
        VectorMask<Float> k = Lanes.F.indexInRange(j, n);
        FloatVector nv = Lanes.loadFloats(x, next + j, k);
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        acc = acc.blend(nv, nv.compare(GT, acc).and(k));
        FloatVector v = Lanes.loadFloats(x, base + j, k);
        v.intoArray(rowNow, j, k);
        SoftmaxF32.expShifted(v, m).intoArray(cur, j, k);
        if (write) {
            FloatVector.fromArray(Lanes.F, rowPending, j, k).sub(pm).sub(logZ).intoMemorySegment(y, (out + j) * Float.BYTES, Lanes.NO, k);
        }
        return acc.reduceLanes(MAX);
    }

    /** Softmax output of row {@code base} from its exponentials e: e * inv. */
    private static void writeSoftmaxRow(float[] e, MemorySegment y, long base, int n, float inv) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            Lanes.store(y, base + j, FloatVector.fromArray(Lanes.F, e, j).mul(inv));
        }
        if (j < n) {
            writeSoftmaxRowTail(e, y, base, j, n, inv);
        }
    }

    private static void writeSoftmaxRowTail(float[] e, MemorySegment y, long base, int j, int n, float inv) {
        VectorMask<Float> k = Lanes.F.indexInRange(j, n);
        Lanes.store(y, base + j, FloatVector.fromArray(Lanes.F, e, j, k).mul(inv), k);
    }

    /** Log-softmax output of row {@code base}: (x - m) - logZ. */
    private static void writeLogSoftmaxRow(MemorySegment x, MemorySegment y, long base, int n, float m, float logZ) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(n); j < stop; j += L) {
            Lanes.store(y, base + j, Lanes.loadFloats(x, base + j).sub(m).sub(logZ));
        }
        if (j < n) {
            writeLogSoftmaxRowTail(x, y, base, j, n, m, logZ);
        }
    }

    private static void writeLogSoftmaxRowTail(MemorySegment x, MemorySegment y, long base, int j, int n, float m,
                                               float logZ) {
        VectorMask<Float> k = Lanes.F.indexInRange(j, n);
        Lanes.store(y, base + j, Lanes.loadFloats(x, base + j, k).sub(m).sub(logZ), k);
    }
}
