package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * semantics.md's PyTorch table at NaN, +inf, -inf, -0, 100, -100 (forward / backward with dy = 1),
 * with the rules overriding PyTorch where they differ (noted per row). Run through the kernels
 * (float32, as the table was measured) and through ElementMath in double.
 */
class SpecialInputsTest {
    private static final double N = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[] X = {Double.NaN, INF, -INF, -0.0, 100, -100};

    /** op, forward at X, backward at X. */
    static Stream<Arguments> table() {
        double l = Op.SELU_SCALE;
        double la = Op.SELU_SCALE * Op.SELU_ALPHA;
        double e100 = Math.exp(-100); // 3.78351e-44 (a float32 subnormal)
        return Stream.of(
                // the exact tails where PyTorch's float32 flushes to 0 (within the absolute tolerance)
                row(Op.SIGMOID, new double[] {N, 1, 0, 0.5, 1, e100}, new double[] {N, 0, 0, 0.25, e100, e100}),
                row(Op.TANH, new double[] {N, 1, -1, -0.0, 1, -1},
                        new double[] {N, 0, 0, 1, 4 * Math.exp(-200), 4 * Math.exp(-200)}),
                // rule 1: NaN backward is NaN (PyTorch: 1)
                row(Op.RELU, new double[] {N, INF, 0, 0, 100, 0}, new double[] {N, 1, 0, 0, 1, 0}),
                row(Op.LEAKY_RELU, new double[] {N, INF, -INF, -0.0, 100, -1},
                        new double[] {N, 1, 0.01, 0.01, 1, 0.01}),
                row(Op.ELU, new double[] {N, INF, -1, 0, 100, -1}, new double[] {N, 1, 0, 1, 1, e100}),
                // rule 2: gelu(-inf) = 0 and gelu'(+-inf) = 1, 0 (PyTorch: NaN)
                row(Op.GELU, new double[] {N, INF, 0, -0.0, 100, -0.0}, new double[] {N, 1, 0, 0.5, 1, 0}),
                row(Op.GELU_TANH, new double[] {N, INF, 0, -0.0, 100, -0.0}, new double[] {N, 1, 0, 0.5, 1, 0}),
                row(Op.SILU, new double[] {N, INF, 0, -0.0, 100, -100 * e100},
                        new double[] {N, 1, 0, 0.5, 1, -99 * e100}),
                row(Op.SOFTPLUS, new double[] {N, INF, 0, Math.log(2), 100, e100},
                        new double[] {N, 1, 0, 0.5, 1, e100}),
                row(Op.MISH, new double[] {N, INF, 0, -0.0, 100, -100 * e100},
                        new double[] {N, 1, 0, 0.6, 1, -99 * e100}),
                row(Op.SELU, new double[] {N, INF, -la, 0, 100 * l, -la}, new double[] {N, l, 0, la, l, la * e100}),
                row(Op.RELU6, new double[] {N, 6, 0, 0, 6, 0}, new double[] {N, 0, 0, 0, 0, 0}),
                row(Op.HARDSIGMOID, new double[] {N, 1, 0, 0.5, 1, 0}, new double[] {N, 0, 0, 1.0 / 6, 0, 0}),
                // rule 2: hardswish(-inf) = 0 (PyTorch: NaN); rule 1: NaN backward NaN (PyTorch: 1)
                row(Op.HARDSWISH, new double[] {N, INF, 0, -0.0, 100, -0.0}, new double[] {N, 1, 0, 0.5, 1, 0}),
                row(Op.CELU, new double[] {N, INF, -1, 0, 100, -1}, new double[] {N, 1, 0, 1, 1, e100}));
    }

    private static Arguments row(Op op, double[] fwd, double[] bwd) {
        return Arguments.of(op, fwd, bwd);
    }

    @ParameterizedTest(name = "{0} float64")
    @MethodSource("table")
    void float64MatchesTheTable(Op op, double[] fwd, double[] bwd) {
        OpArgs a = op.defaults();
        for (int i = 0; i < X.length; i++) {
            assertClose(fwd[i], ElementMath.forward(a, X[i]), op + "(" + X[i] + ")");
            assertClose(bwd[i], ElementMath.backward(a, X[i], 1.0), op + "'(" + X[i] + ")");
        }
    }

    @ParameterizedTest(name = "{0} float32 through ScalarKernels")
    @MethodSource("table")
    void float32KernelsMatchTheTable(Op op, double[] fwd, double[] bwd) {
        CpuKernels k = CpuKernelsProvider.reference();
        OpArgs a = op.defaults();
        float[] x = new float[X.length];
        float[] ones = new float[X.length];
        for (int i = 0; i < X.length; i++) {
            x[i] = (float) X[i];
            ones[i] = 1f;
        }
        float[] y = new float[X.length];
        float[] dx = new float[X.length];
        k.forward(a, DType.F32, MemorySegment.ofArray(x), MemorySegment.ofArray(y), X.length);
        k.backward(a, DType.F32, MemorySegment.ofArray(x), MemorySegment.ofArray(ones), MemorySegment.ofArray(dx),
                X.length);
        for (int i = 0; i < X.length; i++) {
            assertClose((float) fwd[i], y[i], op + "(" + X[i] + ") float32");
            assertClose((float) bwd[i], dx[i], op + "'(" + X[i] + ") float32");
        }
    }

    /** Exact for NaN, infinities and zeros (either sign); 1e-12 relative otherwise. */
    static void assertClose(double expected, double got, String what) {
        if (Double.isNaN(expected)) {
            assertTrue(Double.isNaN(got), what + ": expected NaN, got " + got);
        } else if (Double.isInfinite(expected) || expected == 0) {
            assertEquals(expected == 0 ? 0.0 : expected, got == 0 ? 0.0 : got, what);
        } else if (Math.abs(got - expected) > 1e-12 * Math.abs(expected)) {
            fail(what + ": expected " + expected + ", got " + got);
        }
    }
}
