package dev.soma.benchmark;

import dev.soma.op.DType;

/**
 * Soma's accuracy metric (shared/semantics.md, oneDNN's rule): relative error where the reference
 * exceeds 1e-5 in magnitude, absolute error below; NaN must match NaN and infinities must match.
 */
final class ErrorMetric {
    private ErrorMetric() {
    }

    static double error(double got, double want) {
        if (Double.isNaN(want) || Double.isNaN(got)) {
            return Double.isNaN(want) && Double.isNaN(got) ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(want) || Double.isInfinite(got)) {
            return got == want ? 0 : Double.POSITIVE_INFINITY;
        }
        double diff = Math.abs(got - want);
        return Math.abs(want) > 1e-5 ? diff / Math.abs(want) : diff;
    }

    static double tolerance(DType t) {
        return t == DType.F32 ? 1e-6 : 1e-12;
    }
}
