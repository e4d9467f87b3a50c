package dev.soma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.BackendKind;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the engine refuses before any backend runs, and the basic shapes of its answers. */
class EngineValidationTest {
    private Engine engine;

    @BeforeEach
    void open() {
        engine = Engine.create(BackendKind.CPU);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void forwardReturnsANewTensorOfTheSameShape() {
        Tensor x = Tensor.of(new float[] {-1f, 0f, 2f, 3f}, 2, 2);
        Tensor y = engine.forward(Op.RELU, x);
        assertArrayEquals(new long[] {2, 2}, y.shape());
        assertArrayEquals(new float[] {0f, 0f, 2f, 3f}, y.toFloatArray());
        assertArrayEquals(new float[] {-1f, 0f, 2f, 3f}, x.toFloatArray(), "input untouched");
    }

    @Test
    void inPlaceWritesTheInput() {
        Tensor x = Tensor.of(new double[] {-2, 5});
        Tensor y = engine.forward(OpArgs.of(Op.LEAKY_RELU).withAlpha(0.5), x, x);
        assertSame(x, y);
        assertArrayEquals(new double[] {-1, 5}, x.toDoubleArray());
    }

    @Test
    void nullsAreRefusedByName() {
        assertTrue(message(() -> engine.forward(Op.RELU, null)).startsWith("x is null"));
        assertTrue(message(() -> engine.forward((OpArgs) null, Tensor.of(new float[1]))).contains("op arguments are null"));
        assertTrue(message(() -> engine.backward(Op.RELU, Tensor.of(new float[1]), null)).startsWith("dy is null"));
    }

    @Test
    void outputShapeAndDtypeMustMatch() {
        Tensor x = Tensor.of(new float[6], 2, 3);
        assertTrue(message(() -> engine.forward(OpArgs.of(Op.TANH), x, Tensor.of(new float[6], 3, 2)))
                .contains("out has shape (3, 2) but x has (2, 3)"));
        assertTrue(message(() -> engine.forward(OpArgs.of(Op.TANH), x, Tensor.of(new double[6], 2, 3)))
                .contains("out is float64 but x is float32"));
        assertTrue(message(() -> engine.backward(Op.TANH, x, Tensor.of(new float[5])))
                .contains("dy has shape (5,) but x has (2, 3)"));
    }

    @Test
    void softmaxAxisOutOfRangeIsRefused() {
        Tensor x = Tensor.of(new float[6], 2, 3);
        assertTrue(message(() -> engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(2), x))
                .contains("axis 2 is out of range for a tensor of rank 2; use an axis in [-2, 1]"));
    }

    @Test
    void preluNeedsAWeightOfOneOrChannelsElements() {
        Tensor x = Tensor.of(new float[24], 2, 3, 4);
        assertTrue(message(() -> engine.forward(Op.PRELU, x)).contains("call engine.prelu(x, weight)"));
        assertTrue(message(() -> engine.prelu(x, null)).contains("prelu weight is null"));
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new float[2])))
                .contains("prelu weight has 2 elements but x (2, 3, 4) has 3 channel(s) along axis 1; pass 1 or 3 weights"));
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new float[3], 1, 3))).contains("must be 1-D"));
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new double[3]))).contains("prelu weight is float64"));
        assertTrue(message(() -> engine.backward(Op.PRELU, x, x)).contains("engine.preluBackward"));
    }

    @Test
    void preluOfARankOneTensorTakesOneWeight() {
        Tensor x = Tensor.of(new float[] {-2f, 3f});
        assertArrayEquals(new float[] {-0.5f, 3f}, engine.prelu(x, Tensor.of(new float[] {0.25f})).toFloatArray());
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new float[2]))).contains("has 1 channel(s)"));
    }

    @Test
    void preluBackwardGivesBothGradients() {
        Tensor x = Tensor.of(new double[] {-1, 2, -3, 4}, 2, 2);
        Tensor w = Tensor.of(new double[] {0.5, 0.25});
        Tensor dy = Tensor.of(new double[] {1, 1, 1, 1}, 2, 2);
        PreluGradients g = engine.preluBackward(x, w, dy);
        assertArrayEquals(new double[] {0.5, 1, 0.5, 1}, g.dx().toDoubleArray());
        // channel 0 holds x = -1 and -3; channel 1 holds only positives.
        assertArrayEquals(new double[] {-4, 0}, g.dw().toDoubleArray());
        assertTrue(message(() -> engine.preluBackward(x, w, dy, null, w)).contains("dw must not alias"));
    }

    @Test
    void closedEngineRefusesWork() {
        engine.close();
        engine.close();
        var e = assertThrows(IllegalStateException.class, () -> engine.forward(Op.RELU, Tensor.of(new float[1])));
        assertTrue(e.getMessage().contains("engine is closed"), e.getMessage());
    }

    @Test
    void unknownBackendNameListsTheChoices() {
        assertTrue(message(() -> Engine.create("tpu")).contains("use one of auto, cpu, opencl, cuda"));
    }

    @Test
    void emptyTensorsAreFine() {
        Tensor x = Tensor.allocate(DType.F32, 0, 5);
        assertEquals(0, engine.forward(Op.SOFTMAX, x).elementCount());
        assertEquals(0, engine.backward(Op.GELU, x, x).elementCount());
    }

    @Test
    void autoFallsBackToACpuOrGivesAGpu() {
        try (Engine auto = Engine.create()) {
            assertTrue(auto.backendKind() != BackendKind.AUTO);
            Tensor y = auto.forward(Op.SIGMOID, Tensor.of(new float[] {0f}));
            assertEquals(0.5, y.get(0));
        }
    }
}
