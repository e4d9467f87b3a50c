package dev.soma.fallback.scalar;

import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;

/** Small conversions between segments and double arrays for the tests. */
final class Segments {
    private Segments() {
    }

    static double[] toArray(DType t, MemorySegment s, long n) {
        double[] a = new double[(int) n];
        for (int i = 0; i < n; i++) {
            a[i] = ScalarKernels.read(t, s, i);
        }
        return a;
    }

    /** A heap segment of type t holding the values of a (rounded to float for F32). */
    static MemorySegment of(DType t, double... a) {
        MemorySegment s = t == DType.F32 ? MemorySegment.ofArray(new float[a.length])
                : MemorySegment.ofArray(new double[a.length]);
        for (int i = 0; i < a.length; i++) {
            ScalarKernels.write(t, s, i, a[i]);
        }
        return s;
    }

    /** A copy into a fresh heap segment of the same type. */
    static MemorySegment copy(DType t, MemorySegment s, long n) {
        return of(t, toArray(t, s, n));
    }

    /** Bit equality, except that every NaN equals every NaN and -0 equals +0. */
    static boolean same(double a, double b) {
        return (Double.isNaN(a) && Double.isNaN(b)) || a == b;
    }

    /** The first index where the two differ (see {@link #same}), or -1. */
    static int firstDifference(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) {
            if (!same(a[i], b[i])) {
                return i;
            }
        }
        return -1;
    }
}
