package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.LT;

import jdk.incubator.vector.FloatVector;

/**
 * e^(x - m) on float lanes for a softmax row whose maximum is m (finite, m >= every non-NaN x):
 * {@link FMath#expUpTo88} of s = x - m (never positive), corrected for the rounding of s.
 *
 * <p>Accuracy: s is rounded in float, an error up to half an ulp of |s| that exp turns into a
 * relative error of the same size (4.8e-7 at |s| near 11.6, where softmax is still 1e-5). The
 * rounding error r of s is recovered exactly (TwoSum) and folded back in as e^s (1 + r). Below
 * s = -87 the result is 0 (e^-87 is still a normal float; denormal results would cost a microcode
 * assist per instruction); NaN gives NaN.
 */
final class ShiftedExp {
    /** Below this, e^s is flushed to 0 (expUpTo88's own flush point). */
    private static final float FLUSH = -87f;

    private ShiftedExp() {
    }

    /** e^(x - m) per lane, for a finite row maximum m. */
    static FloatVector of(FloatVector x, float m) {
        FloatVector s = x.sub(m);
        // TwoSum: r is exactly (x - m) - s. Where s = -inf, r is NaN; those lanes are flushed below.
        FloatVector bb = s.sub(x);
        FloatVector r = x.sub(s.sub(bb)).sub(bb.add(m));
        // FMath.expUpTo88 (or SVML's exp) flushes s below FLUSH to 0 as well; the blend after the
        // correction keeps those lanes 0 where r is NaN (s = -inf).
        FloatVector e = FMath.expUpTo88(s);
        return e.fma(r, e).blend(0f, s.compare(LT, FLUSH));
    }
}
