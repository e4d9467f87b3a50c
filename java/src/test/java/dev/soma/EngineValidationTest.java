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

    private static String nullMessage(Runnable r) {
        return assertThrows(NullPointerException.class, r::run).getMessage();
    }

    @Test
    void nullsAreRefusedByName() {
        assertTrue(nullMessage(() -> engine.forward(Op.RELU, null)).startsWith("x is null"));
        assertTrue(nullMessage(() -> engine.forward((OpArgs) null, Tensor.of(new float[1]))).startsWith("args is null"));
        assertTrue(nullMessage(() -> engine.backward(Op.RELU, Tensor.of(new float[1]), null)).startsWith("dy is null"));
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
        assertTrue(nullMessage(() -> engine.prelu(x, null)).startsWith("weight is null"));
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new float[2])))
                .contains("weight has 2 elements but x (2, 3, 4) has 3 channel(s) along axis 1; pass 1 or 3 weights"));
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new float[3], 1, 3))).contains("must be 1-D"));
        assertTrue(message(() -> engine.prelu(x, Tensor.of(new double[3]))).contains("weight is float64 but x is float32"));
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
        assertTrue(message(() -> engine.preluBackward(x, w, dy, null, w)).contains("dw is weight itself"));
    }

    /** The overlap refusals leave exact aliasing alone: in place, through the same object or another view, agrees with a copy. */
    @Test
    void inPlaceStillWorksWhereDocumented() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        float[] xs = new float[2 * 3 * 33];
        float[] dys = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) r.nextDouble(-4, 4);
            dys[i] = (float) r.nextDouble(-1, 1);
        }
        Tensor w = Tensor.of(new float[] {0.25f, -0.5f, 2f});
        OpArgs softmax = OpArgs.of(Op.SOFTMAX).withAxis(1);
        Tensor y = engine.forward(softmax, Tensor.of(xs.clone(), 2, 3, 33));
        Tensor x = Tensor.of(xs.clone(), 2, 3, 33);
        Tensor sameMemory = Tensor.wrap(x.segment(), x.dtype(), x.shape());
        assertSame(sameMemory, engine.forward(softmax, x, sameMemory));
        assertArrayEquals(y.toFloatArray(), x.toFloatArray());

        Tensor dx = engine.backward(softmax, Tensor.of(xs.clone(), 2, 3, 33), Tensor.of(dys.clone(), 2, 3, 33));
        Tensor x2 = Tensor.of(xs.clone(), 2, 3, 33);
        engine.backward(softmax, x2, Tensor.of(dys.clone(), 2, 3, 33), x2);
        assertArrayEquals(dx.toFloatArray(), x2.toFloatArray(), "dx aliasing x");
        Tensor dy2 = Tensor.of(dys.clone(), 2, 3, 33);
        engine.backward(softmax, Tensor.of(xs.clone(), 2, 3, 33), dy2, dy2);
        assertArrayEquals(dx.toFloatArray(), dy2.toFloatArray(), "dx aliasing dy");

        Tensor py = engine.prelu(Tensor.of(xs.clone(), 2, 3, 33), w);
        Tensor x3 = Tensor.of(xs.clone(), 2, 3, 33);
        engine.prelu(x3, w, x3);
        assertArrayEquals(py.toFloatArray(), x3.toFloatArray(), "prelu in place");

        PreluGradients g = engine.preluBackward(Tensor.of(xs.clone(), 2, 3, 33), w, Tensor.of(dys.clone(), 2, 3, 33));
        Tensor x4 = Tensor.of(xs.clone(), 2, 3, 33);
        PreluGradients g4 = engine.preluBackward(x4, w, Tensor.of(dys.clone(), 2, 3, 33), x4, null);
        assertArrayEquals(g.dx().toFloatArray(), x4.toFloatArray(), "prelu dx aliasing x");
        assertArrayEquals(g.dw().toFloatArray(), g4.dw().toFloatArray(), "prelu dw with dx aliasing x");
    }

    @Test
    void negativeAxesCountFromTheEndLikePyTorch() {
        Tensor x = Tensor.allocate(DType.F32, 2, 3, 4);
        assertEquals(4, x.dim(-1));
        assertEquals(2, x.dim(-3));
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(1), a).toFloatArray(),
                engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(-1), a).toFloatArray());
        assertArrayEquals(engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(0), a).toFloatArray(),
                engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(-2), a).toFloatArray());
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
        // No elements, but a dimension near Long.MAX_VALUE: nothing overflows, nothing is allocated.
        for (long[] s : new long[][] {{0, Long.MAX_VALUE / 8}, {Long.MAX_VALUE / 8, 0}}) {
            Tensor e = Tensor.allocate(DType.F32, s);
            for (int axis = 0; axis < 2; axis++) {
                assertEquals(0, engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(axis), e).elementCount());
                assertEquals(0, engine.backward(OpArgs.of(Op.LOG_SOFTMAX).withAxis(axis), e, e).elementCount());
            }
            assertEquals(0, engine.prelu(e, Tensor.of(new float[] {0.5f})).elementCount());
        }
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
