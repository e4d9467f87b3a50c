package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.soma.backend.BackendKind;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A GPU-style backend through the benchmark: kernel-only timing on device-resident data, the
 * device-to-device copy roofline, the speed-up over the CPU, and no device buffer left behind.
 * Runs on any OpenCL device (PoCL in CI); skips, saying why, where there is none.
 */
class BenchOpenClTest {

    @Test
    void openClRowsAreKernelOnlyValidatedAndLeakFree() {
        boolean present = Targets.available().contains(BackendKind.OPENCL);
        if (Boolean.getBoolean("soma.requireOpenCL")) {
            assertTrue(present, "soma.requireOpenCL is set but no OpenCL device was found");
        }
        assumeTrue(present, "no OpenCL device here (install pocl-opencl-icd and ocl-icd-libopencl1)");
        BenchConfig cfg = new BenchConfig(List.of(BackendKind.CPU, BackendKind.OPENCL), null,
                List.of(Op.RELU, Op.GELU, Op.SOFTMAX), List.of(1000L, 1L << 14), List.of(33L, 256L), 1 << 13,
                List.of(DType.F32), List.of(Direction.FORWARD, Direction.BACKWARD),
                new TimingPlan(1, 1_000_000, 5_000_000, 3, 1_000_000), 11);
        try (BenchTarget cpu = Targets.open(BackendKind.CPU, null);
             BenchTarget cl = Targets.open(BackendKind.OPENCL, null)) {
            assumeTrue(cl instanceof DeviceTarget, "the OpenCL backend is not built on DeviceBackend");
            BenchReport r = new BenchRunner(cfg, CpuKernelsProvider.reference(), null).run(List.of(cpu, cl));
            assertEquals(List.of(), r.failures());
            assertEquals(2 * cfg.cases().size(), r.results().size());
            List<BenchResult> clRows = r.results().stream().filter(x -> x.backend().equals("opencl")).toList();
            assertEquals(cfg.cases().size(), clRows.size());
            for (BenchResult row : clRows) {
                assertTrue(row.kernelOnly(), row.toString());
                assertTrue(row.copyGbPerSecond() > 0 && Double.isFinite(row.copyGbPerSecond()),
                        "device-to-device copy measured: " + row);
                assertTrue(row.maxError() <= row.tolerance(), row.toString());
            }
            assertEquals(cfg.cases().size(), r.speedups().size());
            assertTrue(r.targets().get(1).kernelOnly());
            var allocator = ((DeviceTarget) cl).runtime().allocator();
            assertEquals(0, allocator.liveBuffers(), "device buffers leaked: " + allocator.describeLive());
            assertEquals(0, allocator.liveBytes());
        }
    }
}
