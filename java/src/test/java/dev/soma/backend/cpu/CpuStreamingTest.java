package dev.soma.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.Tensor;
import dev.soma.backend.ChainStep;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The CPU's chunked chains: with chunks small enough for dozens of them, every op (softmax on
 * every axis, PReLU with C weights) equals the one-call result (to the bit, or within an ulp where
 * the Vector API kernels differ between JIT tiers), and an interrupt stops the run between chunks.
 */
class CpuStreamingTest {
    final CpuBackend cpu = new CpuBackend(CpuKernelsProvider.fastest());

    static Tensor input(OpArgs args, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Tensor.wrap(Samples.input(args, DType.F32, n, seed), DType.F32, shape);
    }

    static Tensor poisoned(Tensor like) {
        return Tensor.wrap(Samples.allocate(like.dtype(), like.elementCount()), like.dtype(), like.shape());
    }

    static void assertSameBits(Tensor e, Tensor a, String what) {
        for (long i = 0; i < e.elementCount(); i++) {
            int be = e.segment().getAtIndex(ValueLayout.JAVA_INT, i);
            int ba = a.segment().getAtIndex(ValueLayout.JAVA_INT, i);
            double x = e.get(i);
            double y = a.get(i);
            // An ulp apart is allowed: the Vector API kernels may differ by one between JIT tiers.
            boolean close = Double.isFinite(x) && Math.abs(x - y) / Math.max(Math.abs(x), 1e-5) <= 2e-6;
            if (be != ba && !(Float.isNaN(Float.intBitsToFloat(be)) && Float.isNaN(Float.intBitsToFloat(ba))) && !close) {
                fail(what + ": element " + i + ": one call " + e.get(i) + ", chunked " + a.get(i));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void chunkedEqualsOneCall(Op op) {
        long[][] shapes = op.family() == Family.ELEMENTWISE ? new long[][] {{100_003}}
                : new long[][] {{60, 50, 40}, {30, 4000}};
        for (long[] shape : shapes) {
            int axes = op.family() == Family.ROW_REDUCTION ? shape.length : 1;
            for (int axis = 0; axis < axes; axis++) {
                OpArgs args = op.family() == Family.ROW_REDUCTION ? OpArgs.of(op).withAxis(axis) : OpArgs.of(op);
                Tensor x = input(args, 7 + axis, shape);
                Tensor w = op == Op.PRELU ? Tensor.wrap(Samples.preluWeights(DType.F32, shape[1], 3), DType.F32, shape[1]) : null;
                Tensor once = poisoned(x);
                cpu.forward(args, x, w, once);
                Tensor chunked = poisoned(x);
                cpu.setChainChunkElements(3000);
                AtomicInteger chunks = new AtomicInteger();
                cpu.forwardChain(List.of(new ChainStep(args, w)), x, chunked, d -> chunks.incrementAndGet());
                if (axis > 0 || op.family() != Family.ROW_REDUCTION) {
                    org.junit.jupiter.api.Assertions.assertTrue(chunks.get() >= 12, op + ": only " + chunks + " chunks");
                }
                assertSameBits(once, chunked, op + " axis " + axis + " " + java.util.Arrays.toString(shape));
            }
        }
    }

    @Test
    void interruptStopsBetweenChunks() {
        OpArgs args = OpArgs.of(Op.TANH);
        Tensor x = input(args, 1, 100_000);
        cpu.setChainChunkElements(1000);
        AtomicInteger calls = new AtomicInteger();
        assertThrows(CancellationException.class, () -> cpu.forwardChain(List.of(ChainStep.of(args)), x, poisoned(x), d -> {
            if (calls.incrementAndGet() == 5) {
                Thread.currentThread().interrupt();
            }
        }));
        assertEquals(5, calls.get());
    }
}
