package dev.soma.benchmark;

import dev.soma.Tensor;
import dev.soma.fallback.Accuracy;
import dev.soma.op.DType;

/**
 * Checks a backend's output against the float64 reference before anything is timed (as llm.c's
 * dev/cuda does): a fast wrong kernel must never produce a benchmark figure. The metric and the
 * tolerances are Soma's accuracy contract, {@link Accuracy} (shared/semantics.md rule 5).
 */
public final class Validation {
    private Validation() {
    }

    /**
     * Compares every element of {@code got} (the backend's output, its own dtype) with {@code want}
     * (float64, the same element count); the dtype of {@code got} sets the tolerance.
     *
     * @param scale per-element magnitudes for {@link Accuracy#compareScaled} (softmax-family results
     *              that are differences of larger terms), or null for rule 5 as it stands
     */
    public static Accuracy.Report check(Tensor got, Tensor want, Tensor scale) {
        DType t = got.dtype();
        if (scale == null) {
            return Accuracy.compare(t, want::get, got::get, got.elementCount());
        }
        return Accuracy.compareScaled(t, want::get, got::get, scale::get, got.elementCount());
    }
}
