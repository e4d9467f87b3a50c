package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The float32 row maximum runs four accumulators by compare and masked move, and lets a NaN reach
 * the outputs through the sum instead of through the maximum. Every position of a row (each
 * accumulator, the single-vector loop, the masked tail) gets the row's NaN, its largest value, or
 * its only value above -inf, at lengths around the vector and unroll widths.
 */
class SoftmaxRowMaxTest {
    private static final VectorKernels VECTOR = new VectorKernels();
    private static final DType T = DType.F32;

    static LongStream lengths() {
        int l = Lanes.F.length();
        return LongStream.of(1, 2, l - 1, l, l + 1, 3L * l + 5, 4L * l, 4L * l + 1, 5L * l + 3, 1024, 1037);
    }

    /** A NaN anywhere in a finite row, or in a row that is otherwise all -inf: the whole output row is NaN. */
    @ParameterizedTest(name = "len {0}")
    @MethodSource("lengths")
    void nanAtEveryPositionMakesTheRowNaN(long len) {
        SplittableRandom rnd = new SplittableRandom(len);
        for (boolean otherwiseMinusInf : new boolean[] {false, true}) {
            MemorySegment x = TestData.alloc(T, len * len, false);
            for (long r = 0; r < len; r++) {
                for (long k = 0; k < len; k++) {
                    double v = otherwiseMinusInf ? Double.NEGATIVE_INFINITY : rnd.nextDouble(-20, 20);
                    TestData.set(T, x, r * len + k, k == r ? Double.NaN : v);
                }
            }
            MemorySegment dy = TestData.gradient(T, len * len, len, false);
            for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                for (boolean safe : new boolean[] {false, true}) {
                    OpArgs args = OpArgs.of(op).withSafe(safe);
                    MemorySegment y = TestData.poisoned(T, len * len, false);
                    VECTOR.softmaxForward(args, T, x, y, len, len, 1);
                    assertAllNaN(op + " forward safe=" + safe + " minusInf=" + otherwiseMinusInf, y, len * len);
                    MemorySegment dx = TestData.poisoned(T, len * len, false);
                    VECTOR.softmaxBackward(args, T, x, dy, dx, len, len, 1);
                    assertAllNaN(op + " backward safe=" + safe + " minusInf=" + otherwiseMinusInf, dx, len * len);
                }
            }
        }
    }

    /** Row r has its largest value (or its only value above -inf, or +inf) at position r. */
    @ParameterizedTest(name = "len {0}")
    @MethodSource("lengths")
    void maximumAtEveryPosition(long len) {
        SplittableRandom rnd = new SplittableRandom(len + 7);
        for (int kind = 0; kind < 3; kind++) {
            MemorySegment x = TestData.alloc(T, len * len, true);
            for (long r = 0; r < len; r++) {
                for (long k = 0; k < len; k++) {
                    double v = kind == 1 ? Double.NEGATIVE_INFINITY : rnd.nextDouble(-30, 5);
                    double top = kind == 2 ? Double.POSITIVE_INFINITY : 12.5 + rnd.nextDouble();
                    TestData.set(T, x, r * len + k, k == r ? top : v);
                }
            }
            // Softmax forward: every result is held to rule 5 as it stands (log_softmax's results,
            // differences of larger terms, are checked scaled in SoftmaxVectorTest).
            for (boolean safe : new boolean[] {false, true}) {
                OpArgs args = OpArgs.of(Op.SOFTMAX).withSafe(safe);
                MemorySegment want = TestData.poisoned(T, len * len, true);
                TestData.reference().softmaxForward(args, T, x, want, len, len, 1);
                MemorySegment got = TestData.poisoned(T, len * len, false);
                VECTOR.softmaxForward(args, T, x, got, len, len, 1);
                TestData.assertClose("kind " + kind + " len " + len + " safe=" + safe, T, want, got, len * len, x);
            }
        }
    }

    private static void assertAllNaN(String what, MemorySegment s, long n) {
        for (long i = 0; i < n; i++) {
            double v = TestData.get(T, s, i);
            assertTrue(Double.isNaN(v), what + ": element " + i + " is " + v + ", expected NaN");
        }
    }
}
