package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.LT;
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
 *   <li>the row maximum m (float lanes);</li>
 *   <li>e = e^(x - m) in float lanes (SVML float exp, about 1 ulp), summed in double lanes (each
 *       float e is widened exactly), written to the output (forward) or an L1 scratch row
 *       (backward);</li>
 *   <li>one pass that scales the L1-resident exponentials (or writes x - m - log Z).</li>
 * </ol>
 *
 * <p>Accuracy (rule 5): x - m is rounded in float, an error up to 2^-24 |x - m| that exp turns into
 * a relative error of the same size (4.8e-7 where softmax is still above 1e-5, |x - m| < 11.6).
 * {@link #expShifted} adds the rounding error back (TwoSum), so a probability carries about four
 * float roundings (exp, 1/Z, the product, the stored e): below 3e-7. Sums are double: per lane
 * serial inside blocks of {@link #BLOCK}, pairwise across blocks.
 *
 * <p>NaN, +inf and all -inf rows are handled by the caller ({@link Softmax}), which sees the max.
 */
final class SoftmaxF32 {
    /** Elements summed per lane serially (in double) before pairwise summation takes over. */
    static final int BLOCK = 1024;
    /** Longest row whose exponentials the backward keeps in a scratch row instead of recomputing. */
    static final int SCRATCH_MAX = 1 << 14;
    private static final int L = Lanes.F.length();

    private SoftmaxF32() {
    }

    static float rowMax(MemorySegment x, long base, long len) {
        FloatVector acc = FloatVector.broadcast(Lanes.F, Float.NEGATIVE_INFINITY);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            acc = acc.max(Lanes.loadFloats(x, i));
        }
        if (i < end) {
            VectorMask<Float> m = Lanes.F.indexInRange(i, end);
            acc = acc.lanewise(MAX, Lanes.loadFloats(x, i, m), m);
        }
        return acc.reduceLanes(MAX);
    }

    /**
     * e^(x - m) for finite m >= x: the float difference s = x - m plus its rounding error r (TwoSum,
     * exact), then e^s (1 + r). Lanes with s below -128 (e^s is 0 in float; s may be -inf there,
     * where r would be NaN) take r = 0.
     */
    static FloatVector expShifted(FloatVector x, float m) {
        FloatVector s = x.sub(m);
        FloatVector bb = s.sub(x);
        FloatVector r = x.sub(s.sub(bb)).sub(bb.add(m));
        FloatVector e = s.lanewise(jdk.incubator.vector.VectorOperators.EXP);
        return e.fma(r.blend(0f, s.compare(LT, -128f)), e);
    }

    private static DoubleVector lo(FloatVector v) {
        return (DoubleVector) v.convertShape(F2D, Lanes.D, 0);
    }

    private static DoubleVector hi(FloatVector v) {
        return (DoubleVector) v.convertShape(F2D, Lanes.D, 1);
    }

    // ---- forward -------------------------------------------------------------------------------

    /** Sum of e^(x - m) over [base, base + len), pairwise over blocks; with {@code y}, e is stored there. */
    private static double sumExp(MemorySegment x, MemorySegment y, long base, long len, float m) {
        if (len > BLOCK) {
            long half = (len / 2 + L - 1) / L * L;
            return sumExp(x, y, base, half, m) + sumExp(x, y, base + half, len - half, m);
        }
        return y == null ? blockSumExp(x, base, len, m) : blockSumExpStore(x, y, base, len, m);
    }

    private static double blockSumExp(MemorySegment x, long base, long len, float m) {
        DoubleVector a = DoubleVector.zero(Lanes.D);
        DoubleVector b = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector e = expShifted(Lanes.loadFloats(x, i), m);
            a = a.add(lo(e));
            b = b.add(hi(e));
        }
        if (i < end) {
            VectorMask<Float> k = Lanes.F.indexInRange(i, end);
            FloatVector e = expShifted(Lanes.loadFloats(x, i, k), m).blend(0f, k.not());
            a = a.add(lo(e));
            b = b.add(hi(e));
        }
        return a.add(b).reduceLanes(ADD);
    }

    private static double blockSumExpStore(MemorySegment x, MemorySegment y, long base, long len, float m) {
        DoubleVector a = DoubleVector.zero(Lanes.D);
        DoubleVector b = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector e = expShifted(Lanes.loadFloats(x, i), m);
            Lanes.store(y, i, e);
            a = a.add(lo(e));
            b = b.add(hi(e));
        }
        if (i < end) {
            VectorMask<Float> k = Lanes.F.indexInRange(i, end);
            FloatVector e = expShifted(Lanes.loadFloats(x, i, k), m).blend(0f, k.not());
            Lanes.store(y, i, e, k);
            a = a.add(lo(e));
            b = b.add(hi(e));
        }
        return a.add(b).reduceLanes(ADD);
    }

    /** One row, finite max m: y = e^(x - m) / Z, the exponentials stored on the way and scaled in L1. */
    static void softmaxRow(MemorySegment x, MemorySegment y, long base, long len, float m) {
        float inv = (float) (1.0 / sumExp(x, y, base, len, m));
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            Lanes.store(y, i, Lanes.loadFloats(y, i).mul(inv));
        }
        if (i < end) {
            VectorMask<Float> k = Lanes.F.indexInRange(i, end);
            Lanes.store(y, i, Lanes.loadFloats(y, i, k).mul(inv), k);
        }
    }

    /** One row, finite max m: y = (x - m) - log Z. */
    static void logSoftmaxRow(MemorySegment x, MemorySegment y, long base, long len, float m) {
        float shift = (float) Math.log(sumExp(x, null, base, len, m));
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
     * {@code out[0]} and {@code out[1]}, pairwise over blocks; e goes to {@code scratch} (indexed
     * from {@code base - rowBase}) unless it is null.
     */
    private static void sums(boolean log, MemorySegment x, MemorySegment dy, float[] scratch, long rowBase,
                             long base, long len, float m, double[] out) {
        if (len > BLOCK) {
            long half = (len / 2 + L - 1) / L * L;
            sums(log, x, dy, scratch, rowBase, base, half, m, out);
            double z = out[0];
            double t = out[1];
            sums(log, x, dy, scratch, rowBase, base + half, len - half, m, out);
            out[0] = z + out[0];
            out[1] = t + out[1];
            return;
        }
        blockSums(log, x, dy, scratch, rowBase, base, len, m, out);
    }

    private static void blockSums(boolean log, MemorySegment x, MemorySegment dy, float[] scratch, long rowBase,
                                  long base, long len, float m, double[] out) {
        DoubleVector za = DoubleVector.zero(Lanes.D);
        DoubleVector zb = DoubleVector.zero(Lanes.D);
        DoubleVector ta = DoubleVector.zero(Lanes.D);
        DoubleVector tb = DoubleVector.zero(Lanes.D);
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector e = expShifted(Lanes.loadFloats(x, i), m);
            FloatVector g = Lanes.loadFloats(dy, i);
            if (scratch != null) {
                e.intoArray(scratch, (int) (i - rowBase));
            }
            FloatVector t = log ? g : g.mul(e);
            za = za.add(lo(e));
            zb = zb.add(hi(e));
            ta = ta.add(lo(t));
            tb = tb.add(hi(t));
        }
        if (i < end) {
            VectorMask<Float> k = Lanes.F.indexInRange(i, end);
            FloatVector e = expShifted(Lanes.loadFloats(x, i, k), m).blend(0f, k.not());
            FloatVector g = Lanes.loadFloats(dy, i, k);
            if (scratch != null) {
                e.intoArray(scratch, (int) (i - rowBase), k);
            }
            FloatVector t = log ? g : g.mul(e);
            za = za.add(lo(e));
            zb = zb.add(hi(e));
            ta = ta.add(lo(t));
            tb = tb.add(hi(t));
        }
        out[0] = za.add(zb).reduceLanes(ADD);
        out[1] = ta.add(tb).reduceLanes(ADD);
    }

    /**
     * One row, finite max m. softmax: dx = p (dy - sum(dy p)); log_softmax: dx = dy - p sum(dy), with
     * p = e / Z. Every x and dy element of the row is read before any dx is written, so dx may alias
     * either. {@code scratch}: at least {@code len} floats, or null to recompute the exponentials.
     */
    static void backwardRow(boolean log, MemorySegment x, MemorySegment dy, MemorySegment dx, float[] scratch,
                            long base, long len, float m, double[] out) {
        sums(log, x, dy, scratch, base, base, len, m, out);
        double inv = 1.0 / out[0];
        float fInv = (float) inv;
        float k = (float) (log ? out[1] : out[1] * inv);
        if (scratch != null) {
            writeFromScratch(log, dy, dx, scratch, base, len, fInv, k);
        } else {
            writeRecomputed(log, x, dy, dx, base, len, m, fInv, k);
        }
    }

    private static void writeFromScratch(boolean log, MemorySegment dy, MemorySegment dx, float[] scratch,
                                         long base, long len, float inv, float k) {
        int j = 0;
        for (int stop = Lanes.F.loopBound((int) len); j < stop; j += L) {
            FloatVector p = FloatVector.fromArray(Lanes.F, scratch, j).mul(inv);
            FloatVector g = Lanes.loadFloats(dy, base + j);
            Lanes.store(dx, base + j, log ? g.sub(p.mul(k)) : g.sub(k).mul(p));
        }
        if (j < len) {
            VectorMask<Float> msk = Lanes.F.indexInRange(j, (int) len);
            FloatVector p = FloatVector.fromArray(Lanes.F, scratch, j, msk).mul(inv);
            FloatVector g = Lanes.loadFloats(dy, base + j, msk);
            Lanes.store(dx, base + j, log ? g.sub(p.mul(k)) : g.sub(k).mul(p), msk);
        }
    }

    private static void writeRecomputed(boolean log, MemorySegment x, MemorySegment dy, MemorySegment dx,
                                        long base, long len, float m, float inv, float k) {
        long end = base + len;
        long i = base;
        for (long stop = base + Lanes.F.loopBound(len); i < stop; i += L) {
            FloatVector p = expShifted(Lanes.loadFloats(x, i), m).mul(inv);
            FloatVector g = Lanes.loadFloats(dy, i);
            Lanes.store(dx, i, log ? g.sub(p.mul(k)) : g.sub(k).mul(p));
        }
        if (i < end) {
            VectorMask<Float> msk = Lanes.F.indexInRange(i, end);
            FloatVector p = expShifted(Lanes.loadFloats(x, i, msk), m).mul(inv);
            FloatVector g = Lanes.loadFloats(dy, i, msk);
            Lanes.store(dx, i, log ? g.sub(p.mul(k)) : g.sub(k).mul(p), msk);
        }
    }
}
