package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Parameters at their edges, kink subgradients, near-zero accuracy and honest overflow. */
class ParameterEdgesTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double LAMBDA = Op.SELU_SCALE;
    private static final double LAMBDA_ALPHA = Op.SELU_SCALE * Op.SELU_ALPHA;
    private final ScalarKernels k = new ScalarKernels();

    /** Forward, with -0 read as +0 (the sign of a zero is not part of the contract). */
    private static double f(OpArgs a, double x) {
        return ElementMath.forward(a, x) + 0.0;
    }

    private static double d(OpArgs a, double x) {
        return ElementMath.backward(a, x, 1.0) + 0.0;
    }

    @Test
    void leakyReluAlphaZeroOneNegative() {
        OpArgs zero = OpArgs.of(Op.LEAKY_RELU).withAlpha(0);
        assertEquals(0.0, f(zero, -5));
        assertEquals(0.0, f(zero, -INF), "0 * -inf is the limit 0, not NaN");
        assertEquals(0.0, d(zero, -5));
        assertEquals(2.0, f(zero, 2));
        OpArgs one = OpArgs.of(Op.LEAKY_RELU).withAlpha(1);
        assertEquals(-5.0, f(one, -5));
        assertEquals(1.0, d(one, -5));
        assertEquals(-INF, f(one, -INF));
        OpArgs neg = OpArgs.of(Op.LEAKY_RELU).withAlpha(-0.5);
        assertEquals(1.0, f(neg, -2));
        assertEquals(INF, f(neg, -INF));
        assertEquals(-0.5, d(neg, -2));
        assertEquals(-0.5, d(neg, 0), "the kink takes alpha");
    }

    @Test
    void eluAlphaZeroOneNegative() {
        OpArgs zero = OpArgs.of(Op.ELU).withAlpha(0);
        assertEquals(0.0, f(zero, -5));
        assertEquals(0.0, f(zero, -INF));
        assertEquals(0.0, d(zero, -5));
        assertEquals(0.0, d(zero, 0), "elu'(0) = alpha");
        OpArgs one = Op.ELU.defaults();
        assertEquals(-1.0, f(one, -INF));
        assertEquals(1.0, d(one, 0));
        OpArgs neg = OpArgs.of(Op.ELU).withAlpha(-0.7);
        assertEquals(0.7, f(neg, -INF));
        assertEquals(-0.7 * Math.expm1(-2), f(neg, -2), 1e-16);
        assertEquals(-0.7 * Math.exp(-2), d(neg, -2), 1e-16);
        assertEquals(-0.7, d(neg, 0));
    }

    @ParameterizedTest(name = "x = {0}")
    @ValueSource(doubles = {-1e-8, -1e-12, -1e-20, -1e-300, -4.9e-324, -1e-4})
    void eluNearZeroFromBelowIsAccurate(double x) {
        // expm1(x) = x + x^2/2 + x^3/6 + ..., exact enough for |x| <= 1e-4 with four terms
        double want = x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24;
        double got = f(Op.ELU.defaults(), x);
        assertTrue(Math.abs(got - want) <= 2e-16 * Math.abs(want), "elu(" + x + ") = " + got + ", want " + want);
        assertEquals(Math.exp(x), d(Op.ELU.defaults(), x));
        double selu = f(Op.SELU.defaults(), x);
        assertTrue(Math.abs(selu - LAMBDA_ALPHA * want) <= 4e-16 * Math.abs(LAMBDA_ALPHA * want), "selu(" + x + ")");
    }

    @Test
    void celuAlphaZeroIsRefusedWithAClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpArgs.of(Op.CELU).withAlpha(0));
        assertTrue(e.getMessage().contains("celu") && e.getMessage().contains("non-zero"), e.getMessage());
    }

    @Test
    void celuAlphaOneTwoNegative() {
        OpArgs one = Op.CELU.defaults();
        assertEquals(f(Op.ELU.defaults(), -2.5), f(one, -2.5), 0, "celu(1) is elu(1)");
        assertEquals(1.0, d(one, 0), "celu'(0) = 1");
        OpArgs two = OpArgs.of(Op.CELU).withAlpha(2);
        assertEquals(2 * Math.expm1(-1.5), f(two, -3), 1e-16);
        assertEquals(-2.0, f(two, -INF));
        assertEquals(Math.exp(-1.5), d(two, -3), 1e-16);
        OpArgs neg = OpArgs.of(Op.CELU).withAlpha(-1.5);
        assertEquals(-1.5 * Math.expm1(2.0), f(neg, -3), 1e-14);
        assertEquals(Math.exp(2.0), d(neg, -3), 1e-14);
        assertEquals(-INF, f(neg, -INF));
        assertEquals(4.0, f(neg, 4.0), "x for x > 0 whatever alpha's sign");
        // alpha*(e^(x/alpha) - 1) finite although e^(x/alpha) alone overflows: x/alpha = 711
        OpArgs tiny = OpArgs.of(Op.CELU).withAlpha(-1e-5);
        double y = f(tiny, -711e-5);
        assertTrue(Double.isFinite(y) && y < 0, "celu(-1e-5) at x/alpha = 711 is finite, got " + y);
        double logExpected = (-711e-5 / -1e-5) + Math.log(1e-5);
        assertEquals(logExpected, Math.log(-y), 1e-12 * logExpected);
    }

    @Test
    void kinkSubgradientsFollowPyTorch() {
        assertEquals(0.0, d(Op.RELU.defaults(), 0));
        assertEquals(0.01, d(Op.LEAKY_RELU.defaults(), 0));
        assertEquals(0.0, d(Op.RELU6.defaults(), 0));
        assertEquals(0.0, d(Op.RELU6.defaults(), 6));
        assertEquals(1.0, d(Op.RELU6.defaults(), Math.nextDown(6.0)));
        assertEquals(0.0, d(Op.HARDSIGMOID.defaults(), -3));
        assertEquals(0.0, d(Op.HARDSIGMOID.defaults(), 3));
        assertEquals(1.0 / 6, d(Op.HARDSIGMOID.defaults(), Math.nextUp(-3.0)));
        assertEquals(1.0 / 6, d(Op.HARDSIGMOID.defaults(), Math.nextDown(3.0)));
        // PyTorch: x < -3 -> 0, x <= 3 -> x/3 + 1/2, else 1: the middle branch owns both kinks
        assertEquals(-0.5, d(Op.HARDSWISH.defaults(), -3));
        assertEquals(1.5, d(Op.HARDSWISH.defaults(), 3));
        assertEquals(0.0, d(Op.HARDSWISH.defaults(), Math.nextDown(-3.0)));
        assertEquals(1.0, d(Op.HARDSWISH.defaults(), Math.nextUp(3.0)));
        assertEquals(1.0, d(Op.ELU.defaults(), 0));
        assertEquals(1.0, d(Op.CELU.defaults(), 0));
        assertEquals(LAMBDA_ALPHA, d(Op.SELU.defaults(), 0));
        assertEquals(LAMBDA, d(Op.SELU.defaults(), Double.MIN_VALUE));
    }

    @Test
    void softplusThresholdRule() {
        OpArgs def = Op.SOFTPLUS.defaults();
        assertEquals(20.5, f(def, 20.5), 0, "x itself above the threshold");
        assertEquals(1.0, d(def, 20.5));
        assertEquals(Math.log1p(Math.exp(20)), f(def, 20), 1e-15, "beta*x == threshold is not above it");
        OpArgs b2 = OpArgs.of(Op.SOFTPLUS).withBeta(2).withThreshold(10);
        assertEquals(5.1, f(b2, 5.1), 0);
        assertEquals(Math.log1p(Math.exp(9.8)) / 2, f(b2, 4.9), 1e-15);
        assertEquals(ElementMath.sigmoid(9.8), d(b2, 4.9), 1e-16);
        // far below: log1p(e^(bx)) / beta without underflow to log(1) = 0 too early
        assertEquals(Math.exp(-60) / 2, f(b2, -30), 1e-16 * Math.exp(-60));
    }

    @Test
    void honestOverflow() {
        MemorySegment x = Segments.of(DType.F32, 3.4e38, -3.4e38, 3.0e38);
        MemorySegment y = Samples.allocate(DType.F32, 3);
        k.forward(Op.SELU.defaults(), DType.F32, x, y, 3);
        double[] got = Segments.toArray(DType.F32, y, 3);
        assertEquals(INF, got[0], "selu(3.4e38f) = 1.05 * 3.4e38 > FLT_MAX");
        assertEquals((float) -LAMBDA_ALPHA, got[1]);
        assertEquals((float) (3.0e38f * LAMBDA), got[2]);
        assertEquals(INF, f(Op.SELU.defaults(), Double.MAX_VALUE));
        // celu and elu's exp branch never overflow for alpha > 0; mish and gelu stay x for huge x
        assertEquals(Double.MAX_VALUE, f(Op.MISH.defaults(), Double.MAX_VALUE));
        assertEquals(Double.MAX_VALUE, f(Op.GELU.defaults(), Double.MAX_VALUE));
        assertEquals(Double.MAX_VALUE, f(Op.GELU_TANH.defaults(), Double.MAX_VALUE));
        assertEquals(Double.MAX_VALUE, f(Op.SILU.defaults(), Double.MAX_VALUE));
        assertEquals(0.0, f(Op.GELU_TANH.defaults(), -Double.MAX_VALUE), 0);
        assertEquals(0.0, d(Op.GELU_TANH.defaults(), -Double.MAX_VALUE), 0);
        assertEquals(1.0, d(Op.GELU_TANH.defaults(), Double.MAX_VALUE), 0);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void preluWithOneAndWithChannelWeights(DType t) {
        long outer = 3;
        long channels = 7;
        long inner = 5;
        int n = (int) (outer * channels * inner);
        SplittableRandom rnd = new SplittableRandom(3);
        double[] x = new double[n];
        double[] dy = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i % 11 == 0) ? 0.0 : rnd.nextDouble(-5, 5);
            dy[i] = rnd.nextDouble(-2, 2);
        }
        x[4] = -INF;
        x[9] = Double.NaN; // poisons the dw of its channel (channel 1) and the single weight's
        for (long weights : new long[] {1, channels}) {
            double[] w = new double[(int) weights];
            for (int c = 0; c < weights; c++) {
                w[c] = c == 2 ? 0.0 : rnd.nextDouble(-0.5, 1);
            }
            MemorySegment y = Samples.allocate(t, n);
            MemorySegment dx = Samples.allocate(t, n);
            MemorySegment dw = Samples.allocate(t, weights);
            MemorySegment xs = Segments.of(t, x);
            MemorySegment ws = Segments.of(t, w);
            MemorySegment dys = Segments.of(t, dy);
            k.preluForward(t, xs, ws, weights, y, outer, channels, inner);
            k.preluBackward(t, xs, ws, weights, dys, dx, dw, outer, channels, inner);
            double[] xr = Segments.toArray(t, xs, n);
            double[] wr = Segments.toArray(t, ws, weights);
            double[] dyr = Segments.toArray(t, dys, n);
            double[] yg = Segments.toArray(t, y, n);
            double[] dxg = Segments.toArray(t, dx, n);
            double[] dwWant = new double[(int) weights];
            for (int i = 0; i < n; i++) {
                int c = (int) ((i / inner) % channels);
                double wc = wr[weights == 1 ? 0 : c];
                double yWant = Double.isNaN(xr[i]) ? Double.NaN : xr[i] > 0 ? xr[i] : (wc == 0 ? 0 : wc * xr[i]);
                double dxWant = Double.isNaN(xr[i]) ? Double.NaN : xr[i] > 0 ? dyr[i] : wc * dyr[i];
                assertTrue(Segments.same(round(t, yWant), yg[i]), "y[" + i + "] = " + yg[i] + ", want " + yWant);
                assertTrue(Segments.same(round(t, dxWant), dxg[i]), "dx[" + i + "] = " + dxg[i] + ", want " + dxWant);
                if (!(xr[i] > 0)) {
                    dwWant[weights == 1 ? 0 : c] += xr[i] * dyr[i];
                }
            }
            double[] dwg = Segments.toArray(t, dw, weights);
            for (int c = 0; c < weights; c++) {
                double want = round(t, dwWant[c]);
                boolean ok = Double.isNaN(want) ? Double.isNaN(dwg[c])
                        : Double.isInfinite(want) ? want == dwg[c]
                        : Math.abs(dwg[c] - want) <= (t == DType.F32 ? 2e-7 : 1e-13) * Math.max(1, Math.abs(want));
                assertTrue(ok, weights + " weights: dw[" + c + "] = " + dwg[c] + ", want " + want);
            }
            if (weights == channels) {
                assertTrue(Double.isNaN(dwg[1]), "NaN x poisons its channel's dw");
                assertTrue(Double.isFinite(dwg[3]), "other channels stay finite");
            }
            assertTrue(Segments.same(0.0, yg[4]) || yg[4] == -INF || yg[4] == INF, "prelu(-inf) is a limit");
        }
    }

    private static double round(DType t, double v) {
        return t == DType.F32 ? (float) v : v;
    }
}
