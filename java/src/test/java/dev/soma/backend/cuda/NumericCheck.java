package dev.soma.backend.cuda;

import dev.soma.Tensor;
import dev.soma.op.DType;

/**
 * The accuracy rule of shared/semantics.md: relative error where |ref| > 1e-5, absolute below;
 * NaN must match NaN, infinities must match exactly, and a float32 result whose true value
 * overflows float must be the infinity.
 */
final class NumericCheck {
    static final double TOLERANCE = 1e-6;

    private NumericCheck() {
    }

    /** Null when {@code got} is acceptable for {@code ref} in dtype {@code t}; else what is wrong. */
    static String check(double ref, double got, DType t, double tol) {
        if (Double.isNaN(ref) || Double.isNaN(got)) {
            return Double.isNaN(ref) && Double.isNaN(got) ? null : "expected " + ref + ", got " + got;
        }
        double expect = t == DType.F32 ? (double) (float) ref : ref;
        if (Double.isInfinite(expect) || Double.isInfinite(got)) {
            return expect == got ? null : "expected " + expect + ", got " + got;
        }
        double err = Math.abs(ref) > 1e-5 ? Math.abs(got - ref) / Math.abs(ref) : Math.abs(got - ref);
        return err <= tol ? null : "expected " + ref + ", got " + got + " (error " + err + ")";
    }

    /** Throws naming the first bad element (and its input) when any element misses. */
    static void assertClose(String what, Tensor x, Tensor ref, Tensor got, double tol) {
        long n = ref.elementCount();
        for (long i = 0; i < n; i++) {
            String bad = check(ref.get(i), got.get(i), got.dtype(), tol);
            if (bad != null) {
                throw new AssertionError(what + " at element " + i + " (x = " + x.get(i) + "): " + bad);
            }
        }
    }
}
