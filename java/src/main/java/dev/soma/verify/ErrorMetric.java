package dev.soma.verify;

import dev.soma.Tensor;
import dev.soma.op.DType;

/**
 * Soma's accuracy measure (semantics.md, rule 5, oneDNN's rule): the error of a result against the
 * float64 reference is relative where |ref| > 1e-5 and absolute below. NaN must meet NaN; an
 * infinity must meet the same infinity, and a float32 result may be infinite exactly where the
 * reference overflows float32 (rule 3). Any other mismatch of that kind is an infinite error.
 */
public final class ErrorMetric {
    /** Where the measure switches from absolute to relative error. */
    public static final double RELATIVE_ABOVE = 1e-5;
    /** The contract's float32 tolerance, forward and backward. */
    public static final double F32_TOLERANCE = 1e-6;
    /**
     * float64 results: the reference computes in double too, so only formula differences between
     * implementations remain (a few ulp, times the condition of the op near its kinks).
     */
    public static final double F64_TOLERANCE = 1e-12;

    private ErrorMetric() {
    }

    public static double tolerance(DType t) {
        return t == DType.F32 ? F32_TOLERANCE : F64_TOLERANCE;
    }

    /** The error of one element computed in {@code t} against the double reference. */
    public static double error(double out, double ref, DType t) {
        if (Double.isNaN(ref) || Double.isNaN(out)) {
            return Double.isNaN(ref) && Double.isNaN(out) ? 0 : Double.POSITIVE_INFINITY;
        }
        double expected = t == DType.F32 ? (double) (float) ref : ref;
        if (Double.isInfinite(expected) || Double.isInfinite(out)) {
            return out == expected ? 0 : Double.POSITIVE_INFINITY;
        }
        double d = Math.abs(out - ref);
        return Math.abs(ref) > RELATIVE_ABOVE ? d / Math.abs(ref) : d;
    }

    /** The largest error over all elements and the index where it occurs. */
    public record Worst(double error, long index) {
        public static final Worst NONE = new Worst(0, -1);

        public Worst max(Worst o) {
            return o.error > error || (Double.isNaN(o.error) && !Double.isNaN(error)) ? o : this;
        }
    }

    /** Compares every element of {@code out} (dtype {@code out.dtype()}) with the reference. */
    public static Worst worst(Tensor out, Tensor ref) {
        if (out.elementCount() != ref.elementCount()) {
            throw new IllegalArgumentException("output has " + out.elementCount() + " elements, reference "
                    + ref.elementCount());
        }
        DType t = out.dtype();
        double max = 0;
        long at = -1;
        for (long i = 0, n = out.elementCount(); i < n; i++) {
            double e = error(out.get(i), ref.get(i), t);
            if (e > max || (at < 0 && e > 0)) {
                max = e;
                at = i;
            }
        }
        return new Worst(max, at);
    }
}
