package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.Accuracy;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reference's own accuracy in float64: every elementwise forward and derivative against the
 * textbook definitions evaluated in 60+ digit BigDecimal (no expm1, no stable rewrites: the digits
 * absorb the cancellation). Measured with rule 5's metric, bound 1e-14; where |f'| &lt; 1e-3 (near a
 * zero of f' away from 0, where rule 5 amplifies an absolute 1e-16 by up to 1e5, hence Accuracy's
 * float64 tolerance) an absolute error of 2e-16 is accepted instead.
 */
class HighPrecisionTest {
    private static final BigDecimal HALF = new BigDecimal("0.5");
    private static final BigDecimal TWO = BigDecimal.valueOf(2);
    private static final BigDecimal SIX = BigDecimal.valueOf(6);

    static Stream<OpArgs> ops() {
        Stream<OpArgs> defaults = Arrays.stream(Op.values()).filter(o -> o.family() == Family.ELEMENTWISE)
                .map(Op::defaults);
        return Stream.concat(defaults, Stream.of(OpArgs.of(Op.ELU).withAlpha(-0.7), OpArgs.of(Op.CELU).withAlpha(2.5),
                OpArgs.of(Op.CELU).withAlpha(-1.5), OpArgs.of(Op.SOFTPLUS).withBeta(3).withThreshold(15),
                OpArgs.of(Op.LEAKY_RELU).withAlpha(-0.2)));
    }

    private static double range(Op op) {
        return switch (op) {
            case GELU, GELU_TANH -> 12;
            case HARDSIGMOID, HARDSWISH -> 5;
            case RELU6 -> 8;
            default -> 30;
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void float64ReferenceIsAccurate(OpArgs a) {
        double r = range(a.op());
        SplittableRandom rnd = new SplittableRandom(a.op().ordinal());
        double[] xs = new double[260];
        for (int i = 0; i < 200; i++) {
            xs[i] = -r + 2 * r * i / 199.0 + 1e-3;
        }
        for (int i = 200; i < 240; i++) {
            xs[i] = rnd.nextDouble(-2, 2);
        }
        for (int i = 240; i < 260; i++) {
            xs[i] = Math.copySign(Math.pow(10, rnd.nextDouble(-12, -1)), rnd.nextDouble(-1, 1));
        }
        double worstF = 0;
        double worstD = 0;
        String atF = "";
        String atD = "";
        for (double x : xs) {
            int extra = (int) Math.max(0, -Math.log10(Math.abs(x))) + (int) (x * x / 4.6) + (int) Math.abs(x);
            MathContext mc = BigMath.digits(60 + extra);
            BigDecimal[] exact = exact(a, new BigDecimal(x), mc);
            double ef = Accuracy.error(exact[0].doubleValue(), ElementMath.forward(a, x));
            double exactD = exact[1].doubleValue();
            double gotD = ElementMath.backward(a, x, 1.0);
            double ed = Accuracy.error(exactD, gotD);
            if (Math.abs(exactD) < 1e-3 && Math.abs(gotD - exactD) <= 2e-16) {
                // small f' (near a zero of f', or a tail) is the difference of O(1) terms: a few ulps of
                // those terms in absolute error is the most any double evaluation can promise
                ed = 0;
            }
            if (ef > worstF) {
                worstF = ef;
                atF = "x = " + x + ": exact " + exact[0].doubleValue() + ", reference " + ElementMath.forward(a, x);
            }
            if (ed > worstD) {
                worstD = ed;
                atD = "x = " + x + ": exact " + exactD + ", reference " + gotD;
            }
        }
        System.out.printf("%-40s forward %.2e  derivative %.2e%n", a, worstF, worstD);
        assertTrue(worstF <= 1e-14, a + " forward: error " + worstF + " at " + atF);
        assertTrue(worstD <= 1e-14, a + " derivative: error " + worstD + " at " + atD);
    }

    /** {f(x), f'(x)} from the definitions. */
    private static BigDecimal[] exact(OpArgs a, BigDecimal x, MathContext mc) {
        BigDecimal one = BigDecimal.ONE;
        BigDecimal alpha = new BigDecimal(a.alpha() == a.alpha() ? a.alpha() : 0);
        boolean pos = x.signum() > 0;
        switch (a.op()) {
            case SIGMOID -> {
                BigDecimal s = sigmoid(x, mc);
                return new BigDecimal[] {s, s.multiply(one.subtract(s), mc)};
            }
            case TANH -> {
                BigDecimal t = tanh(x, mc);
                return new BigDecimal[] {t, one.subtract(t.multiply(t, mc), mc)};
            }
            case RELU -> {
                return new BigDecimal[] {pos ? x : BigDecimal.ZERO, pos ? one : BigDecimal.ZERO};
            }
            case LEAKY_RELU -> {
                return new BigDecimal[] {pos ? x : alpha.multiply(x, mc), pos ? one : alpha};
            }
            case ELU -> {
                BigDecimal e = BigMath.exp(x, mc);
                return new BigDecimal[] {pos ? x : alpha.multiply(e.subtract(one), mc), pos ? one : alpha.multiply(e, mc)};
            }
            case CELU -> {
                BigDecimal e = BigMath.exp(x.divide(alpha, mc), mc);
                return new BigDecimal[] {pos ? x : alpha.multiply(e.subtract(one), mc), pos ? one : e};
            }
            case SELU -> {
                BigDecimal l = new BigDecimal(Op.SELU_SCALE);
                BigDecimal la = l.multiply(new BigDecimal(Op.SELU_ALPHA), mc);
                BigDecimal e = BigMath.exp(x, mc);
                return new BigDecimal[] {pos ? l.multiply(x, mc) : la.multiply(e.subtract(one), mc),
                    pos ? l : la.multiply(e, mc)};
            }
            case GELU -> {
                BigDecimal sqrt2 = TWO.sqrt(mc);
                BigDecimal cdf = HALF.multiply(BigMath.erfc(x.negate().divide(sqrt2, mc), mc), mc);
                BigDecimal pdf = BigMath.exp(x.multiply(x, mc).multiply(HALF).negate(), mc)
                        .divide(TWO.multiply(BigMath.pi(mc), mc).sqrt(mc), mc);
                return new BigDecimal[] {x.multiply(cdf, mc), cdf.add(x.multiply(pdf, mc), mc)};
            }
            case GELU_TANH -> {
                BigDecimal k = TWO.divide(BigMath.pi(mc), mc).sqrt(mc);
                BigDecimal c = new BigDecimal("0.044715");
                BigDecimal x3 = x.multiply(x, mc).multiply(x, mc);
                BigDecimal u = k.multiply(x.add(c.multiply(x3, mc), mc), mc);
                BigDecimal t = tanh(u, mc);
                BigDecimal du = k.multiply(one.add(c.multiply(BigDecimal.valueOf(3)).multiply(x.multiply(x, mc), mc)), mc);
                BigDecimal f = HALF.multiply(x, mc).multiply(one.add(t), mc);
                BigDecimal d = HALF.multiply(one.add(t), mc)
                        .add(HALF.multiply(x, mc).multiply(one.subtract(t.multiply(t, mc)), mc).multiply(du, mc), mc);
                return new BigDecimal[] {f, d};
            }
            case SILU -> {
                BigDecimal s = sigmoid(x, mc);
                return new BigDecimal[] {x.multiply(s, mc),
                    s.add(x.multiply(s, mc).multiply(one.subtract(s), mc), mc)};
            }
            case SOFTPLUS -> {
                BigDecimal beta = new BigDecimal(a.beta());
                BigDecimal bx = beta.multiply(x, mc);
                if (bx.compareTo(new BigDecimal(a.threshold())) > 0) {
                    return new BigDecimal[] {x, one};
                }
                BigDecimal sp = log1p(BigMath.exp(bx, mc), mc).divide(beta, mc);
                return new BigDecimal[] {sp, sigmoid(bx, mc)};
            }
            case MISH -> {
                BigDecimal e = BigMath.exp(x, mc);
                BigDecimal q = one.add(e).pow(2, mc); // e^(2 softplus)
                BigDecimal t = q.subtract(one).divide(q.add(one), mc);
                BigDecimal sech2 = one.subtract(t.multiply(t, mc), mc);
                return new BigDecimal[] {x.multiply(t, mc),
                    t.add(x.multiply(sech2, mc).multiply(sigmoid(x, mc), mc), mc)};
            }
            case RELU6 -> {
                boolean inside = pos && x.compareTo(SIX) < 0;
                return new BigDecimal[] {pos ? x.min(SIX) : BigDecimal.ZERO, inside ? one : BigDecimal.ZERO};
            }
            case HARDSIGMOID -> {
                BigDecimal three = BigDecimal.valueOf(3);
                boolean inside = x.abs().compareTo(three) < 0;
                BigDecimal v = x.divide(SIX, mc).add(HALF).max(BigDecimal.ZERO).min(one);
                return new BigDecimal[] {v, inside ? one.divide(SIX, mc) : BigDecimal.ZERO};
            }
            case HARDSWISH -> {
                BigDecimal three = BigDecimal.valueOf(3);
                BigDecimal v = x.add(three).max(BigDecimal.ZERO).min(SIX).multiply(x, mc).divide(SIX, mc);
                BigDecimal d = x.compareTo(three.negate()) < 0 ? BigDecimal.ZERO
                        : x.compareTo(three) <= 0 ? x.multiply(TWO).add(three).divide(SIX, mc) : one;
                return new BigDecimal[] {v, d};
            }
            default -> throw new IllegalArgumentException(a.op() + " is not elementwise");
        }
    }

    private static BigDecimal sigmoid(BigDecimal x, MathContext mc) {
        return BigDecimal.ONE.divide(BigDecimal.ONE.add(BigMath.exp(x.negate(), mc)), mc);
    }

    private static BigDecimal tanh(BigDecimal x, MathContext mc) {
        BigDecimal e = BigMath.exp(x.multiply(TWO), mc);
        return e.subtract(BigDecimal.ONE).divide(e.add(BigDecimal.ONE), mc);
    }

    /** log(1 + t) for t &gt;= 0, by its series when t is tiny (where 1 + t would drop t's digits). */
    private static BigDecimal log1p(BigDecimal t, MathContext mc) {
        if (t.compareTo(new BigDecimal("1e-12")) < 0) {
            return t.subtract(t.multiply(t, mc).multiply(HALF), mc)
                    .add(t.pow(3, mc).divide(BigDecimal.valueOf(3), mc), mc);
        }
        return BigMath.log(BigDecimal.ONE.add(t), mc);
    }
}
