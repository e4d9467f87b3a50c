package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;

/**
 * Softmax and log-softmax, forward and backward. float32 contiguous rows run on float lanes
 * ({@link SoftmaxF32}); float64, and float32 strided rows, run in double lanes (float32 data is
 * widened on load and narrowed once on store). Two layouts:
 * <ul>
 *   <li>contiguous rows ({@code inner == 1}): vector max, then sums that are lane-parallel inside
 *       blocks of {@link #BLOCK} elements and pairwise across blocks;</li>
 *   <li>strided rows ({@code inner > 1}): the lanes run across the inner dimension, so each lane
 *       carries its own row; sums along the row are again blockwise then pairwise.</li>
 * </ul>
 * A row with NaN or +inf, or all -inf, is NaN; in safe mode an all -inf row gives softmax 0,
 * log_softmax -inf and zero gradients (semantics.md, as the scalar reference).
 */
final class Softmax {
    /** Elements summed serially per lane before the pairwise tree takes over. */
    static final int BLOCK = 512;
    private static final int L = Lanes.D.length();

    private Softmax() {
    }

    private static void fill(boolean f32, MemorySegment s, long base, long len, double value) {
        for (long k = 0; k < len; k++) {
            if (f32) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + k, (float) value);
            } else {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, base + k, value);
            }
        }
    }

    // ---- contiguous rows -----------------------------------------------------------------------

    private static double rowMax(MemorySegment x, long base, long len) {
        DoubleVector acc = DoubleVector.broadcast(Lanes.D, Double.NEGATIVE_INFINITY);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            acc = acc.max(Lanes.loadDoubles(x, i));
        }
        if (i < end) {
            VectorMask<Double> m = Lanes.D.indexInRange(i, end);
            acc = acc.lanewise(MAX, Lanes.loadDoubles(x, i, m), m);
        }
        return acc.reduceLanes(MAX);
    }

    /** What a pairwise sum adds up, per element, given e = exp(x - max). */
    private enum Term { EXP, DY_TIMES_EXP, DY }

    /**
     * Pairwise sum over [base, base + len) of the chosen term: halves until a block fits
     * {@link #BLOCK}, sums a block lane-parallel. With {@code store}, also writes e to {@code y}.
     */
    private static double pairwiseSum(Term term, MemorySegment x, MemorySegment dy,
                                      MemorySegment y, long base, long len, double max) {
        if (len > BLOCK) {
            long half = (len / 2 + L - 1) / L * L;
            return pairwiseSum(term, x, dy, y, base, half, max)
                    + pairwiseSum(term, x, dy, y, base + half, len - half, max);
        }
        return switch (term) {
            case EXP -> y == null ? sumExp(x, base, len, max) : sumExpStore(x, y, base, len, max);
            case DY_TIMES_EXP -> sumDyExp(x, dy, base, len, max);
            case DY -> sumDy(dy, base, len);
        };
    }

    // One small loop per term, each with its own accumulator: simple enough for C2 to keep every
    // vector in registers (a shared loop that branches on the term boxed them).

    // These rows are float64 data (float32 rows take SoftmaxF32), read and written with the double
    // helpers and the double exponential directly: through Lanes.load(f32, ...) and a lite flag, C2
    // took both branches from profiles shared with the float32 loops, parsed both, passed its node
    // cutoff before Lanes.sum and boxed the accumulator in every iteration (float64 softmax
    // backward allocated 12-72 bytes per element in a process that had run many kernels). The
    // masked last vector of each is a method of its own, returning its partial sum.

    private static double sumExp(MemorySegment x, long base, long len, double max) {
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            acc = acc.add(DMath.expBounded(Lanes.loadDoubles(x, i).sub(max), false));
        }
        double s = Lanes.sum(acc);
        return i < end ? s + sumExpTail(x, i, end, max) : s;
    }

    private static double sumExpTail(MemorySegment x, long i, long end, double max) {
        VectorMask<Double> m = Lanes.D.indexInRange(i, end);
        DoubleVector e = DMath.expBounded(Lanes.loadDoubles(x, i, m).sub(max), false);
        return Lanes.sum(DoubleVector.zero(Lanes.D).lanewise(ADD, e, m));
    }

    private static double sumExpStore(MemorySegment x, MemorySegment y, long base, long len,
                                      double max) {
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            DoubleVector e = DMath.expBounded(Lanes.loadDoubles(x, i).sub(max), false);
            Lanes.store(y, i, e);
            acc = acc.add(e);
        }
        double s = Lanes.sum(acc);
        return i < end ? s + sumExpStoreTail(x, y, i, end, max) : s;
    }

    private static double sumExpStoreTail(MemorySegment x, MemorySegment y, long i, long end,
                                          double max) {
        VectorMask<Double> m = Lanes.D.indexInRange(i, end);
        DoubleVector e = DMath.expBounded(Lanes.loadDoubles(x, i, m).sub(max), false);
        Lanes.store(y, i, e, m);
        return Lanes.sum(DoubleVector.zero(Lanes.D).lanewise(ADD, e, m));
    }

    private static double sumDyExp(MemorySegment x, MemorySegment dy, long base, long len,
                                   double max) {
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            acc = DMath.expBounded(Lanes.loadDoubles(x, i).sub(max), false).fma(Lanes.loadDoubles(dy, i), acc);
        }
        double s = Lanes.sum(acc);
        return i < end ? s + sumDyExpTail(x, dy, i, end, max) : s;
    }

    private static double sumDyExpTail(MemorySegment x, MemorySegment dy, long i, long end,
                                       double max) {
        VectorMask<Double> m = Lanes.D.indexInRange(i, end);
        DoubleVector t = DMath.expBounded(Lanes.loadDoubles(x, i, m).sub(max), false).mul(Lanes.loadDoubles(dy, i, m));
        return Lanes.sum(DoubleVector.zero(Lanes.D).lanewise(ADD, t, m));
    }

    private static double sumDy(MemorySegment dy, long base, long len) {
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            acc = acc.add(Lanes.loadDoubles(dy, i));
        }
        if (i < end) {
            VectorMask<Double> m = Lanes.D.indexInRange(i, end);
            acc = acc.lanewise(ADD, Lanes.loadDoubles(dy, i, m), m);
        }
        return Lanes.sum(acc);
    }

    /** Rows [rowFrom, rowTo) of a (rows, len) tensor, contiguous rows. */
    static void forwardRows(boolean f32, boolean log, boolean safe, MemorySegment x, MemorySegment y,
                            long len, long rowFrom, long rowTo) {
        if (f32) {
            forwardRowsF32(log, safe, x, y, len, rowFrom, rowTo);
            return;
        }
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            double max = rowMax(x, base, len);
            if (!Double.isFinite(max)) {
                // Safe mode, all -inf: softmax 0, log_softmax -inf (the log of those zeros).
                double masked = log ? Double.NEGATIVE_INFINITY : 0.0;
                fill(f32, y, base, len, safe && max == Double.NEGATIVE_INFINITY ? masked : Double.NaN);
                continue;
            }
            long end = base + len;
            if (log) {
                double shift = Math.log(pairwiseSum(Term.EXP, x, null, null, base, len, max));
                long i = base;
                for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
                    Lanes.store(y, i, Lanes.loadDoubles(x, i).sub(max).sub(shift));
                }
                if (i < end) {
                    VectorMask<Double> m = Lanes.D.indexInRange(i, end);
                    Lanes.store(y, i, Lanes.loadDoubles(x, i, m).sub(max).sub(shift), m);
                }
            } else {
                // The exponentials go to y on the way; one more pass scales them.
                double inv = 1.0 / pairwiseSum(Term.EXP, x, null, y, base, len, max);
                long i = base;
                for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
                    Lanes.store(y, i, Lanes.loadDoubles(y, i).mul(inv));
                }
                if (i < end) {
                    VectorMask<Double> m = Lanes.D.indexInRange(i, end);
                    Lanes.store(y, i, Lanes.loadDoubles(y, i, m).mul(inv), m);
                }
            }
        }
    }

    /**
     * softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - softmax(x) sum(dy), with y recomputed
     * from x. Each element is read before its dx is written, so dx may alias x or dy.
     */
    static void backwardRows(boolean f32, boolean log, boolean safe, MemorySegment x, MemorySegment dy,
                             MemorySegment dx, long len, long rowFrom, long rowTo) {
        if (f32) {
            backwardRowsF32(log, safe, x, dy, dx, len, rowFrom, rowTo);
            return;
        }
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            double max = rowMax(x, base, len);
            if (!Double.isFinite(max)) {
                fill(f32, dx, base, len, safe && max == Double.NEGATIVE_INFINITY ? 0.0 : Double.NaN);
                continue;
            }
            double inv = 1.0 / pairwiseSum(Term.EXP, x, null, null, base, len, max);
            double k = log ? pairwiseSum(Term.DY, x, dy, null, base, len, max)
                    : pairwiseSum(Term.DY_TIMES_EXP, x, dy, null, base, len, max) * inv;
            backwardRowOutput(log, x, dy, dx, base, len, max, inv, k);
        }
    }

    /**
     * dx of one float64 row from its max, 1 / sum and k (see {@link #backwardRows}). Its own method,
     * the tail apart, and {@link DMath#expBounded} (x - max is at most 0, or NaN): inlined into the
     * row loop, or with the full-range exp (two scale factors, constants broadcast at the use site),
     * this loop passed C2's node cutoff, Lanes.store was called out of line and every vector was
     * boxed (float64 softmax backward 3-11 ns per element in cache, up to 100 bytes allocated per
     * element; now 2.0 and none). One method per op, not a flag: with the flag, C2 hoisted the
     * op's branch out of the loop as a profile predicate, and in a process that used both ops the
     * method was deoptimised and recompiled some 190 times (running in the interpreter meanwhile,
     * 120 bytes allocated per element; NoBoxingAfterEveryKernelTest).
     */
    private static void backwardRowOutput(boolean log, MemorySegment x, MemorySegment dy,
                                          MemorySegment dx, long base, long len, double max, double inv, double k) {
        if (log) {
            logSoftmaxBackwardRowOutput(x, dy, dx, base, len, max, inv, k);
        } else {
            softmaxBackwardRowOutput(x, dy, dx, base, len, max, inv, k);
        }
    }

    private static void softmaxBackwardRowOutput(MemorySegment x, MemorySegment dy, MemorySegment dx, long base,
                                                 long len, double max, double inv, double k) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            DoubleVector p = DMath.expBounded(Lanes.loadDoubles(x, i).sub(max), false).mul(inv);
            DoubleVector g = Lanes.loadDoubles(dy, i);
            Lanes.store(dx, i, g.sub(k).mul(p));
        }
        if (i < end) {
            softmaxBackwardRowTail(x, dy, dx, i, end, max, inv, k);
        }
    }

    private static void logSoftmaxBackwardRowOutput(MemorySegment x, MemorySegment dy, MemorySegment dx, long base,
                                                    long len, double max, double inv, double k) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.D.loopBound(len); i < stop; i += L) {
            DoubleVector p = DMath.expBounded(Lanes.loadDoubles(x, i).sub(max), false).mul(inv);
            DoubleVector g = Lanes.loadDoubles(dy, i);
            Lanes.store(dx, i, p.mul(-k).add(g));
        }
        if (i < end) {
            logSoftmaxBackwardRowTail(x, dy, dx, i, end, max, inv, k);
        }
    }

    /** The last, partial vector of a row: apart, so that the loop's compilation parses the math once. */
    private static void softmaxBackwardRowTail(MemorySegment x, MemorySegment dy, MemorySegment dx, long i, long end,
                                               double max, double inv, double k) {
        VectorMask<Double> m = Lanes.D.indexInRange(i, end);
        DoubleVector p = DMath.expBounded(Lanes.loadDoubles(x, i, m).sub(max), false).mul(inv);
        DoubleVector g = Lanes.loadDoubles(dy, i, m);
        Lanes.store(dx, i, g.sub(k).mul(p), m);
    }

    private static void logSoftmaxBackwardRowTail(MemorySegment x, MemorySegment dy, MemorySegment dx, long i,
                                                  long end, double max, double inv, double k) {
        VectorMask<Double> m = Lanes.D.indexInRange(i, end);
        DoubleVector p = DMath.expBounded(Lanes.loadDoubles(x, i, m).sub(max), false).mul(inv);
        DoubleVector g = Lanes.loadDoubles(dy, i, m);
        Lanes.store(dx, i, p.mul(-k).add(g), m);
    }

    /**
     * float32 contiguous rows of at most {@link SoftmaxF32#SCRATCH_MAX} over Java arrays
     * ({@link SoftmaxPipelineF32Arrays}): x and y are the segments, xa and ya their arrays.
     */
    static void forwardRowsF32Arrays(boolean log, boolean safe, MemorySegment x, float[] xa, MemorySegment y,
                                     float[] ya, long len, long rowFrom, long rowTo) {
        double masked = log ? Double.NEGATIVE_INFINITY : 0.0;
        SoftmaxPipelineF32Arrays.forward(log, xa, HeapArrays.index(x, Float.BYTES), ya, HeapArrays.index(y, Float.BYTES),
                x, len, rowFrom, rowTo, (base, max) ->
                        fill(true, y, base, len, safe && max == Float.NEGATIVE_INFINITY ? masked : Double.NaN));
    }

    /** Backward of float32 contiguous rows of at most {@link SoftmaxF32#SCRATCH_MAX} over Java arrays ({@link SoftmaxF32Arrays}). */
    static void backwardRowsF32Arrays(boolean log, boolean safe, MemorySegment x, float[] xa, MemorySegment dy,
                                      float[] dya, MemorySegment dx, float[] dxa, long len, long rowFrom, long rowTo) {
        SoftmaxF32Arrays.backwardRows(log, xa, HeapArrays.index(x, Float.BYTES), dya, HeapArrays.index(dy, Float.BYTES),
                dxa, HeapArrays.index(dx, Float.BYTES), x, len, rowFrom, rowTo, (base, max) ->
                        fill(true, dx, base, len, safe && max == Float.NEGATIVE_INFINITY ? 0.0 : Double.NaN));
    }

    /** float32 contiguous rows on native float lanes ({@link SoftmaxF32}); special rows as above. */
    private static void forwardRowsF32(boolean log, boolean safe, MemorySegment x, MemorySegment y,
                                       long len, long rowFrom, long rowTo) {
        double masked = log ? Double.NEGATIVE_INFINITY : 0.0;
        if (len <= SoftmaxF32.SCRATCH_MAX) {
            SoftmaxPipelineF32.forward(log, x, y, len, rowFrom, rowTo, (base, max) ->
                    fill(true, y, base, len, safe && max == Float.NEGATIVE_INFINITY ? masked : Double.NaN));
            return;
        }
        // Rows too long for a scratch row: one at a time, exponentials stored to y and scaled there.
        float[] block = log ? new float[SoftmaxF32.BLOCK] : null;
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            float max = SoftmaxF32.rowMax(x, base, len);
            if (!Float.isFinite(max)) {
                fill(true, y, base, len, safe && max == Float.NEGATIVE_INFINITY ? masked : Double.NaN);
            } else if (log) {
                SoftmaxF32.logSoftmaxRow(x, y, block, base, len, max);
            } else {
                SoftmaxF32.softmaxRow(x, y, base, len, max);
            }
        }
    }

    private static void backwardRowsF32(boolean log, boolean safe, MemorySegment x, MemorySegment dy,
                                        MemorySegment dx, long len, long rowFrom, long rowTo) {
        float[] scratch = len <= SoftmaxF32.SCRATCH_MAX ? new float[(int) len] : null;
        float[] block = scratch == null ? new float[SoftmaxF32.BLOCK] : null;
        double[] sums = new double[2];
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * len;
            float max = SoftmaxF32.rowMax(x, base, len);
            if (!Float.isFinite(max)) {
                fill(true, dx, base, len, safe && max == Float.NEGATIVE_INFINITY ? 0.0 : Double.NaN);
            } else {
                SoftmaxF32.backwardRow(log, x, dy, dx, scratch, block, base, len, max, sums);
            }
        }
    }

    // ---- strided rows: lanes across the inner dimension ---------------------------------------
    // Each block of columns runs in passes (StridedColumns32 / StridedColumns64, one loop per pass
    // and element type), which hand their per-lane results on in double[]: in one method, in a
    // process that had run the other kernels, C2 passed its node cutoff, left our helpers out of
    // line and boxed every vector (80-220 bytes allocated per element; NoBoxingAfterEveryKernelTest).
    // The shift is computed per lane in scalar code: 1 / sum and log(sum) are correctly rounded
    // either way, so the bits are those of the vector version.

    /**
     * Columns [colFrom, colTo) of the flattened (outer, inner) index space of an (outer, len, inner)
     * tensor; the row of column (o, j) is x[(o * len + k) * inner + j] for k < len.
     */
    static void forwardColumns(boolean f32, boolean log, boolean safe, MemorySegment x, MemorySegment y,
                               long len, long inner, long colFrom, long colTo) {
        double[] max = new double[L];
        double[] shift = new double[L];
        forEachColumnBlock(inner, colFrom, colTo, (o, j, jEnd) -> {
            long base = o * len * inner;
            if (f32) {
                StridedColumns32.max(x, base, inner, j, jEnd, len, max);
            } else {
                StridedColumns64.max(x, base, inner, j, jEnd, len, max);
            }
            columnSums(f32, Term.EXP, x, null, base, inner, j, jEnd, 0, len, max, shift);
            for (int l = 0; l < L; l++) {
                shift[l] = log ? Math.log(shift[l]) : 1.0 / shift[l];
            }
            if (f32) {
                if (log) {
                    StridedColumns32.logSoftmax(safe, x, y, base, inner, j, jEnd, len, max, shift);
                } else {
                    StridedColumns32.softmax(safe, x, y, base, inner, j, jEnd, len, max, shift);
                }
            } else if (log) {
                StridedColumns64.logSoftmax(safe, x, y, base, inner, j, jEnd, len, max, shift);
            } else {
                StridedColumns64.softmax(safe, x, y, base, inner, j, jEnd, len, max, shift);
            }
        });
    }

    static void backwardColumns(boolean f32, boolean log, boolean safe, MemorySegment x, MemorySegment dy,
                                MemorySegment dx, long len, long inner, long colFrom, long colTo) {
        double[] max = new double[L];
        double[] inv = new double[L];
        double[] dot = new double[L];
        forEachColumnBlock(inner, colFrom, colTo, (o, j, jEnd) -> {
            long base = o * len * inner;
            if (f32) {
                StridedColumns32.max(x, base, inner, j, jEnd, len, max);
            } else {
                StridedColumns64.max(x, base, inner, j, jEnd, len, max);
            }
            columnSums(f32, Term.EXP, x, null, base, inner, j, jEnd, 0, len, max, inv);
            columnSums(f32, log ? Term.DY : Term.DY_TIMES_EXP, x, dy, base, inner, j, jEnd, 0, len, max, dot);
            for (int l = 0; l < L; l++) {
                inv[l] = 1.0 / inv[l];
                dot[l] = log ? dot[l] : dot[l] * inv[l];
            }
            if (f32) {
                if (log) {
                    StridedColumns32.logSoftmaxBackward(safe, x, dy, dx, base, inner, j, jEnd, len, max, inv, dot);
                } else {
                    StridedColumns32.softmaxBackward(safe, x, dy, dx, base, inner, j, jEnd, len, max, inv, dot);
                }
            } else if (log) {
                StridedColumns64.logSoftmaxBackward(safe, x, dy, dx, base, inner, j, jEnd, len, max, inv, dot);
            } else {
                StridedColumns64.softmaxBackward(safe, x, dy, dx, base, inner, j, jEnd, len, max, inv, dot);
            }
        });
    }

    @FunctionalInterface
    private interface ColumnBlock {
        void run(long outer, long j, long jEnd);
    }

    /** Visits the columns in blocks of up to one vector of consecutive inner indices. */
    private static void forEachColumnBlock(long inner, long colFrom, long colTo, ColumnBlock body) {
        long c = colFrom;
        while (c < colTo) {
            long o = c / inner;
            long j = c - o * inner;
            long jEnd = Math.min(inner, Math.min(j + L, j + (colTo - c)));
            body.run(o, j, jEnd);
            c += jEnd - j;
        }
    }

    /**
     * Each lane's pairwise sum of the term over rows [k0, k1) into {@code out}: halves until a
     * block fits {@link #BLOCK} elements per lane, sums each block serially per lane, adds the
     * halves lane by lane (the same additions as on vectors).
     */
    private static void columnSums(boolean f32, Term term, MemorySegment x, MemorySegment dy, long base, long inner,
                                   long j, long jEnd, long k0, long k1, double[] maxes, double[] out) {
        if (k1 - k0 > BLOCK / L) {
            long mid = (k0 + k1) >>> 1;
            double[] right = new double[L];
            columnSums(f32, term, x, dy, base, inner, j, jEnd, k0, mid, maxes, out);
            columnSums(f32, term, x, dy, base, inner, j, jEnd, mid, k1, maxes, right);
            for (int l = 0; l < L; l++) {
                out[l] += right[l];
            }
            return;
        }
        switch (term) {
            case EXP -> {
                if (f32) {
                    StridedColumns32.sumExp(x, base, inner, j, jEnd, k0, k1, maxes, out);
                } else {
                    StridedColumns64.sumExp(x, base, inner, j, jEnd, k0, k1, maxes, out);
                }
            }
            case DY -> {
                if (f32) {
                    StridedColumns32.sumDy(dy, base, inner, j, jEnd, k0, k1, out);
                } else {
                    StridedColumns64.sumDy(dy, base, inner, j, jEnd, k0, k1, out);
                }
            }
            case DY_TIMES_EXP -> {
                if (f32) {
                    StridedColumns32.sumDyExp(x, dy, base, inner, j, jEnd, k0, k1, maxes, out);
                } else {
                    StridedColumns64.sumDyExp(x, dy, base, inner, j, jEnd, k0, k1, maxes, out);
                }
            }
        }
    }
}
