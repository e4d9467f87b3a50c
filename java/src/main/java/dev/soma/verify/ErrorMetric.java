package dev.soma.verify;

import dev.soma.Tensor;
import dev.soma.fallback.Accuracy;
import dev.soma.op.DType;

/**
 * Soma's accuracy measure ({@link Accuracy}: semantics.md rule 5) applied to a result of any dtype
 * against a float64 reference. The reference is first rounded to the result's dtype, so a float32
 * result may be infinite exactly where the true value overflows float32 (rule 3: selu(3.4e38) is
 * +inf in float32) and an exactly rounded result has error 0.
 */
public final class ErrorMetric {

    private ErrorMetric() {
    }

    /** The contract's tolerance for results of type {@code t} (1e-6 for float32). */
    public static double tolerance(DType t) {
        return Accuracy.tolerance(t);
    }

    /** The error of one element computed in {@code t} against the float64 reference value. */
    public static double error(double out, double ref, DType t) {
        return Accuracy.error(t == DType.F32 ? (double) (float) ref : ref, out);
    }

    /** The largest error over all elements and the index where it occurs (-1 when all are exact). */
    public record Worst(double error, long index) {
    }

    /** Compares every element of {@code out} (dtype {@code out.dtype()}) with the float64 reference. */
    public static Worst worst(Tensor out, Tensor ref) {
        return worst(out, ref, null);
    }

    /**
     * As {@link #worst(Tensor, Tensor)}, measuring element {@code i} against at least {@code scale[i]}
     * ({@link Accuracy#errorScaled}); {@code scale} null for the plain rule.
     */
    public static Worst worst(Tensor out, Tensor ref, double[] scale) {
        if (out.elementCount() != ref.elementCount()) {
            throw new IllegalArgumentException("output has " + out.elementCount() + " elements, reference "
                    + ref.elementCount());
        }
        DType t = out.dtype();
        double max = 0;
        long at = -1;
        for (long i = 0, n = out.elementCount(); i < n; i++) {
            double e = scale == null ? error(out.get(i), ref.get(i), t)
                    : Accuracy.errorScaled(t == DType.F32 ? (double) (float) ref.get(i) : ref.get(i), out.get(i),
                            scale[(int) i]);
            if (e > max) {
                max = e;
                at = i;
            }
        }
        return new Worst(max, at);
    }
}
