package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * float32 ops that run on float lanes with their own polynomial fits and compensations (GELU's
 * erfcx and its derivative's factored fit, GELU-tanh's compensated argument, softplus's log1p and compensated beta x, CELU's scaled expm1,
 * the short expm1 of tanh, ELU and SELU, the exp of sigmoid, SiLU and mish): a dense sweep of float
 * inputs over [-128, 128] (every 4096th float, about half a million values, every binade down to 1e-38)
 * against the float64 reference on the same inputs, held to rule 5's 1e-6. Random samples can miss
 * a narrow bad spot of a fit; this sweep does not.
 */
class FloatLaneSweepTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Op.GELU.defaults(), false),
                Arguments.of(Op.GELU_TANH.defaults(), false),
                Arguments.of(Op.SIGMOID.defaults(), false),
                Arguments.of(Op.TANH.defaults(), false),
                Arguments.of(Op.ELU.defaults(), false),
                Arguments.of(OpArgs.of(Op.ELU).withAlpha(0.3), false),
                Arguments.of(Op.SELU.defaults(), false),
                Arguments.of(Op.SILU.defaults(), false),
                Arguments.of(Op.MISH.defaults(), false),
                Arguments.of(Op.CELU.defaults(), false),
                Arguments.of(Op.CELU.defaults(), true),
                Arguments.of(OpArgs.of(Op.CELU).withAlpha(0.2), false),
                Arguments.of(OpArgs.of(Op.CELU).withAlpha(-0.5), false),
                Arguments.of(OpArgs.of(Op.CELU).withAlpha(2.5), true),
                Arguments.of(Op.SOFTPLUS.defaults(), false),
                Arguments.of(OpArgs.of(Op.SOFTPLUS).withBeta(3).withThreshold(5), false),
                Arguments.of(OpArgs.of(Op.SOFTPLUS).withBeta(0.3).withThreshold(30), false),
                // Derivatives in their own (shorter) exp and float-lane forms; those that cross zero
                // (gelu', gelu_tanh', silu', mish') need 1e-11 absolute where they pass 1e-5 near their roots.
                Arguments.of(Op.GELU.defaults(), true),
                Arguments.of(Op.GELU_TANH.defaults(), true),
                Arguments.of(Op.SILU.defaults(), true),
                Arguments.of(Op.MISH.defaults(), true),
                Arguments.of(Op.SOFTPLUS.defaults(), true),
                Arguments.of(OpArgs.of(Op.SOFTPLUS).withBeta(3).withThreshold(5), true),
                Arguments.of(OpArgs.of(Op.SOFTPLUS).withBeta(0.3).withThreshold(30), true));
    }

    @ParameterizedTest(name = "{0} backward={1}")
    @MethodSource("cases")
    void denseSweepWithinRule5(OpArgs args, boolean backward) {
        int top = Float.floatToRawIntBits(128f);
        int stride = 4096;
        int perSign = top / stride + 1;
        int n = 2 * perSign;
        float[] in = new float[n];
        double[] wide = new double[n];
        for (int k = 0; k < perSign; k++) {
            float v = Float.intBitsToFloat(k * stride);
            in[2 * k] = v;
            in[2 * k + 1] = -v;
        }
        for (int i = 0; i < n; i++) {
            wide[i] = in[i];
        }
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        double[] onesWide = new double[n];
        Arrays.fill(onesWide, 1.0);
        MemorySegment got = MemorySegment.ofArray(new float[n]);
        MemorySegment ref = MemorySegment.ofArray(new double[n]);
        CpuKernels vector = new VectorKernels();
        CpuKernels reference = TestData.reference();
        // The truth: the float64 reference on the same (float) inputs.
        if (backward) {
            vector.backward(args, DType.F32, MemorySegment.ofArray(in), MemorySegment.ofArray(ones), got, n);
            reference.backward(args, DType.F64, MemorySegment.ofArray(wide), MemorySegment.ofArray(onesWide), ref, n);
        } else {
            vector.forward(args, DType.F32, MemorySegment.ofArray(in), got, n);
            reference.forward(args, DType.F64, MemorySegment.ofArray(wide), ref, n);
        }
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < n; i++) {
            // The float32 truth is the float64 value rounded once (overflow to infinity is honest, rule 3).
            double truth = (float) ref.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
            double e = Accuracy.error(truth, got.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            if (!(e <= worst)) {
                worst = e;
                worstAt = in[i];
            }
        }
        assertTrue(worst <= Accuracy.F32_TOLERANCE, args + " worst error " + worst + " at x = " + worstAt);
    }

    /**
     * gelu', gelu_tanh', silu' and mish' through their zeros (x = -0.7517915..., -0.7524614...,
     * -1.2784645..., -1.1924312...): every float within 1e-3 of each (16000-33000), held to 1e-6
     * relative wherever the truth is at least 1e-12 in magnitude (the contract asks relative
     * accuracy only above 1e-5). Summing the two terms of any of these derivatives in float cancels there and
     * misses by orders of magnitude; the factored forms keep it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("zeros")
    void derivativeKeepsRelativeAccuracyThroughItsZero(Op op, float zero) {
        float from = zero - 1e-3f;
        float to = zero + 1e-3f;
        int n = Float.floatToRawIntBits(from) - Float.floatToRawIntBits(to) + 1;
        float[] in = new float[n];
        double[] wide = new double[n];
        for (int i = 0; i < n; i++) {
            in[i] = Float.intBitsToFloat(Float.floatToRawIntBits(to) + i);
            wide[i] = in[i];
        }
        float[] ones = new float[n];
        Arrays.fill(ones, 1f);
        double[] onesWide = new double[n];
        Arrays.fill(onesWide, 1.0);
        float[] got = new float[n];
        double[] ref = new double[n];
        OpArgs args = op.defaults();
        new VectorKernels().backward(args, DType.F32, MemorySegment.ofArray(in), MemorySegment.ofArray(ones),
                MemorySegment.ofArray(got), n);
        TestData.reference().backward(args, DType.F64, MemorySegment.ofArray(wide), MemorySegment.ofArray(onesWide),
                MemorySegment.ofArray(ref), n);
        double worst = 0;
        float worstAt = 0;
        int judged = 0;
        for (int i = 0; i < n; i++) {
            if (Math.abs(ref[i]) < 1e-12) {
                continue;
            }
            judged++;
            double e = Math.abs(got[i] - ref[i]) / Math.abs(ref[i]);
            if (!(e <= worst)) {
                worst = e;
                worstAt = in[i];
            }
        }
        assertTrue(judged > n - 100, "judged only " + judged + " of " + n);
        assertTrue(worst <= Accuracy.F32_TOLERANCE, op + "' worst relative error " + worst + " at x = " + worstAt);
    }

    static Stream<Arguments> zeros() {
        return Stream.of(Arguments.of(Op.GELU, -0.7517915f), Arguments.of(Op.GELU_TANH, -0.7524614f),
                Arguments.of(Op.SILU, -1.2784645f), Arguments.of(Op.MISH, -1.1924312f));
    }
}
