package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.op.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares device results with a float64 reference by semantics.md's rule: relative error where
 * |ref| > 1e-5, absolute below; NaN must meet NaN and an infinity the same infinity. A float32
 * reference beyond the float range must come back as that infinity (honest overflow). Collects
 * the first mismatches so one failure shows the pattern.
 */
final class OpenClCompare {
    /** The contract's float32 bound; float64 results are held to a much tighter one. */
    static final double F32_TOL = 1e-6;
    static final double F64_TOL = 1e-10;
    private static final double FLOAT_MAX = Float.MAX_VALUE;

    private final String what;
    private final List<String> errors = new ArrayList<>();
    private int count;
    private double worst;

    OpenClCompare(String what) {
        this.what = what;
    }

    static double tolerance(DType t) {
        return t == DType.F32 ? F32_TOL : F64_TOL;
    }

    static double error(double got, double ref) {
        if (Double.isNaN(ref) || Double.isNaN(got)) {
            return Double.isNaN(ref) && Double.isNaN(got) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(ref) || Double.isInfinite(got)) {
            return got == ref ? 0 : Double.POSITIVE_INFINITY;
        }
        double d = Math.abs(got - ref);
        return Math.abs(ref) > 1e-5 ? d / Math.abs(ref) : d;
    }

    void check(DType t, int i, double input, double got, double ref) {
        if (t == DType.F32 && Double.isFinite(ref) && Math.abs(ref) > FLOAT_MAX) {
            // Rounding to float overflows exactly where the true value exceeds the largest float by half an ulp.
            ref = (float) ref;
        }
        if (got == OpenClTestDevice.POISON || (t == DType.F32 && got == (float) OpenClTestDevice.POISON)) {
            add("[" + i + "] x=" + input + ": never written (still the poison value)");
            return;
        }
        double e = error(got, ref);
        if (!(e <= tolerance(t))) {
            add("[" + i + "] x=" + input + ": got " + got + ", want " + ref + " (error " + e + ")");
        }
        if (e > worst && Double.isFinite(e)) {
            worst = e;
        }
    }

    void add(String message) {
        count++;
        if (errors.size() < 12) {
            errors.add(message);
        }
    }

    double worst() {
        return worst;
    }

    void assertOk() {
        if (count > 0) {
            fail(what + ": " + count + " mismatches, first: \n  " + String.join("\n  ", errors));
        }
    }
}
