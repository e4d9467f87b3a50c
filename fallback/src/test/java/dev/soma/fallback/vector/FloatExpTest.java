package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The float-lane exponentials against StrictMath on a dense sweep of floats (every 256th float bit
 * pattern of each sign, about 16 million values, every binade): e^x below 2 float ulps (1.5e-7
 * relative) where e^x is a normal float, e^x - 1 below 3e-7 relative; the short form for x <= 0 no
 * worse than the general one. Limits and NaN as the contract wants.
 */
class FloatExpTest {
    private static final int L = Lanes.F.length();

    @Test
    void expm1NonPositiveIsAsAccurateAsExpm1() {
        double worstShort = sweep(FMath::expm1NonPositive, true, StrictMath::expm1);
        double worstGeneral = sweep(FMath::expm1, true, StrictMath::expm1);
        assertTrue(worstShort <= 3e-7, "expm1NonPositive worst relative error " + worstShort);
        assertTrue(worstShort <= worstGeneral * 1.01, "short form " + worstShort + " vs general " + worstGeneral);
    }

    @Test
    void expUpTo88() {
        double worst = Math.max(sweep(FMath::expUpTo88, true, StrictMath::exp, -87f),
                sweep(x -> FMath.expUpTo88(x.blend(88f, x.compare(jdk.incubator.vector.VectorOperators.GT, 88f))),
                        false, v -> StrictMath.exp(Math.min(v, 88f))));
        assertTrue(worst <= 1.5e-7, "expUpTo88 worst relative error " + worst);
        assertEquals((float) StrictMath.exp(88), FMath.expUpTo88(FloatVector.broadcast(Lanes.F, 88f)).lane(0), 2e-7 * StrictMath.exp(88));
        for (float x : new float[] {-87.01f, -100f, Float.NEGATIVE_INFINITY}) {
            assertEquals(0f, FMath.expUpTo88(FloatVector.broadcast(Lanes.F, x)).lane(0), "e^" + x);
        }
        assertEquals(1f, FMath.expUpTo88(FloatVector.broadcast(Lanes.F, -0f)).lane(0));
        assertTrue(Float.isNaN(FMath.expUpTo88(FloatVector.broadcast(Lanes.F, Float.NaN)).lane(0)));
        // A NaN with payload bits: the exponent-field add must not turn it into a number.
        for (int bits : new int[] {0x7FC00123, 0xFFC7FFFF, 0x7F800001}) {
            float nan = Float.intBitsToFloat(bits);
            assertTrue(Float.isNaN(FMath.expUpTo88(FloatVector.broadcast(Lanes.F, nan)).lane(0)), Integer.toHexString(bits));
        }
    }

    @Test
    void tableAndPolynomialFormsBothWithinTwoUlps() {
        double polynomial = Math.max(sweep(FMath::expByPolynomial, true, StrictMath::exp, -87f),
                sweep(FMath::expByPolynomial, false, StrictMath::exp));
        assertTrue(polynomial <= 1.5e-7, "expByPolynomial worst relative error " + polynomial);
        assumeTrue(FMath.TABLE_EXP, "the table form needs 16 float lanes; this machine has " + L);
        double table = Math.max(sweep(FMath::expByTable, true, StrictMath::exp, -87f),
                sweep(FMath::expByTable, false, StrictMath::exp));
        // The table form rounds once at the end: it is held to better than the polynomial's bound.
        assertTrue(table <= 1e-7, "expByTable worst relative error " + table);
    }

    @Test
    void expOfNegativeCarriesTheLowPartOfItsArgument() {
        // h + l as a float pair (l far below h's ulp would be lost in a plain float sum): the truth
        // is e^-(c (h + l)) in double. Both forms, both constants; arguments up to 87 / c.
        java.util.Random random = new java.util.Random(20261129);
        float[] h = new float[L];
        float[] l = new float[L];
        float[] got = new float[L];
        float[] gotPolynomial = new float[L];
        for (float c : new float[] {1f, 0.5f}) {
            double worst = 0;
            double worstPolynomial = 0;
            for (int round = 0; round < 200_000 / L; round++) {
                for (int i = 0; i < L; i++) {
                    h[i] = (float) (random.nextDouble() * 87 / c);
                    l[i] = (float) ((random.nextDouble() - 0.5) * Math.ulp(h[i]));
                }
                FloatVector hv = FloatVector.fromArray(Lanes.F, h, 0);
                FloatVector lv = FloatVector.fromArray(Lanes.F, l, 0);
                FMath.expOfNegative(hv, lv, c).intoArray(got, 0);
                FMath.expOfNegativeByPolynomial(hv, lv, c).intoArray(gotPolynomial, 0);
                for (int i = 0; i < L; i++) {
                    double truth = StrictMath.exp(-c * ((double) h[i] + l[i]));
                    worst = Math.max(worst, Math.abs(got[i] - truth) / truth);
                    worstPolynomial = Math.max(worstPolynomial, Math.abs(gotPolynomial[i] - truth) / truth);
                }
            }
            assertTrue(worst <= 1.5e-7, "c = " + c + ": worst relative error " + worst);
            assertTrue(worstPolynomial <= 1.5e-7, "c = " + c + ": polynomial form's worst relative error " + worstPolynomial);
        }
    }

    @Test
    void expm1BothSigns() {
        assertTrue(sweep(FMath::expm1, true, StrictMath::expm1) <= 3e-7);
        assertTrue(sweep(FMath::expm1, false, StrictMath::expm1) <= 3e-7);
    }

    @Test
    void expBelow89OnNegativeArguments() {
        // Below -86.6 the result is flushed to 0 by design (no denormal is ever formed): an absolute
        // error under 2.6e-38, checked with the limits; the sweep stops there.
        double worst = sweep(FMath::expBelow89, true, StrictMath::exp, -86.6f);
        assertTrue(worst <= 1.5e-7, "expBelow89 worst relative error " + worst);
        for (float x : new float[] {-86.7f, -100f, Float.NEGATIVE_INFINITY}) {
            assertEquals(0f, FMath.expBelow89(FloatVector.broadcast(Lanes.F, x)).lane(0), "e^" + x);
        }
    }

    @Test
    void expm1NonPositiveLimits() {
        float[] in = {Float.NaN, Float.NEGATIVE_INFINITY, -0f, 0f, -87f, -87.5f, -200f, -1e-30f, -Float.MIN_VALUE};
        float[] want = {Float.NaN, -1f, -0f, 0f, (float) StrictMath.expm1(-87), -1f, -1f, -1e-30f, -Float.MIN_VALUE};
        for (int i = 0; i < in.length; i++) {
            float got = FMath.expm1NonPositive(FloatVector.broadcast(Lanes.F, in[i])).lane(0);
            if (Float.isNaN(want[i])) {
                assertTrue(Float.isNaN(got), "expm1(NaN) = " + got);
            } else {
                assertEquals(want[i], got, Math.abs(want[i]) * 3e-7, "expm1(" + in[i] + ")");
            }
        }
    }

    /** Worst relative error (absolute where the truth is below the smallest normal float) over the sweep. */
    private static double sweep(UnaryOperator<FloatVector> f, boolean negative, java.util.function.DoubleUnaryOperator truth) {
        return sweep(f, negative, truth, Float.NEGATIVE_INFINITY);
    }

    /** As above, over arguments of at least {@code lowest}. */
    private static double sweep(UnaryOperator<FloatVector> f, boolean negative, java.util.function.DoubleUnaryOperator truth,
                                float lowest) {
        float[] in = new float[L];
        float[] out = new float[L];
        double worst = 0;
        int sign = negative ? 0x80000000 : 0;
        int top = Float.floatToRawIntBits(88f);
        for (int bits = 0; bits < top; bits += 256 * L) {
            for (int l = 0; l < L; l++) {
                in[l] = Float.intBitsToFloat(sign | Math.min(top, bits + 256 * l));
            }
            f.apply(FloatVector.fromArray(Lanes.F, in, 0)).intoArray(out, 0);
            for (int l = 0; l < L; l++) {
                if (in[l] < lowest) {
                    continue;
                }
                double t = truth.applyAsDouble(in[l]);
                double err = Math.abs(out[l] - t) / Math.max(Math.abs(t), 0x1p-126);
                worst = Math.max(worst, err);
            }
        }
        return worst;
    }
}
