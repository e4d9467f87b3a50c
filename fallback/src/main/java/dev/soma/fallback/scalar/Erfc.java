package dev.soma.fallback.scalar;

/**
 * The complementary error function in double, accurate to a few ulps over the whole normal range
 * (Java has no erf/erfc). Written from the textbook series and continued fraction, not from a
 * coefficient table:
 * <ul>
 *   <li>|x| &lt; 1/2: {@code erfc = 1 - erf}, erf from its Maclaurin series
 *       {@code 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))} (Abramowitz and Stegun 7.1.5);
 *       the result is at least 0.47, so the subtraction loses nothing.</li>
 *   <li>x &ge; 1/2: Laplace's continued fraction (A&amp;S 7.1.14)
 *       {@code erfc x = exp(-x^2)/sqrt(pi) * 1/(x+ (1/2)/(x+ 1/(x+ (3/2)/(x+ ...))))},
 *       evaluated bottom-up (stable) from a depth that makes the truncation error below 1e-17;
 *       the truncation error shrinks like exp(-2 x sqrt(2n)), hence a depth of about 200/x^2.
 *       exp(-x^2) is taken as exp(-hi) * exp(-lo) with x^2 = hi + lo exactly (by fma), because the
 *       rounding of x^2 alone would cost up to 1e-13 relative at x = 27.</li>
 *   <li>x &le; -1/2: {@code erfc x = 2 - erfc(-x)}, at least 1.5, so again no cancellation.</li>
 * </ul>
 * The test {@code ErfcTest} checks it to 1e-15 relative against a 400-digit BigDecimal evaluation
 * of the (independent) everywhere-positive series over [-6, 27].
 */
public final class Erfc {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double ONE_OVER_SQRT_PI = 0.5641895835477563;
    /** Beyond this erfc(x) is below half the smallest subnormal double. */
    private static final double UNDERFLOW = 27.3;

    private Erfc() {
    }

    /** erfc(x) = 1 - erf(x); NaN for NaN, 0 at +inf, 2 at -inf. */
    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x >= 0.5) {
            return x > UNDERFLOW ? 0.0 : continuedFraction(x);
        }
        if (x > -0.5) {
            return 1.0 - erfSeries(x);
        }
        return x < -UNDERFLOW ? 2.0 : 2.0 - continuedFraction(-x);
    }

    /** erf(x), odd; accurate where |erf| is not close to 1 (enough for the reference's needs). */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (Math.abs(x) < 0.5) {
            return erfSeries(x);
        }
        double c = Math.abs(x) > UNDERFLOW ? 0.0 : continuedFraction(Math.abs(x));
        return Math.copySign(1.0 - c, x);
    }

    /** Maclaurin series of erf for |x| &lt; 1/2: terms fall by x^2 &lt;= 1/4 each step. */
    private static double erfSeries(double x) {
        double x2 = x * x;
        double power = x; // (-1)^n x^(2n+1) / n!
        double sum = x;
        for (int n = 1; n < 30; n++) {
            power *= -x2 / n;
            double term = power / (2 * n + 1);
            double next = sum + term;
            if (next == sum) {
                break;
            }
            sum = next;
        }
        return TWO_OVER_SQRT_PI * sum;
    }

    /** erfc for 1/2 &lt;= x &lt;= 27.3 by the continued fraction, with an exactly split exp(-x^2). */
    private static double continuedFraction(double x) {
        int depth = (int) Math.min(1000.0, 220.0 / (x * x)) + 12;
        double t = x;
        for (int k = depth; k >= 1; k--) {
            t = x + (0.5 * k) / t;
        }
        double hi = x * x;
        double lo = Math.fma(x, x, -hi); // x*x = hi + lo exactly
        // exp(-lo) = 1 - lo to within 1e-29. The tiny factor comes last so that only one rounding
        // happens where the result is subnormal.
        return Math.exp(-hi) * ((1.0 - lo) * ONE_OVER_SQRT_PI / t);
    }
}
