package dev.soma.fallback.scalar;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Elementary functions in arbitrary precision, written independently of the code under test:
 * exp by halving and squaring a Taylor series, log by 2 atanh((y-1)/(y+1)) after scaling by
 * powers of two, pi by Machin's formula, and erfc by the everywhere-positive series
 * {@code erf x = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))}
 * (Abramowitz and Stegun 7.1.6) followed by {@code 1 - erf} with enough digits to survive the
 * cancellation (erfc(27) is about 1e-319).
 */
final class BigMath {
    private static final BigDecimal TWO = BigDecimal.valueOf(2);

    private BigMath() {
    }

    static MathContext digits(int d) {
        return new MathContext(d, RoundingMode.HALF_EVEN);
    }

    /** erfc(x) correctly rounded to double (up to a 30-digit margin). */
    static double erfc(double x) {
        int digits = 40 + (int) Math.ceil(x * x / Math.log(10));
        return erfc(new BigDecimal(x), digits(digits + 10)).doubleValue();
    }

    /** erfc(x) to about {@code mc}'s precision minus x^2/ln 10 digits (the cancellation in 1 - erf). */
    static BigDecimal erfc(BigDecimal x, MathContext mc) {
        BigDecimal ax = x.abs();
        BigDecimal x2 = ax.multiply(ax, mc);
        BigDecimal term = ax;
        BigDecimal sum = ax;
        BigDecimal twoX2 = x2.add(x2);
        BigDecimal eps = BigDecimal.ONE.movePointLeft(mc.getPrecision() - 5);
        for (int n = 0; ; n++) {
            term = term.multiply(twoX2, mc).divide(BigDecimal.valueOf(2L * n + 3), mc);
            sum = sum.add(term, mc);
            if (n > 2 * x2.doubleValue() + 10 && term.compareTo(sum.multiply(eps, mc)) <= 0) {
                break;
            }
        }
        BigDecimal sqrtPi = pi(mc).sqrt(mc);
        BigDecimal erfAbs = sum.multiply(TWO, mc).divide(sqrtPi.multiply(exp(x2, mc), mc), mc);
        return x.signum() >= 0 ? BigDecimal.ONE.subtract(erfAbs, mc) : BigDecimal.ONE.add(erfAbs, mc);
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

    /** e^a for any a: Taylor series of e^(|a|/2^k) with |a|/2^k &lt;= 1/2, squared k times, inverted for a &lt; 0. */
    static BigDecimal exp(BigDecimal a, MathContext outer) {
        if (a.signum() < 0) {
            MathContext mc = digits(outer.getPrecision() + 5);
            return BigDecimal.ONE.divide(exp(a.negate(), mc), outer);
        }
        int k = 0;
        BigDecimal r = a;
        BigDecimal half = new BigDecimal("0.5");
        while (r.compareTo(half) > 0) {
            r = r.divide(TWO);
            k++;
        }
        MathContext mc = digits(outer.getPrecision() + k + 10);
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

    /** Natural log of y &gt; 0: y = m 2^k with m in [2/3, 4/3], log m = 2 atanh((m-1)/(m+1)). */
    static BigDecimal log(BigDecimal y, MathContext outer) {
        if (y.signum() <= 0) {
            throw new IllegalArgumentException("log of " + y);
        }
        MathContext mc = digits(outer.getPrecision() + 10);
        int k = 0;
        BigDecimal m = y;
        BigDecimal lo = new BigDecimal("0.6666666666");
        BigDecimal hi = new BigDecimal("1.3333333333");
        while (m.compareTo(hi) > 0) {
            m = m.divide(TWO);
            k++;
        }
        while (m.compareTo(lo) < 0) {
            m = m.multiply(TWO);
            k--;
        }
        BigDecimal result = atanhLog(m, mc);
        if (k != 0) {
            BigDecimal ln2 = atanhLog(TWO, mc); // 2 atanh(1/3)
            result = result.add(ln2.multiply(BigDecimal.valueOf(k), mc), mc);
        }
        return result.round(outer);
    }

    private static BigDecimal atanhLog(BigDecimal m, MathContext mc) {
        BigDecimal z = m.subtract(BigDecimal.ONE).divide(m.add(BigDecimal.ONE), mc);
        BigDecimal z2 = z.multiply(z, mc);
        BigDecimal power = z;
        BigDecimal sum = z;
        BigDecimal eps = BigDecimal.ONE.movePointLeft(mc.getPrecision() + 2);
        for (int n = 1; power.abs().compareTo(eps) > 0; n++) {
            power = power.multiply(z2, mc);
            sum = sum.add(power.divide(BigDecimal.valueOf(2L * n + 1), mc), mc);
        }
        return sum.multiply(TWO, mc);
    }
}
