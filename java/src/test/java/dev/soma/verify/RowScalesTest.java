package dev.soma.verify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.soma.Tensor;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import org.junit.jupiter.api.Test;

/** The scales softmax-family results are measured against, on rows small enough to work by hand. */
class RowScalesTest {
    private static final Tensor X = Tensor.of(new double[] {0, 0, 5, 5}, 2, 2);
    private static final Tensor DY = Tensor.of(new double[] {1, -3, 2, 0}, 2, 2);

    @Test
    void logSoftmaxForwardIsMeasuredAgainstItsTerms() {
        double ln2 = Math.log(2);
        assertArrayEquals(new double[] {ln2, ln2, ln2, ln2}, RowScales.of(OpArgs.of(Op.LOG_SOFTMAX), X, null), 1e-15);
    }

    @Test
    void softmaxBackwardScalesWithTheLargestGradientOfTheRow() {
        assertArrayEquals(new double[] {1.5, 1.5, 1, 1}, RowScales.of(OpArgs.of(Op.SOFTMAX), X, DY), 1e-15);
    }

    @Test
    void logSoftmaxBackwardScalesWithTheGradientsSum() {
        assertArrayEquals(new double[] {3, 5, 3, 1}, RowScales.of(OpArgs.of(Op.LOG_SOFTMAX), X, DY), 1e-15);
    }

    @Test
    void alongAnotherAxis() {
        // Axis 0: the rows are the columns {0, 5} and {0, 5}.
        double[] s = RowScales.of(OpArgs.of(Op.SOFTMAX).withAxis(0), X, DY);
        double p0 = 1 / (1 + Math.exp(5));
        double p1 = 1 - p0;
        assertArrayEquals(new double[] {p0 * 2, p0 * 3, p1 * 2, p1 * 3}, s, 1e-15);
    }

    @Test
    void otherResultsNeedNoScale() {
        assertNull(RowScales.of(OpArgs.of(Op.SOFTMAX), X, null));
        assertNull(RowScales.of(OpArgs.of(Op.GELU), X, DY));
    }
}
