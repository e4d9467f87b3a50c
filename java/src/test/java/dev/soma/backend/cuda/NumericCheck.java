package dev.soma.backend.cuda;

import dev.soma.Tensor;
import dev.soma.fallback.Accuracy;
import dev.soma.op.OpArgs;

/**
 * The accuracy rule of shared/semantics.md as {@link Accuracy} measures it (float32 1e-6, float64
 * 1e-10; NaN must meet NaN, infinities must match), plus the term-size scales Accuracy defines for
 * results that are differences of larger terms (softmax backward, log-softmax, PReLU's dw).
 */
final class NumericCheck {
    private NumericCheck() {
    }

    /** Throws naming the first bad element (and its input) when any element misses. */
    static void assertClose(String what, Tensor x, Tensor ref, Tensor got) {
        assertClose(what, x, ref, got, null, Accuracy.tolerance(got.dtype()));
    }

    /** Same with an explicit tolerance (0 demands identical results). */
    static void assertClose(String what, Tensor x, Tensor ref, Tensor got, double tol) {
        assertClose(what, x, ref, got, null, tol);
    }

    static void assertClose(String what, Tensor x, Tensor ref, Tensor got, double[] scale, double tol) {
        long n = ref.elementCount();
        for (long i = 0; i < n; i++) {
            double r = ref.get(i);
            double g = got.get(i);
            double e = scale == null ? Accuracy.error(r, g) : Accuracy.errorScaled(r, g, scale[(int) i]);
            if (e > tol) {
                throw new AssertionError(what + " at element " + i + " (x = " + (i < x.elementCount() ? x.get(i) : Double.NaN)
                        + "): expected " + r + ", got " + g + " (error " + e + ", tolerance " + tol + ")");
            }
        }
    }

    static double[] softmaxScales(OpArgs args, Tensor x, Tensor dy, boolean backward) {
        return ErrorScales.softmax(args, x, dy, backward);
    }

    static double[] preluWeightScales(Tensor x, Tensor w, Tensor dy) {
        return ErrorScales.preluWeight(x, w, dy);
    }
}
