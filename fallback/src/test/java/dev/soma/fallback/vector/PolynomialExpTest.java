package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.DoubleVector;
import org.junit.jupiter.api.Test;

/**
 * Our own polynomial exp and expm1
 * (the default since issue #8: SVML is opt-in with -Dsoma.cpu.svml=true) are checked here directly against
 * StrictMath: full accuracy within 1e-15 (a few ulps), lite within 1e-12, limits and NaN as the contract wants.
 */
class PolynomialExpTest {

    @Test
    void expAndExpm1MatchStrictMath() {
        SplittableRandom r = new SplittableRandom(11);
        int lanes = Lanes.D.length();
        double[] in = new double[lanes];
        double[] out = new double[lanes];
        double worstFull = 0;
        double worstLite = 0;
        for (int it = 0; it < 20000; it++) {
            for (int l = 0; l < lanes; l++) {
                in[l] = switch (it % 4) {
                    case 0 -> r.nextDouble(-1, 1);
                    case 1 -> r.nextDouble(-750, 712);
                    case 2 -> r.nextDouble(-1e-6, 1e-6);
                    default -> r.nextDouble(-40, 40);
                };
            }
            DoubleVector x = DoubleVector.fromArray(Lanes.D, in, 0);
            for (boolean lite : new boolean[] {false, true}) {
                DMath.expPolynomial(x, lite).intoArray(out, 0);
                for (int l = 0; l < lanes; l++) {
                    double e = error(StrictMath.exp(in[l]), out[l]);
                    if (lite) {
                        worstLite = Math.max(worstLite, e);
                    } else {
                        worstFull = Math.max(worstFull, e);
                    }
                }
                DMath.expm1Polynomial(x, lite).intoArray(out, 0);
                for (int l = 0; l < lanes; l++) {
                    double e = error(StrictMath.expm1(in[l]), out[l]);
                    if (lite) {
                        worstLite = Math.max(worstLite, e);
                    } else {
                        worstFull = Math.max(worstFull, e);
                    }
                }
            }
        }
        assertTrue(worstFull <= 1e-15, "full polynomial worst relative error " + worstFull);
        assertTrue(worstLite <= 1e-12, "lite polynomial worst relative error " + worstLite);
    }

    @Test
    void limitsAndNaN() {
        double[] in = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 709.79, -746, 710, -1e300};
        double[] exp = {Double.NaN, Double.POSITIVE_INFINITY, 0, 1, 1, Double.POSITIVE_INFINITY, 0, Double.POSITIVE_INFINITY, 0};
        double[] expm1 = {Double.NaN, Double.POSITIVE_INFINITY, -1, 0, 0, Double.POSITIVE_INFINITY, -1, Double.POSITIVE_INFINITY, -1};
        int lanes = Lanes.D.length();
        for (int i = 0; i < in.length; i++) {
            double[] v = new double[lanes];
            java.util.Arrays.fill(v, in[i]);
            DoubleVector x = DoubleVector.fromArray(Lanes.D, v, 0);
            for (boolean lite : new boolean[] {false, true}) {
                double e = DMath.expPolynomial(x, lite).lane(0);
                double m = DMath.expm1Polynomial(x, lite).lane(0);
                assertTrue(Double.compare(e, exp[i]) == 0 || e == exp[i], "exp(" + in[i] + ") = " + e);
                assertTrue(Double.compare(m, expm1[i]) == 0 || m == expm1[i], "expm1(" + in[i] + ") = " + m);
            }
        }
    }

    private static double error(double ref, double got) {
        if (Double.isInfinite(ref) || ref == 0) {
            return ref == got ? 0 : Double.POSITIVE_INFINITY;
        }
        if (Math.abs(ref) < Double.MIN_NORMAL * 4) {
            return Math.abs(ref - got) / Double.MIN_NORMAL; // subnormal results: absolute, in units of the smallest normal
        }
        return Math.abs(got - ref) / Math.abs(ref);
    }
}
