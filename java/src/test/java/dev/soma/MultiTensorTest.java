package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.backend.BackendKind;
import dev.soma.backend.Backends;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** forwardMany/backwardMany (one launch over an offsets table) equal one call per tensor (bit for bit on OpenCL) on every backend here. */
class MultiTensorTest {

    static Engine open(String kind) {
        BackendKind k = BackendKind.parse(kind);
        Assumptions.assumeTrue(Backends.provider(k).probe().isAvailable(), kind + " is not available here");
        return Engine.create(k);
    }

    static List<Tensor> tensors(OpArgs args, DType t, long seed, int count) {
        long[] edge = {0, 1, 3, 4095, 4096, 4097, 10_000};
        SplittableRandom r = new SplittableRandom(seed);
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long n = i < edge.length ? edge[i] : r.nextLong(1, 5000);
            out.add(Tensor.wrap(Samples.input(args, t, n, seed + i), t, n));
        }
        return out;
    }

    static List<Tensor> gradients(List<Tensor> xs, long seed) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor x : xs) {
            out.add(Tensor.wrap(Samples.gradient(x.dtype(), x.elementCount(), seed++), x.dtype(), x.shape()));
        }
        return out;
    }

    static void assertSameBits(Tensor e, Tensor a, String what) {
        assertAgree(e, a, what, true);
    }

    /**
     * Bit for bit ({@code exact}), or within 2e-6 of each other (relative, absolute below 1e-5): the
     * CPU's Vector API kernels may differ by an ulp between JIT tiers (SVML intrinsics once compiled,
     * Java fallbacks before), so two CPU calls agree within the accuracy contract, not to the bit.
     */
    static void assertAgree(Tensor e, Tensor a, String what, boolean exact) {
        for (long i = 0; i < e.elementCount(); i++) {
            long be = e.dtype() == DType.F32 ? e.segment().getAtIndex(ValueLayout.JAVA_INT, i) : e.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            long ba = a.dtype() == DType.F32 ? a.segment().getAtIndex(ValueLayout.JAVA_INT, i) : a.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            double x = e.get(i);
            double y = a.get(i);
            boolean ok = be == ba || (Double.isNaN(x) && Double.isNaN(y))
                    || (!exact && Double.isFinite(x) && Math.abs(x - y) / Math.max(Math.abs(x), 1e-5) <= 2e-6);
            if (!ok) {
                fail(what + ": element " + i + ": one call " + x + ", other " + y);
            }
        }
    }

    static void assertNoLeaks(Engine e) {
        if (e.backend() instanceof DeviceBackend d) {
            DeviceAllocator a = d.runtime().allocator();
            assertEquals(0, a.liveBuffers(), () -> "leaked " + a.describeLive());
            assertEquals(0, a.livePinned(), "pinned memory leaked");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void everyElementwiseOpEqualsOneCallPerTensor(String kind) {
        try (Engine e = open(kind)) {
            for (Op op : Op.values()) {
                if (op.family() != Family.ELEMENTWISE) {
                    continue;
                }
                OpArgs args = OpArgs.of(op);
                List<Tensor> xs = tensors(args, DType.F32, op.ordinal() * 1000L, 60);
                List<Tensor> dys = gradients(xs, 17);
                List<Tensor> ys = e.forwardMany(args, xs);
                List<Tensor> dxs = e.backwardMany(args, xs, dys);
                for (int i = 0; i < xs.size(); i++) {
                    boolean exact = !kind.equals("cpu");
                    assertAgree(e.forward(args, xs.get(i)), ys.get(i), op + " forward tensor " + i, exact);
                    assertAgree(e.backward(args, xs.get(i), dys.get(i)), dxs.get(i), op + " backward tensor " + i, exact);
                }
                assertNoLeaks(e);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void float64AndSmallBudgetsSplitIntoGroups(String kind) {
        try (Engine e = open(kind)) {
            e.setDeviceMemory(256 << 10);
            OpArgs args = OpArgs.of(Op.ELU).withAlpha(0.7);
            List<Tensor> xs = tensors(args, DType.F64, 5, 300);
            List<Tensor> ys = e.forwardMany(args, xs);
            for (int i = 0; i < xs.size(); i++) {
                assertAgree(e.forward(args, xs.get(i)), ys.get(i), "f64 tensor " + i, !kind.equals("cpu"));
            }
            assertNoLeaks(e);
        } catch (IllegalArgumentException ex) {
            Assumptions.abort("no float64 on this device: " + ex.getMessage());
        }
    }

    @Test
    void onlyElementwiseOpsAndOneDtype() {
        try (Engine e = Engine.create(BackendKind.CPU)) {
            Tensor a = Tensor.of(new float[] {1, 2});
            assertThrows(IllegalArgumentException.class, () -> e.forwardMany(OpArgs.of(Op.SOFTMAX), List.of(a)));
            assertThrows(IllegalArgumentException.class,
                    () -> e.forwardMany(OpArgs.of(Op.RELU), List.of(a, Tensor.of(new double[] {1}))));
            assertThrows(IllegalArgumentException.class, () -> e.forwardMany(OpArgs.of(Op.RELU), List.of()));
            assertThrows(IllegalArgumentException.class,
                    () -> e.backwardMany(OpArgs.of(Op.RELU), List.of(a), List.of(a, a)));
        }
    }
}
