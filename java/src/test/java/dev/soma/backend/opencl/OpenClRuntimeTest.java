package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.backend.Availability;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.Backends;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The OpenCL host side: discovery, selection, lifecycle, allocator accounting, transfers, the shared DeviceBackend. */
class OpenClRuntimeTest {

    @Test
    void registeredBeforeTheCpu() {
        List<BackendKind> kinds = Backends.providers().stream().map(BackendProvider::kind).toList();
        assertTrue(kinds.indexOf(BackendKind.OPENCL) >= 0 && kinds.indexOf(BackendKind.OPENCL) < kinds.indexOf(BackendKind.CPU),
                "OpenCL must come before the CPU in " + kinds);
    }

    @Test
    void probeDescribesEveryDevice() {
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            Availability a = new OpenClBackendProvider().probe();
            assertTrue(a.isAvailable());
            for (DeviceInfo d : a.devices()) {
                assertFalse(d.name().isBlank());
                assertTrue(d.memoryBytes() > 0 && d.computeUnits() > 0 && d.vectorWidth() >= 1, d.toString());
            }
            DeviceInfo info = rt.info();
            assertEquals(info.memoryBytes(), rt.allocator().budgetBytes(), "the allocator's budget is the device memory");
            assertEquals(!info.notes().contains("no cl_khr_fp64"), rt.supports(DType.F64));
            // A CPU OpenCL device (PoCL) is never what auto takes.
            assertEquals(a.devices().stream().anyMatch(DeviceInfo::gpu), a.hasGpu());
        }
    }

    @Test
    void selectsByIndexOrNameAndSaysWhatExists() {
        List<OpenClPlatforms.Found> devices = OpenClPlatforms.discover().devices();
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            String name = rt.info().name();
            assertEquals(0, OpenClPlatforms.select(devices, "0").info().index());
            String part = name.substring(0, Math.min(6, name.length())).toUpperCase(java.util.Locale.ROOT);
            assertTrue(OpenClPlatforms.select(devices, part).info().name().toUpperCase(java.util.Locale.ROOT).contains(part));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenClPlatforms.select(devices, "no-such-device-xyz"));
        assertTrue(e.getMessage().contains("0: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> OpenClPlatforms.select(devices, "99"));
    }

    @Test
    void thousandCyclesLeaveNothingBehind() {
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            long before = rt.allocator().totalAllocations();
            float[] host = new float[257];
            for (int i = 0; i < host.length; i++) {
                host[i] = i - 128;
            }
            float[] out = new float[host.length];
            for (int cycle = 0; cycle < 1000; cycle++) {
                try (DeviceBuffer x = rt.allocate(4L * host.length); DeviceBuffer y = rt.allocate(4L * host.length)) {
                    rt.upload(MemorySegment.ofArray(host), x, 0, 4L * host.length);
                    rt.forward(OpArgs.of(Op.values()[cycle % 4 == 0 ? 2 : 8]), DType.F32, x, y, host.length);
                    rt.download(y, 0, MemorySegment.ofArray(out), 4L * host.length);
                }
            }
            assertEquals(0, rt.allocator().liveBuffers());
            assertEquals(0, rt.allocator().liveBytes());
            assertEquals(2000, rt.allocator().totalAllocations() - before);
            assertEquals(0.0f, out[0], 0.0f); // gelu(-128): a zero of either sign
            int programsAndKernels = rt.nativeObjectCount();
            // relu and gelu: one program and one forward kernel each
            assertEquals(4, programsAndKernels, "kernels are cached, not created per launch");
        }
    }

    @Test
    void theSharedDeviceBackendRunsTensors() {
        try (DeviceBackend b = (DeviceBackend) new OpenClBackendProvider().open(System.getProperty("soma.opencl.device"))) {
            assertEquals(BackendKind.OPENCL, b.kind());
            Tensor x = Tensor.of(new float[] {-2, -0.5f, 0, 1, Float.NaN}, 5);
            Tensor y = Tensor.allocate(DType.F32, 5);
            b.forward(OpArgs.of(Op.RELU), x, null, y);
            assertEquals(List.of(0f, 0f, 0f, 1f), List.of(y.toFloatArray()[0], y.toFloatArray()[1], y.toFloatArray()[2],
                    y.toFloatArray()[3]));
            assertTrue(Float.isNaN(y.toFloatArray()[4]));
            // Off-heap tensors travel through direct buffers; in place is allowed.
            try (Tensor big = Tensor.allocateNative(DType.F64, 3, 4, 5)) {
                for (long i = 0; i < big.elementCount(); i++) {
                    big.set(i, i - 30);
                }
                b.forward(OpArgs.of(Op.SOFTMAX).withAxis(1), big, null, big);
                double sum = 0;
                for (int k = 0; k < 4; k++) {
                    sum += big.get(k * 5);
                }
                assertEquals(1.0, sum, 1e-12);
            }
            Tensor w = Tensor.of(new float[] {0.5f});
            Tensor dx = Tensor.allocate(DType.F32, 5);
            Tensor dw = Tensor.allocate(DType.F32, 1);
            b.backward(OpArgs.of(Op.PRELU), x, w, Tensor.of(new float[] {1, 1, 1, 1, 1}, 5), dx, dw);
            assertEquals(0.5f, dx.toFloatArray()[0]);
            assertTrue(Float.isNaN(dw.toFloatArray()[0]), "a NaN input makes dw NaN");
            assertEquals(0, b.runtime().allocator().liveBuffers());
        }
    }

    /** Many threads share one device: calls are serialised onto its queue, results stay right, nothing leaks. */
    @Test
    void concurrentCallersShareOneDevice() throws Exception {
        try (DeviceBackend b = (DeviceBackend) new OpenClBackendProvider().open(System.getProperty("soma.opencl.device"))) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
            try {
                List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
                for (int task = 0; task < 8; task++) {
                    final int seed = task;
                    results.add(pool.submit(() -> {
                        for (int rep = 0; rep < 40; rep++) {
                            float[] v = new float[1 + (seed * 37 + rep * 11) % 300];
                            for (int i = 0; i < v.length; i++) {
                                v[i] = i - seed - rep;
                            }
                            Tensor y = Tensor.allocate(DType.F32, v.length);
                            b.forward(OpArgs.of(rep % 2 == 0 ? Op.RELU : Op.SOFTMAX), Tensor.of(v), null, y);
                            for (int i = 0; i < v.length && rep % 2 == 0; i++) {
                                if (y.get(i) != Math.max(v[i], 0)) {
                                    return false;
                                }
                            }
                        }
                        return true;
                    }));
                }
                for (var f : results) {
                    assertTrue(f.get(120, java.util.concurrent.TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(0, b.runtime().allocator().liveBuffers());
        }
    }

    @Test
    void anEngineOnTheOpenClBackend() {
        try (OpenClRuntime probe = OpenClTestDevice.open()) {
            probe.synchronize(); // skips the test (or fails it in CI) when there is no device
        }
        try (dev.soma.Engine engine = dev.soma.Engine.create(BackendKind.OPENCL, System.getProperty("soma.opencl.device"))) {
            assertEquals(BackendKind.OPENCL, engine.backendKind());
            Tensor y = engine.forward(Op.GELU, Tensor.of(new double[] {-1, 0, 1, Double.NEGATIVE_INFINITY}));
            assertEquals(-0.15865525393145707, y.get(0), 1e-15);
            assertEquals(0.8413447460685429, y.get(2), 1e-15);
            assertEquals(0.0, y.get(3), 0.0);
        }
    }

    @Test
    void hostSegmentsAtOffsetsAndNative() {
        try (OpenClRuntime rt = OpenClTestDevice.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment nat = arena.allocate(8 * 100, 8);
            for (int i = 0; i < 100; i++) {
                nat.setAtIndex(ValueLayout.JAVA_DOUBLE, i, i);
            }
            double[] back = new double[10];
            try (DeviceBuffer b = rt.allocate(8 * 100)) {
                rt.upload(nat, b, 0, 8 * 100);
                rt.download(b, 8 * 40, MemorySegment.ofArray(back), 8 * 10);
                assertEquals(40.0, back[0]);
                assertEquals(49.0, back[9]);
                // a heap segment that is a slice of a larger array
                double[] big = new double[20];
                rt.download(b, 0, MemorySegment.ofArray(big).asSlice(8 * 5, 8 * 10), 8 * 10);
                assertEquals(0.0, big[5]);
                assertEquals(9.0, big[14]);
                assertThrows(IndexOutOfBoundsException.class, () -> rt.download(b, 8 * 95, MemorySegment.ofArray(back), 8 * 10));
            }
        }
    }

    @Test
    void emptyAndTooLargeBuffers() {
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            try (DeviceBuffer empty = rt.allocate(0)) {
                rt.forward(OpArgs.of(Op.GELU), DType.F32, empty, empty, 0);
                assertEquals(0, rt.allocator().liveBytes());
            }
            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                    () -> rt.allocate(rt.allocator().budgetBytes() + 1));
            assertTrue(e.getMessage().contains("asked for"), e.getMessage());
            assertEquals(0, rt.allocator().liveBuffers());
            assertEquals(0, rt.allocator().liveBytes());
        }
    }

    @Test
    void closedRuntimeRefusesWorkAndCloseIsIdempotent() {
        OpenClRuntime rt = OpenClTestDevice.open();
        DeviceBuffer leaked = rt.allocate(64);
        long seq = dev.soma.leak.Leaks.lastSequence();
        rt.close();
        assertTrue(leaked.isClosed(), "close frees buffers still live");
        assertTrue(dev.soma.leak.LeakCheck.takeReport(seq) != null, "and reports them as leaks");
        assertEquals(0, rt.allocator().liveBuffers());
        rt.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> rt.allocate(8));
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void programsAreBuiltOnceAndTimed() {
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            try (DeviceBuffer b = rt.allocate(16)) {
                rt.forward(OpArgs.of(Op.TANH), DType.F32, b, b, 4);
                rt.backward(OpArgs.of(Op.TANH), DType.F32, b, b, b, 4);
                rt.synchronize();
            }
            // one program for tanh (its op code compiled in), built once for forward and backward
            assertEquals(List.of("elementwise.cl -DSOMA_FIXED_OP=1"), List.copyOf(rt.buildNanos().keySet()));
            assertTrue(rt.buildNanos().get("elementwise.cl -DSOMA_FIXED_OP=1") > 0);
        }
    }

    @Test
    void includesAreInlinedWithLineMarkers() {
        String src = OpenClSources.load("softmax.cl");
        assertFalse(src.matches("(?s).*#\\s*include\\s*\".*"), "every quoted include is inlined");
        assertTrue(src.contains("#line 1 \"soma_math.h\""));
        assertTrue(src.contains("softmax_split_stats_"));
    }
}
