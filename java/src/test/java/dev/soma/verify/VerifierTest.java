package dev.soma.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The verifier passes the reference against itself and catches each kind of broken backend. */
class VerifierTest {

    /** The reference, with a fault applied to every output it writes. */
    static final class FaultyBackend implements Backend {
        final Backend inner = new CpuBackend(CpuKernelsProvider.reference());
        final BiConsumer<OpArgs, Tensor> fault;

        FaultyBackend(BiConsumer<OpArgs, Tensor> fault) {
            this.fault = fault;
        }

        @Override
        public BackendKind kind() {
            return BackendKind.CPU;
        }

        @Override
        public String description() {
            return "faulty";
        }

        @Override
        public void forward(OpArgs args, Tensor x, Tensor weight, Tensor y) {
            inner.forward(args, x, weight, y);
            fault.accept(args, y);
        }

        @Override
        public void backward(OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw) {
            inner.backward(args, x, weight, dy, dx, dw);
            fault.accept(args, dx);
        }

        @Override
        public void close() {
        }
    }

    private static List<VerifyResult> verify(Backend b, List<Op> ops, List<DType> dtypes) {
        List<VerifyResult> seen = new ArrayList<>();
        try (Verifier v = new Verifier(42); Engine e = Engine.over(b)) {
            List<VerifyResult> r = v.verify(e, "test", ops, dtypes, seen::add);
            assertEquals(r, seen, "every result is reported as it is made");
            return r;
        }
    }

    @Test
    void referenceAgainstItselfPasses() {
        List<VerifyResult> r = verify(new CpuBackend(CpuKernelsProvider.reference()), List.of(Op.values()),
                List.of(DType.F32, DType.F64));
        assertEquals(Op.values().length * 4, r.size());
        for (VerifyResult x : r) {
            assertEquals(VerifyResult.Status.OK, x.status(), x.toString());
            assertEquals(0.0, x.maxError(), x.toString());
            assertTrue(x.cases() > 5 && x.elements() > 1000, x.toString());
        }
    }

    @Test
    void catchesAnErrorJustOverTolerance() {
        // Every element off by 3e-6, relative: over float32's 1e-6.
        Backend b = new FaultyBackend((a, y) -> {
            for (long i = 0; i < y.elementCount(); i++) {
                if (Math.abs(y.get(i)) < 1e30) {
                    y.set(i, y.get(i) * (1 + 3e-6));
                }
            }
        });
        for (VerifyResult x : verify(b, List.of(Op.GELU, Op.SOFTMAX, Op.PRELU), List.of(DType.F32))) {
            assertEquals(VerifyResult.Status.FAIL, x.status(), x.toString());
            assertTrue(x.maxError() > 2e-6 && x.maxError() < 4e-6, x.toString());
        }
    }

    @Test
    void catchesAnUnwrittenTail() {
        // The last element is left as it was (poisoned): a classic vector-tail bug.
        Backend b = new FaultyBackend((a, y) -> {
            if (y.elementCount() > 16) {
                y.set(y.elementCount() - 1, Verifier.POISON);
            }
        });
        for (VerifyResult x : verify(b, List.of(Op.RELU, Op.LOG_SOFTMAX), List.of(DType.F64))) {
            assertEquals(VerifyResult.Status.FAIL, x.status(), x.toString());
        }
    }

    @Test
    void catchesNaNHandling() {
        // NaN in must give NaN out: a backend that lets NaN become 0 fails.
        Backend b = new FaultyBackend((a, y) -> {
            for (long i = 0; i < y.elementCount(); i++) {
                if (Double.isNaN(y.get(i))) {
                    y.set(i, 0);
                }
            }
        });
        for (VerifyResult x : verify(b, List.of(Op.TANH), List.of(DType.F32))) {
            assertEquals(VerifyResult.Status.FAIL, x.status(), x.toString());
            assertEquals(Double.POSITIVE_INFINITY, x.maxError());
        }
    }

    @Test
    void aThrowingBackendIsAFailureNotACrash() {
        Backend b = new FaultyBackend((a, y) -> {
            throw new IllegalStateException("kernel exploded");
        });
        List<VerifyResult> r = verify(b, List.of(Op.SILU), List.of(DType.F32));
        assertEquals(2, r.size());
        for (VerifyResult x : r) {
            assertEquals(VerifyResult.Status.FAIL, x.status());
            assertTrue(x.worst().contains("kernel exploded"), x.worst());
        }
    }

    @Test
    void metricFollowsTheContract() {
        assertEquals(0, ErrorMetric.error(Double.NaN, Double.NaN, DType.F32));
        assertEquals(Double.POSITIVE_INFINITY, ErrorMetric.error(0, Double.NaN, DType.F32));
        assertEquals(Double.POSITIVE_INFINITY, ErrorMetric.error(Double.NaN, 0, DType.F64));
        // selu(3.4e38) overflows float32: +inf is the right float32 answer, not in float64.
        assertEquals(0, ErrorMetric.error(Double.POSITIVE_INFINITY, 3.57e38, DType.F32));
        assertEquals(Double.POSITIVE_INFINITY, ErrorMetric.error(Double.POSITIVE_INFINITY, 3.57e38, DType.F64));
        assertEquals(1e-6, ErrorMetric.error(2e-6, 1e-6, DType.F64), 1e-20, "absolute below 1e-5");
        assertEquals(0.5, ErrorMetric.error(3e-5, 2e-5, DType.F64), 1e-12, "relative above 1e-5");
        assertEquals(0, ErrorMetric.error(-0.0, 0.0, DType.F32), "the sign of zero is not part of the contract");
        assertEquals(0, ErrorMetric.error((float) 0.1, 0.1, DType.F32), "a correctly rounded float32 result is exact");
        assertEquals(1e-6, ErrorMetric.tolerance(DType.F32));
    }
}
