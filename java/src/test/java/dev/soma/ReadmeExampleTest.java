package dev.soma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import org.junit.jupiter.api.Test;

/** The README's API example, line for line, so the first code a newcomer copies compiles and works. */
class ReadmeExampleTest {

    @Test
    void theReadmeExampleRunsAndGivesPyTorchsAnswers() {
        try (Engine engine = Engine.create()) {
            Tensor x = Tensor.of(new float[] {-2f, -0.5f, 0f, 1.5f}, 2, 2);
            Tensor y = engine.forward(Op.GELU, x);
            Tensor p = engine.forward(OpArgs.of(Op.SOFTMAX).withAxis(0), x);
            Tensor dy = Tensor.of(new float[] {1f, 1f, 1f, 1f}, 2, 2);
            Tensor dx = engine.backward(Op.GELU, x, dy);
            Tensor w = Tensor.of(new float[] {0.25f, 0.1f});
            PreluGradients g = engine.preluBackward(x, w, dy);
            engine.forward(OpArgs.of(Op.LEAKY_RELU).withAlpha(0.2), x, x);

            // torch.nn.functional.gelu([-2, -0.5, 0, 1.5]) = [-0.04550026, -0.15426877, 0, 1.39978919]
            assertArrayEquals(new float[] {-0.04550026f, -0.15426877f, 0f, 1.3997892f}, y.toFloatArray(), 1e-6f);
            // columns of p sum to 1: softmax along axis 0
            assertEquals(1.0, p.get(0) + p.get(2), 1e-6);
            assertEquals(1.0, p.get(1) + p.get(3), 1e-6);
            // gelu'(0) = 0.5
            assertEquals(0.5, dx.get(2), 1e-7);
            assertArrayEquals(new long[] {2}, g.dw().shape());
            // channel 0 holds -2 and 0: dL/dw0 = -2; channel 1 holds -0.5 and 1.5: dL/dw1 = -0.5
            assertArrayEquals(new float[] {-2f, -0.5f}, g.dw().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {-0.4f, -0.1f, 0f, 1.5f}, x.toFloatArray(), 1e-6f);
        }
    }
}
