package dev.soma.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.fallback.CpuKernelsProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The benchmarks' setup check must pass a right result and refuse a poisoned or slightly wrong one. */
class OpCaseCheckTest {

    @ParameterizedTest
    @CsvSource({"gelu, forward, F32, 65536, 1", "softmax, backward, F32, 65536, 1024", "log_softmax, forward, F64, 4096, 32",
        "prelu, backward, F32, 65536, 1"})
    void passesTheCpuResultAndRefusesWrongOnes(String op, String direction, String dtype, long size, long row) {
        try (OpCase c = new OpCase(op, direction, dtype, size, row);
             Tensor out = Tensor.allocateNative(c.dtype, c.shape);
             Engine cpu = Engine.over(new CpuBackend(CpuKernelsProvider.reference()))) {
            c.poison(out);
            IllegalStateException poisoned = assertThrows(IllegalStateException.class, () -> c.validate("poisoned", out));
            assertTrue(poisoned.getMessage().contains("refuses to time"), poisoned.getMessage());

            if (c.isPrelu()) {
                try (Tensor dw = Tensor.allocateNative(c.dtype, OpCase.PRELU_CHANNELS)) {
                    cpu.preluBackward(c.x, c.w, c.dy, out, dw);
                }
            } else if (c.backward) {
                cpu.backward(c.args, c.x, c.dy, out);
            } else {
                cpu.forward(c.args, c.x, out);
            }
            assertDoesNotThrow(() -> c.validate("cpu", out));

            // One element near the end (the last window), off by far more than the tolerance
            // even against a softmax row scale.
            long i = size - 3;
            double v = out.get(i);
            out.set(i, Double.isFinite(v) ? v + Math.max(Math.abs(v), 1) * 0.1 : 0.5);
            assertThrows(IllegalStateException.class, () -> c.validate("one wrong element", out));
        }
    }
}
