package dev.soma.fallback.scalar;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * erfc in arbitrary precision, independent of {@link Erfc}: the everywhere-convergent positive
 * series {@code erf x = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))}
 * (Abramowitz and Stegun 7.1.6), then {@code 1 - erf}, with enough digits to survive the
 * cancellation (erfc(27) is about 1e-319). Pi from Machin's formula, exp by halving and squaring.
 */
final class BigErfc {
    private BigErfc() {
    }

    /** erfc(x) correctly rounded to double (up to the last bit of a 30-digit margin). */
    static double erfc(double x) {
        int digits = 40 + (int) Math.ceil(x * x / Math.log(10));
        MathContext mc = new MathContext(digits + 10, RoundingMode.HALF_EVEN);
        BigDecimal bx = new BigDecimal(x);
        BigDecimal ax = bx.abs();
        BigDecimal x2 = ax.multiply(ax);
        // sum of 2^n x^(2n+1) / (2n+1)!!
        BigDecimal term = ax;
        BigDecimal sum = ax;
        BigDecimal twoX2 = x2.add(x2);
        BigDecimal eps = BigDecimal.ONE.movePointLeft(digits + 5);
        for (int n = 0; ; n++) {
            term = term.multiply(twoX2, mc).divide(BigDecimal.valueOf(2L * n + 3), mc);
            sum = sum.add(term, mc);
            if (n > 2 * x2.doubleValue() + 10 && term.compareTo(sum.multiply(eps, mc)) <= 0) {
                break;
            }
        }
        BigDecimal sqrtPi = pi(mc).sqrt(mc);
        BigDecimal erfAbs = sum.multiply(BigDecimal.valueOf(2), mc)
                .divide(sqrtPi.multiply(exp(x2, mc), mc), mc);
        BigDecimal erfc = x >= 0 ? BigDecimal.ONE.subtract(erfAbs, mc) : BigDecimal.ONE.add(erfAbs, mc);
        return erfc.doubleValue();
    }

    /** pi = 16 atan(1/5) - 4 atan(1/239). */
    static BigDecimal pi(MathContext mc) {
        return atanInverse(5, mc).multiply(BigDecimal.valueOf(16), mc)
                .subtract(atanInverse(239, mc).multiply(BigDecimal.valueOf(4), mc), mc);
    }

    private static BigDecimal atanInverse(int k, MathContext mc) {
        BigDecimal inv = BigDecimal.ONE.divide(BigDecimal.valueOf(k), mc);
        BigDecimal inv2 = inv.multiply(inv, mc);
        BigDecimal power = inv;
        BigDecimal sum = inv;
        BigDecimal eps = BigDecimal.ONE.movePointLeft(mc.getPrecision() + 2);
        for (int n = 1; power.compareTo(eps) > 0; n++) {
            power = power.multiply(inv2, mc);
            BigDecimal t = power.divide(BigDecimal.valueOf(2L * n + 1), mc);
            sum = (n % 2 == 1) ? sum.subtract(t, mc) : sum.add(t, mc);
        }
        return sum;
    }

    /** e^a for a &gt;= 0: Taylor series of e^(a/2^k) with a/2^k &lt; 1/2, squared k times. */
    static BigDecimal exp(BigDecimal a, MathContext outer) {
        int k = 0;
        BigDecimal r = a;
        while (r.compareTo(new BigDecimal("0.5")) > 0) {
            r = r.divide(BigDecimal.valueOf(2));
            k++;
        }
        MathContext mc = new MathContext(outer.getPrecision() + k + 10, RoundingMode.HALF_EVEN);
        BigDecimal term = BigDecimal.ONE;
        BigDecimal sum = BigDecimal.ONE;
        BigDecimal eps = BigDecimal.ONE.movePointLeft(mc.getPrecision() + 2);
        for (int n = 1; term.compareTo(eps) > 0; n++) {
            term = term.multiply(r, mc).divide(BigDecimal.valueOf(n), mc);
            sum = sum.add(term, mc);
        }
        for (int i = 0; i < k; i++) {
            sum = sum.multiply(sum, mc);
        }
        return sum.round(outer);
    }
}
