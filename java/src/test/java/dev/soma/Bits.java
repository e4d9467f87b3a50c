package dev.soma;

import dev.soma.op.DType;
import java.lang.foreign.ValueLayout;

/**
 * Bit-for-bit comparison of tensors, with a message naming the first element that differs. Every
 * bit counts (signed zeros included) except a NaN's sign and payload: NaN in, NaN out is the
 * contract, but which NaN is not. The JVM itself does not keep NaN bits stable (x86 arithmetic makes
 * the negative "default NaN" where interpreted code may pass the input's NaN through), so two runs of
 * one op may give NaNs with different bits; a NaN against a number is a difference.
 */
final class Bits {
    private Bits() {
    }

    /** The raw bits of element {@code i} (float32 widened), so NaN payloads and signed zeros count. */
    static long bits(Tensor t, long i) {
        return t.dtype() == DType.F32 ? t.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i)
                : t.segment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
    }

    /** Null when {@code expected} and {@code actual} hold the same bits (NaNs: any NaN), else where and how they first differ. */
    static String firstDifference(Tensor expected, Tensor actual) {
        if (expected.dtype() != actual.dtype() || !expected.sameShape(actual)) {
            return "expected " + expected + " but got " + actual;
        }
        long n = expected.elementCount();
        long differing = 0;
        long first = -1;
        for (long i = 0; i < n; i++) {
            if (bits(expected, i) != bits(actual, i) && !(Double.isNaN(expected.get(i)) && Double.isNaN(actual.get(i)))) {
                if (first < 0) {
                    first = i;
                }
                differing++;
            }
        }
        if (first < 0) {
            return null;
        }
        return differing + " of " + n + " elements differ; first at " + first + ": expected " + expected.get(first)
                + " got " + actual.get(first) + " (" + ulps(expected.dtype(), expected.get(first), actual.get(first))
                + " ulp)";
    }

    /** Distance in units in the last place of {@code t} between two finite values (-1 when either is not finite). */
    static long ulps(DType t, double a, double b) {
        if (!Double.isFinite(a) || !Double.isFinite(b)) {
            return -1;
        }
        if (t == DType.F32) {
            return Math.abs(ordered(Float.floatToRawIntBits((float) a)) - ordered(Float.floatToRawIntBits((float) b)));
        }
        return Math.abs(ordered(Double.doubleToRawLongBits(a)) - ordered(Double.doubleToRawLongBits(b)));
    }

    /** Maps float bits onto a line where adjacent floats are adjacent integers (-0 and +0 both at 0). */
    private static long ordered(long bits) {
        return bits < 0 ? Long.MIN_VALUE - bits : bits;
    }

    private static long ordered(int bits) {
        return bits < 0 ? (long) Integer.MIN_VALUE - bits : bits;
    }
}
