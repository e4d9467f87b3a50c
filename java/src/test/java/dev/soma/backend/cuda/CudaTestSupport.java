package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.soma.Engine;
import dev.soma.backend.Availability;
import dev.soma.backend.BackendKind;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.fallback.CpuKernelsProvider;

/** Opens the CUDA engine, or skips the test with the reason (fails instead under -Dsoma.requireCuda=true). */
final class CudaTestSupport {
    /**
     * -Dsoma.cuda.suiteDryRun=true runs the GPU suite with the CPU reference as the subject: a check
     * of the suite itself (inputs, shapes, tolerances) on a machine without a GPU.
     */
    static final boolean DRY_RUN = Boolean.getBoolean("soma.cuda.suiteDryRun");

    private CudaTestSupport() {
    }

    /** Skips the calling test when CUDA cannot run here (fails under -Dsoma.requireCuda=true). */
    static void assumeCuda() {
        Availability a = new CudaBackendProvider().probe();
        if (!a.isAvailable() && Boolean.getBoolean("soma.requireCuda")) {
            fail("soma.requireCuda is set but CUDA is unavailable: " + a.reason());
        }
        assumeTrue(a.isAvailable(), "no CUDA GPU here: " + a.reason());
    }

    /** The CUDA engine, or null when CUDA cannot run here. */
    static Engine cudaEngineOrNull() {
        return new CudaBackendProvider().probe().isAvailable() ? Engine.create(BackendKind.CUDA) : null;
    }

    static CudaRuntime runtime(Engine e) {
        return (CudaRuntime) ((DeviceBackend) e.backend()).runtime();
    }

    /** The scalar double-precision CPU kernels: the truth every backend is compared to. */
    static Engine reference() {
        return Engine.over(new CpuBackend(CpuKernelsProvider.reference()));
    }
}
