package dev.soma.fallback;

import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * The error metric of shared/semantics.md rule 5, and the tolerance per dtype.
 *
 * <p>Per element: the relative error {@code |got - ref| / |ref|} where {@code |ref| > 1e-5}, the
 * absolute error {@code |got - ref|} below (oneDNN's rule). A NaN must meet a NaN and an infinity
 * the same infinity (else the error is +inf); -0 and +0 are equal.
 *
 * <p>Tolerances: float32 {@value #F32_TOLERANCE} (rule 5). float64 {@value #F64_TOLERANCE}: a
 * correct double implementation is within a few ulps (about 1e-15) of the truth almost everywhere,
 * but where a result crosses zero away from x = 0 (gelu', silu', mish', gelu_tanh' near
 * x = -0.75 ... -1.3; softmax's {@code dy - sum}) it is the difference of O(1) terms and carries
 * about 1e-16 absolute error; rule 5 stays relative down to |ref| = 1e-5, so two correct
 * implementations can differ there by 1e-16 / 1e-5 = 1e-11 relative. 1e-10 leaves a tenfold margin
 * for a few-ulp libm and is still a thousand times tighter than anything computed in float32
 * (1e-7), so a float step in a double path cannot pass.
 */
public final class Accuracy {
    /** Rule 5: every float32 result within 1e-6 of the float64 reference. */
    public static final double F32_TOLERANCE = 1e-6;
    /** float64 results against the reference (see the class comment for why 1e-10). */
    public static final double F64_TOLERANCE = 1e-10;
    /** Below this |ref| the error is absolute. */
    public static final double RELATIVE_FLOOR = 1e-5;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private Accuracy() {
    }

    /** The tolerance for results of type {@code t}. */
    public static double tolerance(DType t) {
        return t == DType.F32 ? F32_TOLERANCE : F64_TOLERANCE;
    }

    /**
     * The error of one element: 0 when both are NaN or both the same infinity; +inf when only one
     * is NaN or an infinity differs; else relative above {@link #RELATIVE_FLOOR}, absolute below.
     */
    public static double error(double ref, double got) {
        boolean refNaN = Double.isNaN(ref);
        if (refNaN || Double.isNaN(got)) {
            return refNaN && Double.isNaN(got) ? 0.0 : Double.POSITIVE_INFINITY;
        }
        if (Double.isInfinite(ref) || Double.isInfinite(got)) {
            return ref == got ? 0.0 : Double.POSITIVE_INFINITY;
        }
        double diff = Math.abs(got - ref);
        double mag = Math.abs(ref);
        return mag > RELATIVE_FLOOR ? diff / mag : diff;
    }

    /**
     * Rule 5's error measured against a magnitude of at least {@code scale}:
     * {@code |got - ref| / max(|ref|, scale)} where that denominator exceeds {@link #RELATIVE_FLOOR},
     * absolute below; NaN and infinities as in {@link #error}. With {@code scale <= |ref|} it is
     * {@link #error} itself.
     *
     * <p>For results that are a difference of larger terms, where no float32 arithmetic can reach
     * 1e-6 relative to the small difference. Softmax backward {@code dx = y (dy - s)} with
     * {@code s = sum(dy y)}: scale {@code y * max|dy|} of the row (an error in s of one float ulp of
     * max|dy| alone gives 6e-8 of it). log_softmax forward {@code x - m - log z}: scale
     * {@code |x - m| + log z}. log_softmax backward {@code dy - p sum(dy)}: scale
     * {@code |dy| + p sum|dy|}. Elementwise ops need no scale: rule 5 applies as it stands.
     */
    public static double errorScaled(double ref, double got, double scale) {
        if (Double.isNaN(ref) || Double.isNaN(got) || Double.isInfinite(ref) || Double.isInfinite(got)) {
            return error(ref, got);
        }
        double diff = Math.abs(got - ref);
        double mag = Math.max(Math.abs(ref), Math.abs(scale));
        return mag > RELATIVE_FLOOR ? diff / mag : diff;
    }

    /** Like {@link #compare(DType, Elements, Elements, long)} with {@link #errorScaled} and a per-element scale. */
    public static Report compareScaled(DType t, Elements ref, Elements got, Elements scale, long n) {
        return compareWith(t, ref, got, n, (i, r, g) -> errorScaled(r, g, scale.at(i)));
    }

    /** Compares {@code n} elements of {@code got} with {@code ref}, both of type {@code t}. */
    public static Report compare(DType t, MemorySegment ref, MemorySegment got, long n) {
        return compare(t, i -> read(t, ref, i), i -> read(t, got, i), n);
    }

    /** Compares {@code got} (type {@code t}) with reference values kept in double. */
    public static Report compare(DType t, double[] ref, MemorySegment got) {
        return compare(t, i -> ref[(int) i], i -> read(t, got, i), ref.length);
    }

    /** Compares two arrays of results of type {@code t}. */
    public static Report compare(DType t, double[] ref, double[] got) {
        if (ref.length != got.length) {
            throw new IllegalArgumentException("reference has " + ref.length + " elements but the result has "
                    + got.length + "; compare outputs of the same shape");
        }
        return compare(t, i -> ref[(int) i], i -> got[(int) i], ref.length);
    }

    /** Element source for {@link #compare(DType, Elements, Elements, long)}. */
    @FunctionalInterface
    public interface Elements {
        double at(long i);
    }

    /** Compares element by element; the worst element is the first with the largest error. */
    public static Report compare(DType t, Elements ref, Elements got, long n) {
        return compareWith(t, ref, got, n, (i, r, g) -> error(r, g));
    }

    private interface Metric {
        double error(long i, double ref, double got);
    }

    private static Report compareWith(DType t, Elements ref, Elements got, long n, Metric metric) {
        double worst = -1.0;
        long worstIndex = -1;
        long failures = 0;
        double tol = tolerance(t);
        for (long i = 0; i < n; i++) {
            double e = metric.error(i, ref.at(i), got.at(i));
            if (e > tol) {
                failures++;
            }
            if (e > worst) {
                worst = e;
                worstIndex = i;
            }
        }
        if (worstIndex < 0) {
            return new Report(t, 0.0, -1, Double.NaN, Double.NaN, 0, n);
        }
        return new Report(t, worst, worstIndex, ref.at(worstIndex), got.at(worstIndex), failures, n);
    }

    /**
     * The outcome of a comparison.
     *
     * @param dtype      the results' type (sets the tolerance)
     * @param maxError   the largest per-element error (+inf for a NaN or infinity mismatch)
     * @param worstIndex where it occurred, -1 when there were no elements
     * @param worstRef   the reference value there
     * @param worstGot   the compared value there
     * @param failures   how many elements exceed the tolerance
     * @param count      how many elements were compared
     */
    public record Report(DType dtype, double maxError, long worstIndex, double worstRef, double worstGot,
                         long failures, long count) {

        public double tolerance() {
            return Accuracy.tolerance(dtype);
        }

        /** True when every element is within the tolerance of its dtype. */
        public boolean ok() {
            return failures == 0;
        }

        /** One line for a test failure or the CLI: the error, the tolerance, and the worst element. */
        public String describe() {
            if (worstIndex < 0) {
                return "no elements compared";
            }
            return String.format(Locale.ROOT, "%s: max error %.3g (tolerance %.0e) at element %d: expected %s, got %s;"
                            + " %d of %d elements out of tolerance",
                    dtype.numpyName(), maxError, tolerance(), worstIndex, str(worstRef), str(worstGot), failures, count);
        }

        private static String str(double v) {
            return Double.toString(v);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    private static double read(DType t, MemorySegment seg, long i) {
        return t == DType.F32 ? seg.getAtIndex(F32, i) : seg.getAtIndex(F64, i);
    }
}
