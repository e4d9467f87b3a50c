package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Inputs, poisoned outputs and the accuracy check shared by the vector kernel tests. */
final class TestData {
    /** Sizes that hit every vector tail (16 float lanes, 8 double lanes) and the parallel split. */
    static final long[] SIZES = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 4097, 1 << 20};
    /** A value no op produces from our inputs: any element left holding it was never written. */
    static final double POISON = -7.77e7;
    static final double F32_TOLERANCE = 1e-6;
    static final double F64_TOLERANCE = 1e-10;

    private TestData() {
    }

    /** The truth every vector result is compared to. */
    static CpuKernels reference() {
        return new Oracle();
    }

    static double tolerance(DType t) {
        return t == DType.F32 ? F32_TOLERANCE : F64_TOLERANCE;
    }

    /** Heap segments (over float[]/double[]) for even seeds, native for odd: both kinds get exercised. */
    static MemorySegment alloc(DType t, long n, boolean heap) {
        if (heap && n < Integer.MAX_VALUE / 8) {
            return t == DType.F32 ? MemorySegment.ofArray(new float[(int) n])
                    : MemorySegment.ofArray(new double[(int) n]);
        }
        return Arena.ofAuto().allocate(Math.max(1, n) * t.byteSize(), 64);
    }

    static MemorySegment poisoned(DType t, long n, boolean heap) {
        MemorySegment s = alloc(t, n, heap);
        for (long i = 0; i < n; i++) {
            Oracle.set(t, s, i, POISON);
        }
        return s;
    }

    static MemorySegment copy(DType t, MemorySegment src, long n, boolean heap) {
        MemorySegment s = alloc(t, n, heap);
        MemorySegment.copy(src, 0, s, 0, n * t.byteSize());
        return s;
    }

    /** The special inputs of semantics.md: NaN, infinities, zeros, denormals, exp edges, kinks, huge. */
    static double[] specials(DType t) {
        boolean f = t == DType.F32;
        return new double[] {
            Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
            f ? Float.MIN_VALUE : Double.MIN_VALUE, f ? -Float.MIN_VALUE : -Double.MIN_VALUE,
            f ? Float.MIN_NORMAL / 3 : Double.MIN_NORMAL / 3, 1e-30, -1e-30, 1e-8, -1e-8,
            88.72, -88.72, 88.73, -88.73, 103.9, -103.9, 709.78, -709.78, 709.79, -745.2, 746,
            3, -3, 6, -6, 1.5, -1.5, 20, -20, 40, -40, 41, -41, 1e5, -1e5, 1e10, -1e10,
            f ? 3.4e38 : 1.7e308, f ? -3.4e38 : -1.7e308, f ? 1e20 : 1e200, f ? -1e20 : -1e200,
            100, -100, 0.5, -0.5, 1, -1, 2, -2, 5, -5, 10, -10, 27, -27, 38.5, -38.5};
    }

    /**
     * Fresh random inputs: a mix of the common range, wide magnitudes (log-uniform up to 1e30) and
     * the specials at random positions (about one element in eight).
     */
    static MemorySegment input(DType t, long n, long seed, boolean heap) {
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment s = alloc(t, n, heap);
        double[] sp = specials(t);
        for (long i = 0; i < n; i++) {
            double v;
            int kind = r.nextInt(8);
            if (kind == 0) {
                v = sp[r.nextInt(sp.length)];
            } else if (kind == 1) {
                v = (r.nextBoolean() ? 1 : -1) * Math.pow(10, r.nextDouble(-30, 30));
            } else if (kind == 2) {
                v = r.nextDouble(-100, 100);
            } else {
                v = r.nextDouble(-8, 8);
            }
            if (t == DType.F32 && Double.isFinite(v) && Math.abs(v) > Float.MAX_VALUE) {
                v = Math.copySign(Float.MAX_VALUE, v);
            }
            Oracle.set(t, s, i, v);
        }
        return s;
    }

    /** Upstream gradients: finite, non-zero, either sign. */
    static MemorySegment gradient(DType t, long n, long seed, boolean heap) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        MemorySegment s = alloc(t, n, heap);
        for (long i = 0; i < n; i++) {
            double v = r.nextDouble(0.1, 2) * (r.nextBoolean() ? 1 : -1);
            Oracle.set(t, s, i, v);
        }
        return s;
    }

    /**
     * Asserts every element within the contract: NaN where the reference is NaN, equal infinities,
     * else relative error where |ref| > 1e-5 and absolute below.
     */
    static void assertClose(String what, DType t, MemorySegment expected, MemorySegment actual, long n,
                            MemorySegment input) {
        assertClose(what, t, expected, actual, n, input, tolerance(t));
    }

    static void assertClose(String what, DType t, MemorySegment expected, MemorySegment actual, long n,
                            MemorySegment input, double tol) {
        int failures = 0;
        StringBuilder msg = new StringBuilder();
        double worst = 0;
        for (long i = 0; i < n; i++) {
            double e = Oracle.get(t, expected, i);
            double a = Oracle.get(t, actual, i);
            double err = error(e, a);
            worst = Math.max(worst, err);
            if (!(err <= tol)) {
                if (failures++ < 8) {
                    msg.append(String.format("%n  [%d] x=%s expected %s got %s (error %.3g)", i,
                            input == null ? "-" : Double.toString(Oracle.get(t, input, i)), e, a, err));
                }
            }
        }
        if (failures > 0) {
            fail(what + ": " + failures + " of " + n + " elements outside " + tol + ", worst " + worst + msg);
        }
    }

    /** 0 when equal (NaN matching NaN included), infinity when one is NaN or an infinity differs. */
    static double error(double e, double a) {
        if (Double.isNaN(e) || Double.isNaN(a)) {
            return Double.isNaN(e) && Double.isNaN(a) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(e) || Double.isInfinite(a)) {
            return e == a ? 0 : Double.POSITIVE_INFINITY;
        }
        double d = Math.abs(a - e);
        return Math.abs(e) > 1e-5 ? d / Math.abs(e) : d;
    }
}
