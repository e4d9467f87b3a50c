package dev.soma.fallback.vector;

import static dev.soma.fallback.vector.TestData.SIZES;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every elementwise op, forward and backward, float32 and float64, at every tail size, against the reference. */
class ElementwiseVectorTest {
    private static final CpuKernels VECTOR = new VectorKernels();
    private static final CpuKernels REF = TestData.reference();

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Op op : Op.values()) {
            if (op.family() != Family.ELEMENTWISE) {
                continue;
            }
            for (DType t : DType.values()) {
                for (boolean backward : new boolean[] {false, true}) {
                    for (long n : SIZES) {
                        out.add(Arguments.of(op.defaults(), t, backward, n));
                    }
                }
            }
        }
        return out.stream();
    }

    /** Parameters at their edges: alpha 0, 1, negative, fractional; softplus beta and threshold. */
    static Stream<Arguments> parameterCases() {
        List<Arguments> out = new ArrayList<>();
        List<OpArgs> args = new ArrayList<>();
        for (double a : new double[] {0.0, 1.0, -0.5, 0.2, 2.5}) {
            args.add(OpArgs.of(Op.LEAKY_RELU).withAlpha(a));
            args.add(OpArgs.of(Op.ELU).withAlpha(a));
            if (a != 0) {
                args.add(OpArgs.of(Op.CELU).withAlpha(a));
            }
        }
        args.add(OpArgs.of(Op.SOFTPLUS).withBeta(2).withThreshold(5));
        args.add(OpArgs.of(Op.SOFTPLUS).withBeta(0.5).withThreshold(30));
        args.add(OpArgs.of(Op.SOFTPLUS).withBeta(3).withThreshold(-1));
        for (OpArgs a : args) {
            for (DType t : DType.values()) {
                for (boolean backward : new boolean[] {false, true}) {
                    out.add(Arguments.of(a, t, backward, 4097L));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} backward={2} n={3}")
    @MethodSource("cases")
    void matchesReference(OpArgs args, DType t, boolean backward, long n) {
        check(args, t, backward, n, false);
    }

    @ParameterizedTest(name = "{0} {1} backward={2} n={3}")
    @MethodSource("parameterCases")
    void matchesReferenceAtParameterEdges(OpArgs args, DType t, boolean backward, long n) {
        check(args, t, backward, n, false);
    }

    @ParameterizedTest(name = "in place {0} {1} backward={2} n={3}")
    @MethodSource("inPlaceCases")
    void inPlace(OpArgs args, DType t, boolean backward, long n) {
        check(args, t, backward, n, true);
    }

    static Stream<Arguments> inPlaceCases() {
        return cases().filter(a -> {
            long n = (Long) a.get()[3];
            return n == 33 || n == 4097 || n == (1 << 20);
        });
    }

    /**
     * celu' with alpha < 0: e^(x/alpha) overflows float from x/alpha = 88.7 while dy e^(x/alpha) is
     * still finite (random data found x = -44.9, alpha = -0.5, dy = 0.0163: inf against 1.6e37).
     * Every lane of a vector and the tail get such a pair.
     */
    @Test
    void celuGradientFiniteWhereTheDerivativeAloneOverflowsFloat() {
        OpArgs args = OpArgs.of(Op.CELU).withAlpha(-0.5);
        long n = 37;
        MemorySegment x = TestData.alloc(DType.F32, n, false);
        MemorySegment dy = TestData.alloc(DType.F32, n, false);
        for (long i = 0; i < n; i++) {
            TestData.set(DType.F32, x, i, -44.5 - 0.05 * i);
            TestData.set(DType.F32, dy, i, Math.scalb(1.0, (int) -(i % 20)));
        }
        MemorySegment expected = TestData.poisoned(DType.F32, n, true);
        MemorySegment actual = TestData.poisoned(DType.F32, n, false);
        REF.backward(args, DType.F32, x, dy, expected, n);
        VECTOR.backward(args, DType.F32, x, dy, actual, n);
        TestData.assertClose("celu(-0.5)' near float overflow", DType.F32, expected, actual, n, x);
    }

    private static void check(OpArgs args, DType t, boolean backward, long n, boolean inPlace) {
        long seed = System.nanoTime();
        boolean heap = (seed & 1) == 0;
        MemorySegment x = TestData.input(args, t, n, seed, heap);
        MemorySegment dy = TestData.gradient(t, n, seed, !heap);
        MemorySegment expected = TestData.poisoned(t, n, true);
        String what = args + " " + t + (backward ? " backward" : " forward") + " n=" + n + " seed=" + seed
                + (inPlace ? " in place" : "");
        if (backward) {
            REF.backward(args, t, x, dy, expected, n);
        } else {
            REF.forward(args, t, x, expected, n);
        }
        MemorySegment xIn = x;
        MemorySegment actual;
        if (inPlace) {
            // Backward writes over dy (the usual in-place gradient); forward writes over x.
            xIn = TestData.copy(t, x, n, heap);
            actual = backward ? dy : xIn;
        } else {
            actual = TestData.poisoned(t, n, heap);
        }
        if (backward) {
            VECTOR.backward(args, t, xIn, dy, actual, n);
        } else {
            VECTOR.forward(args, t, xIn, actual, n);
        }
        TestData.assertClose(what, t, expected, actual, n, x);
    }
}
