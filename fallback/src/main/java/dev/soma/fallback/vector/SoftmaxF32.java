package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.MAX;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * float32 softmax and log-softmax over contiguous rows, on native float lanes. A row of a few
 * thousand floats stays in L1 between passes, so each row costs one read from memory and one write
 * (backward: two reads, one write) however many passes run over it:
 * <ol>
 *   <li>the row maximum m (float lanes, four accumulators);</li>
 *   <li>e = e^(x - m) in float lanes ({@link ShiftedExp}, below 2 ulps) into an L1 scratch row (or,
 *       for rows too long for it, the output), then summed from there in double lanes (each float
 *       e is widened exactly);</li>
 *   <li>one pass that scales the L1-resident exponentials (or writes x - m - log Z).</li>
 * </ol>
 * The forward over rows that fit a scratch row runs these passes software-pipelined across rows
 * ({@link SoftmaxPipelineF32}); this class keeps the per-row pieces and the long-row forward.
 *
 * <p>Accuracy (rule 5): x - m is rounded in float, an error up to 2^-24 |x - m| that exp turns into
 * a relative error of the same size (4.8e-7 where softmax is still above 1e-5, |x - m| < 11.6).
 * {@link #expShifted} adds the rounding error back (TwoSum), so a probability carries about four
 * float roundings (exp, 1/Z, the product, the stored e): below 3e-7. Sums are double: per lane
 * serial inside blocks of {@link #BLOCK}, pairwise across blocks.
 *
 * <p>+inf and all -inf rows (and NaN rows without a value above -inf) are handled by the caller
 * ({@link Softmax}), which sees the max; a NaN among finite values reaches every output through Z.
 */
final class SoftmaxF32 {
    /** Elements summed per lane serially (in double) before pairwise summation takes over. */
    static final int BLOCK = 1024;
    /** Longest row whose exponentials are kept in a scratch row (forward and backward) instead of going through y or being recomputed. */
    static final int SCRATCH_MAX = 1 << 14;
    private static final int L = Lanes.F.length();

    private SoftmaxF32() {
    }

    /**
     * The row maximum, NaN when the row holds a NaN and nothing larger than -inf. Four
     * accumulators updated by compare and masked move: one accumulator with Java's max (NaN and
     * -0.0 rules, a longer dependent sequence) made this pass a third of the row's time. NaN
     * never wins a compare, so a NaN among finite values leaves m finite; it still reaches every
     * output, through the sum of the exponentials (e^NaN is NaN, so Z and 1 / Z are NaN).
     */
    static float rowMax(MemorySegment x, long base, long len) {
        FloatVector a0 = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        long end = base + len;
        long i = base;
        for (long stop = base + len / (4 * L) * (4 * L); i < stop; i += 4 * L) {
            FloatVector v0 = Lanes.loadFloats(x, i);
            FloatVector v1 = Lanes.loadFloats(x, i + L);
            FloatVector v2 = Lanes.loadFloats(x, i + 2 * L);
            FloatVector v3 = Lanes.loadFloats(x, i + 3 * L);
            a0 = a0.blend(v0, v0.compare(GT, a0));
            a1 = a1.blend(v1, v1.compare(GT, a1));
            a2 = a2.blend(v2, v2.compare(GT, a2));
            a3 = a3.blend(v3, v3.compare(GT, a3));
        }
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector v = Lanes.loadFloats(x, i);
            a0 = a0.blend(v, v.compare(GT, a0));
        }
        if (i < end) {
            VectorMask<Float> m = Lanes.F.indexInRange(i, end);
            FloatVector v = Lanes.loadFloats(x, i, m);
            a0 = a0.blend(v, v.compare(GT, a0).and(m));
        }
        a0 = a0.blend(a1, a1.compare(GT, a0));
        a2 = a2.blend(a3, a3.compare(GT, a2));
        return finishMax(a0.blend(a2, a2.compare(GT, a0)).reduceLanes(MAX), x, base, len);
    }

    /** A row maximum taken by compare and masked move, made NaN for a row of only -inf and NaN. */
    static float finishMax(float max, MemorySegment x, long base, long len) {
        return max == Float.NEGATIVE_INFINITY && hasNaN(x, base, len) ? Float.NaN : max;
    }

    /** Rare path: only rows without any value above -inf get here. */
    private static boolean hasNaN(MemorySegment x, long base, long len) {
        for (long i = base; i < base + len; i++) {
            if (Float.isNaN(x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i))) {
                return true;
            }
        }
        return false;
    }

    /** e^(x - m) for a finite row maximum m ({@link ShiftedExp}). */
    static FloatVector expShifted(FloatVector x, float m) {
        return ShiftedExp.of(x, m);
    }

    static DoubleVector lo(FloatVector v) {
        return (DoubleVector) v.convertShape(F2D, Lanes.D, 0);
    }

    static DoubleVector hi(FloatVector v) {
        return (DoubleVector) v.convertShape(F2D, Lanes.D, 1);
    }

    // The passes are separate small methods on purpose: one loop holding the exponential and the
    // float-to-double sums together grew past C2's node budget (NodeCountInliningCutoff), which then
    // left the conversions as calls and boxed every vector. Summing from L1 in a second pass is cheap.

    /** e^(x - m) for [base, base + len) into y (the same indices); y may be x. */
    private static void expInto(MemorySegment x, MemorySegment y, long base, long len, float m) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            Lanes.store(y, i, expShifted(Lanes.loadFloats(x, i), m));
        }
        if (i < end) {
            expIntoTail(x, y, i, end, m);
        }
    }

    private static void expIntoTail(MemorySegment x, MemorySegment y, long i, long end, float m) {
        VectorMask<Float> k = Lanes.F.indexInRange(i, end);
        Lanes.store(y, i, expShifted(Lanes.loadFloats(x, i, k), m), k);
    }

    /** e^(x - m) for [base, base + len) into a[off, off + len). */
    private static void expInto(MemorySegment x, long base, int len, float m, float[] a, int off) {
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            expShifted(Lanes.loadFloats(x, base + j), m).intoArray(a, off + j);
        }
        if (j < len) {
            expIntoTail(x, base, j, len, m, a, off);
        }
    }

    private static void expIntoTail(MemorySegment x, long base, int j, int len, float m, float[] a, int off) {
        VectorMask<Float> k = Lanes.F.indexInRange(j, len);
        expShifted(Lanes.loadFloats(x, base + j, k), m).intoArray(a, off + j, k);
    }

    /** Sum of y[base, base + len) in double lanes. */
    private static double sum(MemorySegment y, long base, long len) {
        DoubleVector a = DoubleVector.zero(Lanes.D);
        DoubleVector b = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector v = Lanes.loadFloats(y, i);
            a = a.add(lo(v));
            b = b.add(hi(v));
        }
        if (i < end) {
            FloatVector v = Lanes.loadFloats(y, i, Lanes.F.indexInRange(i, end));
            a = a.add(lo(v));
            b = b.add(hi(v));
        }
        return Lanes.sum(a.add(b));
    }

    /** Sum of a[off, off + len) in double lanes. */
    static double sum(float[] arr, int off, int len) {
        DoubleVector a = DoubleVector.zero(Lanes.D);
        DoubleVector b = DoubleVector.zero(Lanes.D);
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            FloatVector v = FloatVector.fromArray(Lanes.F, arr, off + j);
            a = a.add(lo(v));
            b = b.add(hi(v));
        }
        if (j < len) {
            FloatVector v = FloatVector.fromArray(Lanes.F, arr, off + j, Lanes.F.indexInRange(j, len));
            a = a.add(lo(v));
            b = b.add(hi(v));
        }
        return Lanes.sum(a.add(b));
    }

    /** Sum of a[off + k] * dy[base + k] for k < len, each float product widened and summed in double. */
    private static double sumProduct(float[] arr, int off, MemorySegment dy, long base, int len) {
        DoubleVector a = DoubleVector.zero(Lanes.D);
        DoubleVector b = DoubleVector.zero(Lanes.D);
        int j = 0;
        for (int stop = Lanes.F.loopBound(len); j < stop; j += L) {
            FloatVector v = FloatVector.fromArray(Lanes.F, arr, off + j).mul(Lanes.loadFloats(dy, base + j));
            a = a.add(lo(v));
            b = b.add(hi(v));
        }
        if (j < len) {
            VectorMask<Float> k = Lanes.F.indexInRange(j, len);
            FloatVector v = FloatVector.fromArray(Lanes.F, arr, off + j, k).mul(Lanes.loadFloats(dy, base + j, k));
            a = a.add(lo(v));
            b = b.add(hi(v));
        }
        return Lanes.sum(a.add(b));
    }

    // ---- forward -------------------------------------------------------------------------------

    /** Sum of e^(x - m) over [base, base + len), pairwise over blocks; e is stored to y (and summed from there). */
    private static double sumExpStore(MemorySegment x, MemorySegment y, long base, long len, float m) {
        if (len > BLOCK) {
            long half = (len / 2 + L - 1) / L * L;
            return sumExpStore(x, y, base, half, m) + sumExpStore(x, y, base + half, len - half, m);
        }
        expInto(x, y, base, len, m);
        return sum(y, base, len);
    }

    /** Sum of e^(x - m) over [base, base + len), pairwise over blocks that pass through {@code block}. */
    private static double sumExp(MemorySegment x, float[] block, long base, long len, float m) {
        if (len > BLOCK) {
            long half = (len / 2 + L - 1) / L * L;
            return sumExp(x, block, base, half, m) + sumExp(x, block, base + half, len - half, m);
        }
        expInto(x, base, (int) len, m, block, 0);
        return sum(block, 0, (int) len);
    }

    /**
     * One row too long for a scratch row ({@link SoftmaxPipelineF32} takes the others), finite max
     * m: y = e^(x - m) / Z, the exponentials stored to y and scaled in place. (Storing to the
     * segment straight after the exponential made one loop too big for C2's inliner:
     * NodeCountInliningCutoff, boxed stores, 2x slower.)
     */
    static void softmaxRow(MemorySegment x, MemorySegment y, long base, long len, float m) {
        scale(y, y, base, len, (float) (1.0 / sumExpStore(x, y, base, len, m)));
    }

    /** Sum of a[off, off + len) in double lanes, pairwise over blocks of {@link #BLOCK} as the other passes add. */
    static double sumPairwise(float[] a, int off, int len) {
        if (len > BLOCK) {
            int half = (len / 2 + L - 1) / L * L;
            return sumPairwise(a, off, half) + sumPairwise(a, off + half, len - half);
        }
        return sum(a, off, len);
    }

    private static void scale(MemorySegment src, MemorySegment y, long base, long len, float inv) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            Lanes.store(y, i, Lanes.loadFloats(src, i).mul(inv));
        }
        if (i < end) {
            VectorMask<Float> k = Lanes.F.indexInRange(i, end);
            Lanes.store(y, i, Lanes.loadFloats(src, i, k).mul(inv), k);
        }
    }

    /** One row, finite max m: y = (x - m) - log Z. {@code block}: BLOCK floats of scratch. */
    static void logSoftmaxRow(MemorySegment x, MemorySegment y, float[] block, long base, long len, float m) {
        float shift = (float) Math.log(sumExp(x, block, base, len, m));
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            Lanes.store(y, i, Lanes.loadFloats(x, i).sub(m).sub(shift));
        }
        if (i < end) {
            VectorMask<Float> k = Lanes.F.indexInRange(i, end);
            Lanes.store(y, i, Lanes.loadFloats(x, i, k).sub(m).sub(shift), k);
        }
    }

    // ---- backward ------------------------------------------------------------------------------

    /**
     * Z = sum e and t = sum dy e (softmax) or sum dy (log_softmax) over [base, base + len) into
     * {@code out[0]} and {@code out[1]}, pairwise over blocks. e goes to {@code row} at
     * {@code base - rowBase} when the whole row fits there, else through {@code block}.
     */
    private static void sums(boolean log, MemorySegment x, MemorySegment dy, float[] row, float[] block,
                             long rowBase, long base, long len, float m, double[] out) {
        if (len > BLOCK) {
            long half = (len / 2 + L - 1) / L * L;
            sums(log, x, dy, row, block, rowBase, base, half, m, out);
            double z = out[0];
            double t = out[1];
            sums(log, x, dy, row, block, rowBase, base + half, len - half, m, out);
            out[0] = z + out[0];
            out[1] = t + out[1];
            return;
        }
        float[] a = row != null ? row : block;
        int off = row != null ? (int) (base - rowBase) : 0;
        expInto(x, base, (int) len, m, a, off);
        out[0] = sum(a, off, (int) len);
        out[1] = log ? sum(dy, base, len) : sumProduct(a, off, dy, base, (int) len);
    }

    /**
     * One row, finite max m. softmax: dx = p (dy - sum(dy p)); log_softmax: dx = dy - p sum(dy), with
     * p = e / Z. Every x and dy element of the row is read before any dx is written, so dx may alias
     * either. {@code row}: at least {@code len} floats to keep the exponentials, or null to
     * recompute them; {@code block}: BLOCK floats.
     */
    static void backwardRow(boolean log, MemorySegment x, MemorySegment dy, MemorySegment dx, float[] row,
                            float[] block, long base, long len, float m, double[] out) {
        sums(log, x, dy, row, block, base, base, len, m, out);
        double inv = 1.0 / out[0];
        float fInv = (float) inv;
        float k = (float) (log ? out[1] : out[1] * inv);
        if (row != null) {
            if (log) {
                logSoftmaxFromScratch(dy, dx, row, base, len, fInv, k);
            } else {
                softmaxFromScratch(dy, dx, row, base, len, fInv, k);
            }
        } else {
            if (log) {
                logSoftmaxRecomputed(x, dy, dx, base, len, m, fInv, k);
            } else {
                softmaxRecomputed(x, dy, dx, base, len, m, fInv, k);
            }
        }
    }

    // One loop per op rather than one with a flag: the JIT profiles each method once, so a process
    // that ran both ops compiled the flagged loop with both branches, past C2's inlining budget,
    // and boxed its vectors (softmax backward 28 -> 66 ms at 2^26 once log_softmax had run).

    /** softmax: dx = p (dy - k), p = e * inv from the scratch row. */
    private static void softmaxFromScratch(MemorySegment dy, MemorySegment dx, float[] scratch, long base, long len,
                                           float inv, float k) {
        int j = 0;
        for (int stop = Lanes.F.loopBound((int) len); j < stop; j += L) {
            FloatVector p = FloatVector.fromArray(Lanes.F, scratch, j).mul(inv);
            Lanes.store(dx, base + j, Lanes.loadFloats(dy, base + j).sub(k).mul(p));
        }
        if (j < len) {
            VectorMask<Float> msk = Lanes.F.indexInRange(j, (int) len);
            FloatVector p = FloatVector.fromArray(Lanes.F, scratch, j, msk).mul(inv);
            Lanes.store(dx, base + j, Lanes.loadFloats(dy, base + j, msk).sub(k).mul(p), msk);
        }
    }

    /** log_softmax: dx = dy - p k, p = e * inv from the scratch row. */
    private static void logSoftmaxFromScratch(MemorySegment dy, MemorySegment dx, float[] scratch, long base, long len,
                                              float inv, float k) {
        int j = 0;
        for (int stop = Lanes.F.loopBound((int) len); j < stop; j += L) {
            FloatVector p = FloatVector.fromArray(Lanes.F, scratch, j).mul(inv);
            Lanes.store(dx, base + j, Lanes.loadFloats(dy, base + j).sub(p.mul(k)));
        }
        if (j < len) {
            VectorMask<Float> msk = Lanes.F.indexInRange(j, (int) len);
            FloatVector p = FloatVector.fromArray(Lanes.F, scratch, j, msk).mul(inv);
            Lanes.store(dx, base + j, Lanes.loadFloats(dy, base + j, msk).sub(p.mul(k)), msk);
        }
    }

    /** softmax, rows too long for a scratch row: p recomputed from x. */
    private static void softmaxRecomputed(MemorySegment x, MemorySegment dy, MemorySegment dx, long base, long len,
                                          float m, float inv, float k) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector p = expShifted(Lanes.loadFloats(x, i), m).mul(inv);
            Lanes.store(dx, i, Lanes.loadFloats(dy, i).sub(k).mul(p));
        }
        if (i < end) {
            VectorMask<Float> msk = Lanes.F.indexInRange(i, end);
            FloatVector p = expShifted(Lanes.loadFloats(x, i, msk), m).mul(inv);
            Lanes.store(dx, i, Lanes.loadFloats(dy, i, msk).sub(k).mul(p), msk);
        }
    }

    /** log_softmax, rows too long for a scratch row: p recomputed from x. */
    private static void logSoftmaxRecomputed(MemorySegment x, MemorySegment dy, MemorySegment dx, long base, long len,
                                             float m, float inv, float k) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector p = expShifted(Lanes.loadFloats(x, i), m).mul(inv);
            Lanes.store(dx, i, Lanes.loadFloats(dy, i).sub(p.mul(k)));
        }
        if (i < end) {
            VectorMask<Float> msk = Lanes.F.indexInRange(i, end);
            FloatVector p = expShifted(Lanes.loadFloats(x, i, msk), m).mul(inv);
            Lanes.store(dx, i, Lanes.loadFloats(dy, i, msk).sub(p.mul(k)), msk);
        }
    }
}
