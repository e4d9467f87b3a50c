package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every backward in float64 against central differences of its forward, away from kinks. */
class FiniteDifferenceTest {
    private final CpuKernels k = new ScalarKernels();

    static Stream<OpArgs> elementwiseArgs() {
        Stream<OpArgs> defaults = Arrays.stream(Op.values()).filter(o -> o.family() == Family.ELEMENTWISE)
                .map(Op::defaults);
        Stream<OpArgs> edges = Stream.of(
                OpArgs.of(Op.LEAKY_RELU).withAlpha(0.0), OpArgs.of(Op.LEAKY_RELU).withAlpha(-0.3),
                OpArgs.of(Op.LEAKY_RELU).withAlpha(1.0),
                OpArgs.of(Op.ELU).withAlpha(0.0), OpArgs.of(Op.ELU).withAlpha(0.5), OpArgs.of(Op.ELU).withAlpha(-0.7),
                OpArgs.of(Op.CELU).withAlpha(2.0), OpArgs.of(Op.CELU).withAlpha(-1.5),
                OpArgs.of(Op.CELU).withAlpha(0.25),
                OpArgs.of(Op.SOFTPLUS).withBeta(2.0).withThreshold(10.0),
                OpArgs.of(Op.SOFTPLUS).withBeta(0.5).withThreshold(3.0));
        return Stream.concat(defaults, edges);
    }

    /** Points where the derivative jumps (subgradients are not differences). */
    private static double[] kinks(OpArgs a) {
        return switch (a.op()) {
            case RELU, LEAKY_RELU, ELU, CELU, SELU -> new double[] {0};
            case RELU6 -> new double[] {0, 6};
            case HARDSIGMOID, HARDSWISH -> new double[] {-3, 3};
            case SOFTPLUS -> new double[] {a.threshold() / a.beta()};
            default -> new double[0];
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("elementwiseArgs")
    void elementwiseBackwardIsTheDerivative(OpArgs a) {
        DoubleUnaryOperator f = x -> ElementMath.forward(a, x);
        double worst = 0;
        String where = "";
        outer:
        for (double x = -14.0 + 1.0 / 37; x < 14; x += 0.0731) {
            for (double kink : kinks(a)) {
                if (Math.abs(x - kink) < 1e-3 * Math.max(1, Math.abs(kink))) {
                    continue outer;
                }
            }
            double h = 1e-5 * Math.max(1, Math.abs(x));
            double fd = (f.applyAsDouble(x + h) - f.applyAsDouble(x - h)) / (2 * h);
            double d = ElementMath.backward(a, x, 1.0);
            double dy = 0.75;
            double scaled = ElementMath.backward(a, x, dy);
            double err = Math.abs(fd - d) / Math.max(1, Math.abs(d));
            err = Math.max(err, Math.abs(scaled - d * dy) / Math.max(1e-300, Math.abs(d * dy)) * (d == 0 ? 0 : 1));
            if (err > worst) {
                worst = err;
                where = "x = " + x + ": backward " + d + ", central difference " + fd;
            }
        }
        assertTrue(worst < 2e-7, a + ": worst error " + worst + " at " + where);
    }

    @ParameterizedTest(name = "weights: {0}")
    @ValueSource(ints = {1, 5})
    void preluBackwardIsTheGradientOfSumDyTimesY(int weightCount) {
        long outer = 3;
        long channels = 5;
        long inner = 4;
        int n = (int) (outer * channels * inner);
        SplittableRandom rnd = new SplittableRandom(7 + weightCount);
        double[] x = new double[n];
        double[] dy = new double[n];
        for (int i = 0; i < n; i++) {
            double v = rnd.nextDouble(0.01, 3);
            x[i] = rnd.nextBoolean() ? v : -v; // away from the kink at 0
            dy[i] = rnd.nextDouble(-2, 2);
        }
        double[] w = new double[weightCount];
        for (int c = 0; c < weightCount; c++) {
            w[c] = rnd.nextDouble(-0.5, 1);
        }
        double[] dx = new double[n];
        double[] dw = new double[weightCount];
        k.preluBackward(DType.F64, seg(x), seg(w), weightCount, seg(dy), seg(dx), seg(dw), outer, channels, inner);

        double h = 1e-6;
        for (int j = 0; j < n; j++) {
            double[] xp = x.clone();
            double[] xm = x.clone();
            xp[j] += h;
            xm[j] -= h;
            double fd = (preluLoss(xp, w, dy, outer, channels, inner) - preluLoss(xm, w, dy, outer, channels, inner))
                    / (2 * h);
            assertTrue(Math.abs(fd - dx[j]) < 1e-8, "dx[" + j + "] = " + dx[j] + ", central difference " + fd);
        }
        for (int c = 0; c < weightCount; c++) {
            double[] wp = w.clone();
            double[] wm = w.clone();
            wp[c] += h;
            wm[c] -= h;
            double fd = (preluLoss(x, wp, dy, outer, channels, inner) - preluLoss(x, wm, dy, outer, channels, inner))
                    / (2 * h);
            assertTrue(Math.abs(fd - dw[c]) < 1e-7, "dw[" + c + "] = " + dw[c] + ", central difference " + fd);
        }
    }

    private double preluLoss(double[] x, double[] w, double[] dy, long outer, long channels, long inner) {
        double[] y = new double[x.length];
        k.preluForward(DType.F64, seg(x), seg(w), w.length, seg(y), outer, channels, inner);
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += dy[i] * y[i];
        }
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"softmax", "log_softmax"})
    void softmaxBackwardIsTheGradientOfSumDyTimesY(String name) {
        OpArgs a = Op.byId(name).defaults();
        long outer = 2;
        long len = 9;
        long inner = 3;
        int n = (int) (outer * len * inner);
        SplittableRandom rnd = new SplittableRandom(11);
        double[] x = new double[n];
        double[] dy = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextDouble(-4, 4);
            dy[i] = rnd.nextDouble(-2, 2);
        }
        double[] dx = new double[n];
        k.softmaxBackward(a, DType.F64, seg(x), seg(dy), seg(dx), outer, len, inner);
        double h = 1e-6;
        for (int j = 0; j < n; j++) {
            double[] xp = x.clone();
            double[] xm = x.clone();
            xp[j] += h;
            xm[j] -= h;
            double fd = (softmaxLoss(a, xp, dy, outer, len, inner) - softmaxLoss(a, xm, dy, outer, len, inner)) / (2 * h);
            assertTrue(Math.abs(fd - dx[j]) < 1e-8, name + ": dx[" + j + "] = " + dx[j] + ", central difference " + fd);
        }
    }

    private double softmaxLoss(OpArgs a, double[] x, double[] dy, long outer, long len, long inner) {
        double[] y = new double[x.length];
        k.softmaxForward(a, DType.F64, seg(x), seg(y), outer, len, inner);
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += dy[i] * y[i];
        }
        return s;
    }

    static MemorySegment seg(double[] a) {
        return MemorySegment.ofArray(a);
    }
}
