package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.fallback.Samples;
import dev.soma.leak.LeakCheck;
import dev.soma.leak.Leaks;
import dev.soma.leak.NativeResource;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Device-resident tensors: chains on the device equal host chains, futures, explicit counted lifetimes. */
class DeviceTensorTest {

    static Tensor input(OpArgs args, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Tensor.wrap(Samples.input(args, DType.F32, n, seed), DType.F32, shape);
    }

    static void assertNoDeviceMemory(Engine e) {
        if (e.backend() instanceof DeviceBackend d) {
            DeviceAllocator a = d.runtime().allocator();
            assertEquals(0, a.liveBuffers(), () -> "leaked " + a.describeLive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void aTrainingStepOnTheDeviceEqualsTheHostChain(String kind) {
        try (Engine e = MultiTensorTest.open(kind)) {
            OpArgs gelu = OpArgs.of(Op.GELU);
            OpArgs softmax = OpArgs.of(Op.SOFTMAX).withAxis(1);
            Tensor x = input(gelu, 1, 64, 300);
            Tensor dy = Tensor.wrap(Samples.gradient(DType.F32, x.elementCount(), 2), DType.F32, x.shape());
            // Host: each op uploads and downloads.
            Tensor h1 = e.forward(gelu, x);
            Tensor h2 = e.forward(softmax, h1);
            Tensor hg1 = e.backward(softmax, h1, dy);
            Tensor hg0 = e.backward(gelu, x, hg1);
            // Device: upload once, download what is needed.
            try (DeviceTensor dx = e.upload(x); DeviceTensor ddy = e.upload(dy);
                 DeviceTensor d1 = e.forward(gelu, dx); DeviceTensor d2 = e.forward(softmax, d1);
                 DeviceTensor dg1 = e.backward(softmax, d1, ddy); DeviceTensor dg0 = e.backward(gelu, dx, dg1)) {
                assertEquals(6, e.liveDeviceTensors());
                MultiTensorTest.assertAgree(h2, e.download(d2), "softmax(gelu(x))", !kind.equals("cpu"));
                MultiTensorTest.assertAgree(hg0, e.download(dg0), "the gradient", !kind.equals("cpu"));
            }
            assertEquals(0, e.liveDeviceTensors());
            assertNoDeviceMemory(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void futuresLetHostWorkOverlap(String kind) throws Exception {
        try (Engine e = MultiTensorTest.open(kind)) {
            OpArgs tanh = OpArgs.of(Op.TANH);
            Tensor x = input(tanh, 3, 100_000);
            Tensor expected = e.forward(tanh, x);
            try (DeviceTensor dx = e.upload(x)) {
                CompletableFuture<DeviceTensor> y = e.forwardAsync(tanh, dx);
                CompletableFuture<Tensor> host = y.thenCompose(e::downloadAsync);
                MultiTensorTest.assertAgree(expected, host.get(), "async", !kind.equals("cpu"));
                y.get().close();
            }
            assertEquals(0, e.liveDeviceTensors());
            assertNoDeviceMemory(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void lifetimesAreExplicitCountedAndLeaksReported(String kind) {
        Engine e = MultiTensorTest.open(kind);
        DeviceTensor kept;
        long beforeLeaks;
        try (Engine other = MultiTensorTest.open("cpu")) {
            Tensor x = Tensor.of(new float[] {-2, -1, 0, 1, 2});
            DeviceTensor d = e.upload(x);
            x.set(0, 100);  // the device copy does not see later host writes
            assertEquals(-2f, e.download(d).toFloatArray()[0]);
            d.close();
            d.close();
            assertTrue(d.isClosed());
            assertThrows(IllegalStateException.class, () -> e.download(d));
            assertThrows(IllegalStateException.class, () -> e.forward(OpArgs.of(Op.RELU), d));
            try (DeviceTensor foreign = other.upload(x)) {
                assertThrows(IllegalArgumentException.class, () -> e.forward(OpArgs.of(Op.RELU), foreign));
            }
            beforeLeaks = Leaks.lastSequence();
            assertThrows(IllegalArgumentException.class, () -> e.forward(OpArgs.of(Op.SOFTMAX).withAxis(3), e.upload(x)));
            kept = e.upload(x);  // leaked on purpose (plus the one in the failed call above)
            assertEquals(2, e.liveDeviceTensors());
        }
        e.close();
        assertEquals(0, e.liveDeviceTensors(), "the engine frees and reports leaked device tensors");
        assertTrue(kept.isClosed());
        assertNoDeviceMemory(e);
        // Both are reported as leaks: by the engine's close, or by the Cleaner if the dropped one was collected first.
        List<NativeResource> leaks = LeakCheck.takeReportsBetween(beforeLeaks, Leaks.lastSequence());
        assertEquals(List.of("device tensor", "device tensor"), leaks.stream().map(NativeResource::kind).toList(),
                () -> "leaks reported: " + leaks);
    }
}
