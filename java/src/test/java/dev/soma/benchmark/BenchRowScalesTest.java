package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.soma.Tensor;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import org.junit.jupiter.api.Test;

/** The scales softmax-family results are validated against, on rows small enough to check by hand. */
class BenchRowScalesTest {
    private static final Tensor X = Tensor.of(new double[] {0, 0, 5, 5}, 2, 2);
    private static final Tensor DY = Tensor.of(new double[] {1, -3, 2, 2}, 2, 2);

    private static double[] scales(Op op, Direction d) {
        try (Tensor s = RowScales.forCase(new BenchCase(op, d, DType.F32, new long[] {2, 2}), X, DY,
                CpuKernelsProvider.reference())) {
            return s.toDoubleArray();
        }
    }

    @Test
    void plainRuleFiveWhereNoDifferenceOfLargerTerms() {
        assertNull(RowScales.forCase(new BenchCase(Op.SOFTMAX, Direction.FORWARD, DType.F32, new long[] {2, 2}), X, null,
                CpuKernelsProvider.reference()));
        assertNull(RowScales.forCase(new BenchCase(Op.GELU, Direction.BACKWARD, DType.F32, new long[] {4}), X, DY,
                CpuKernelsProvider.reference()));
    }

    @Test
    void logSoftmaxForwardScaleIsDistanceFromTheMaxPlusLogZ() {
        double ln2 = Math.log(2);
        assertArrayEquals(new double[] {ln2, ln2, ln2, ln2}, scales(Op.LOG_SOFTMAX, Direction.FORWARD), 1e-15);
    }

    @Test
    void softmaxBackwardScaleIsYTimesTheRowsLargestGradient() {
        assertArrayEquals(new double[] {1.5, 1.5, 1, 1}, scales(Op.SOFTMAX, Direction.BACKWARD), 1e-15);
    }

    @Test
    void logSoftmaxBackwardScaleIsDyPlusPTimesTheRowsGradientMass() {
        assertArrayEquals(new double[] {3, 5, 4, 4}, scales(Op.LOG_SOFTMAX, Direction.BACKWARD), 1e-15);
    }
}
