package dev.soma.fallback.vector;

import static dev.soma.fallback.vector.FMath.LOG2E;
import static dev.soma.fallback.vector.FMath.SHIFTER;
import static dev.soma.fallback.vector.FMath.SHIFTER_BITS;
import static dev.soma.fallback.vector.FMath.LN2_HI;
import static dev.soma.fallback.vector.FMath.LN2_LO;
import static dev.soma.fallback.vector.FMath.P0;
import static dev.soma.fallback.vector.FMath.P1;
import static dev.soma.fallback.vector.FMath.P2;
import static dev.soma.fallback.vector.FMath.P3;
import static dev.soma.fallback.vector.FMath.P4;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * e^(x - m) on float lanes for a softmax row whose maximum is m (finite, m >= every non-NaN x).
 * Knowing that the argument s = x - m is never positive makes this shorter than the general
 * float exp: no clamp at the top, and 2^k for k in [-126, 0] is one normal float built from
 * exponent bits (no second factor for k = 128).
 *
 * <p>Accuracy: s is rounded in float, an error up to half an ulp of |s| that exp turns into a
 * relative error of the same size (4.8e-7 at |s| near 11.6, where softmax is still 1e-5). The
 * rounding error r of s is recovered exactly (TwoSum) and folded back in as e^s (1 + r). The
 * polynomial is {@link FMath#expUpTo88}'s fit (3.1e-9 before rounding), with the same Cody-Waite
 * split of ln 2. Below s = -87 the result is 0 (e^-87 is still a normal float; denormal results would
 * cost a microcode assist per instruction); NaN gives NaN.
 */
final class ShiftedExp {
    // The constants (Cody-Waite split of ln 2, the shifter, the polynomial) are FMath's.
    /** Below this, e^s is flushed to 0. */
    private static final float FLUSH = -87f;

    private ShiftedExp() {
    }

    /** e^(x - m) per lane, for a finite row maximum m. */
    static FloatVector of(FloatVector x, float m) {
        FloatVector s = x.sub(m);
        // TwoSum: r is exactly (x - m) - s. Where s = -inf, r is NaN; those lanes are flushed below.
        FloatVector bb = s.sub(x);
        FloatVector r = x.sub(s.sub(bb)).sub(bb.add(m));
        if (FMath.SVML) {
            FloatVector e = s.lanewise(VectorOperators.EXP);
            return e.fma(r, e).blend(0f, s.compare(LT, FLUSH));
        }
        VectorMask<Float> under = s.compare(LT, FLUSH);
        FloatVector sc = s.blend(FLUSH, under);
        FloatVector t = sc.fma(LOG2E, SHIFTER);
        FloatVector k = t.sub(SHIFTER);
        FloatVector f = k.fma(FloatVector.broadcast(Lanes.F, -LN2_HI), sc);
        f = k.fma(FloatVector.broadcast(Lanes.F, -LN2_LO), f);
        // FMath.expUpTo88's shorter polynomial, evaluated as two fmas around it.
        FloatVector q = f.fma(P4, P3).fma(f, FloatVector.broadcast(Lanes.F, P2))
                .fma(f, FloatVector.broadcast(Lanes.F, P1)).fma(f, FloatVector.broadcast(Lanes.F, P0));
        FloatVector one = FloatVector.broadcast(Lanes.F, 1f);
        FloatVector p = f.fma(f.fma(q, one), one);
        // t's bits are SHIFTER_BITS + k; k + 127 in [1, 127] is a normal exponent.
        FloatVector scale = (FloatVector) ((IntVector) t.reinterpretAsInts()).add(127 - SHIFTER_BITS)
                .lanewise(LSHL, 23).reinterpretAsFloats();
        FloatVector e = p.mul(scale);
        return e.fma(r, e).blend(0f, under);
    }
}
