package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The provider hands out the scalar reference; ElementMath refuses the ops that are not elementwise. */
class ReferenceProviderTest {

    @Test
    void referenceIsTheScalarKernels() {
        assertInstanceOf(ScalarKernels.class, CpuKernelsProvider.reference());
        assertEquals("scalar", CpuKernelsProvider.reference().name());
    }

    @Test
    void elementMathRefusesNonElementwiseOps() {
        for (Op op : new Op[] {Op.PRELU, Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ElementMath.forward(op.ordinal(), 1.0, 0, 1, 20));
            assertTrue(e.getMessage().contains(op.id()) && e.getMessage().contains("not elementwise"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> ElementMath.backward(op.ordinal(), Double.NaN, 1.0, 0, 1, 20));
        }
    }

    @Test
    void softmaxKernelsRefuseOtherOps() {
        MemorySegment s = MemorySegment.ofArray(new double[4]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ScalarKernels().softmaxForward(Op.RELU.defaults(), DType.F64, s, s, 1, 4, 1));
        assertTrue(e.getMessage().contains("relu"), e.getMessage());
    }
}
