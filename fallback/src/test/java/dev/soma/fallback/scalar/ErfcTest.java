package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** erfc to 1e-15 relative against an independent 400-digit evaluation, over [-6, 27]. */
class ErfcTest {

    private static List<Double> points() {
        List<Double> xs = new ArrayList<>();
        for (double x = -6; x <= 27; x += 0.125) {
            xs.add(x);
        }
        // the method boundaries and their neighbours
        for (double b : new double[] {-0.5, 0.5}) {
            xs.add(Math.nextDown(b));
            xs.add(b);
            xs.add(Math.nextUp(b));
        }
        SplittableRandom rnd = new SplittableRandom(20261129);
        for (int i = 0; i < 150; i++) {
            xs.add(rnd.nextDouble(-6, 27));
        }
        for (int i = 0; i < 60; i++) {
            xs.add(rnd.nextDouble(-1, 3)); // where the continued fraction is deepest
        }
        xs.add(1e-300);
        xs.add(-1e-20);
        return xs;
    }

    @Test
    void erfcIsAccurateTo1e15RelativeOverMinus6To27() {
        double worst = 0;
        double worstX = Double.NaN;
        for (double x : points()) {
            double exact = BigMath.erfc(x);
            double got = Erfc.erfc(x);
            double err;
            if (Math.abs(exact) >= Double.MIN_NORMAL) {
                err = Math.abs(got - exact) / Math.abs(exact);
            } else {
                // subnormal results (x > 26.55) have fewer significant bits: allow 2 units of the last place
                err = Math.abs(got - exact) <= 2 * Double.MIN_VALUE ? 0 : 1;
            }
            if (err > worst) {
                worst = err;
                worstX = x;
            }
        }
        assertTrue(worst <= 1e-15, "worst relative error " + worst + " at x = " + worstX);
    }

    @Test
    void specialValues() {
        assertTrue(Double.isNaN(Erfc.erfc(Double.NaN)));
        assertEquals(0.0, Erfc.erfc(Double.POSITIVE_INFINITY));
        assertEquals(2.0, Erfc.erfc(Double.NEGATIVE_INFINITY));
        assertEquals(1.0, Erfc.erfc(0.0));
        assertEquals(1.0, Erfc.erfc(-0.0));
        assertEquals(0.0, Erfc.erfc(30));
        assertEquals(2.0, Erfc.erfc(-30));
        assertEquals(1.0, Erfc.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, Erfc.erf(Double.NEGATIVE_INFINITY));
    }

    @Test
    void erfAgreesWithTheIndependentEvaluation() {
        for (double x = -5; x <= 5; x += 0.0625) {
            // 1 - erfc in double carries up to 1.1e-16 absolute error of its own
            double exact = 1 - BigMath.erfc(x);
            assertEquals(exact, Erfc.erf(x), 4e-16 * Math.abs(exact) + 2.5e-16, "x = " + x);
        }
    }
}
