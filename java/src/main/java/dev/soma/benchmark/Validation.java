package dev.soma.benchmark;

import dev.soma.Tensor;
import dev.soma.op.DType;

/**
 * Checks a backend's output against the float64 reference before anything is timed (as llm.c's
 * dev/cuda does): a fast wrong kernel must never produce a benchmark figure.
 */
public final class Validation {
    private Validation() {
    }

    /** The verdict: the largest error, where it occurred, and the bound it was held to. */
    public record Outcome(double maxError, long worstIndex, double got, double want, double tolerance) {
        public boolean passed() {
            return maxError <= tolerance;
        }

        /** "max error 3.1e-05 at element 17 (got 0.25, want 0.2500077) exceeds 1e-06". */
        public String describe() {
            return String.format(java.util.Locale.ROOT, "max error %.3g at element %d (got %s, want %s) %s %.0e",
                    maxError, worstIndex, got, want, passed() ? "within" : "exceeds", tolerance);
        }
    }

    /** Compares every element of {@code got} with {@code want} (float64, same element count). */
    public static Outcome check(Tensor got, Tensor want) {
        double tol = tolerance(got.dtype());
        double worst = 0;
        long worstAt = 0;
        for (long i = 0, n = got.elementCount(); i < n; i++) {
            double e = ErrorMetric.error(got.get(i), want.get(i));   // never NaN: a NaN mismatch is +inf
            if (e > worst) {
                worst = e;
                worstAt = i;
            }
        }
        if (got.elementCount() == 0) {
            return new Outcome(0, 0, 0, 0, tol);
        }
        return new Outcome(worst, worstAt, got.get(worstAt), want.get(worstAt), tol);
    }

    /** The bound from shared/semantics.md for float32; float64 is held to a float64-sized bound. */
    public static double tolerance(DType t) {
        return ErrorMetric.tolerance(t);
    }
}
