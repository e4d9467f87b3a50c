package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.soma.Engine;
import dev.soma.backend.Availability;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.Backends;
import dev.soma.backend.DeviceInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Without an NVIDIA GPU (as on the build machine) the CUDA backend says why, and nothing escapes as
 * an Error: a missing libcuda.so.1 must not become an UnsatisfiedLinkError in the caller's face.
 */
class CudaBackendProviderTest {

    private static Availability probeWithoutGpu() {
        Availability a = new CudaBackendProvider().probe();
        assumeFalse(a.isAvailable(), "a CUDA device is present here: " + a.devices());
        return a;
    }

    @Test
    void cudaIsTriedFirst() {
        assertEquals(BackendKind.CUDA, Backends.providers().get(0).kind(), "auto must prefer CUDA");
        assertEquals(BackendKind.CUDA, Backends.provider(BackendKind.CUDA).kind());
    }

    @Test
    void probeReportsUnavailableWithAReason() {
        Availability a = probeWithoutGpu();
        assertEquals(BackendKind.CUDA, a.kind());
        assertFalse(a.hasGpu());
        assertFalse(a.reason().isBlank(), "an unavailable backend must say why");
        if (!CudaKernelImage.get().isBuilt()) {
            assertTrue(a.reason().startsWith("kernels not built ("), a.reason());
        } else {
            assertTrue(a.reason().startsWith("no NVIDIA driver") || a.reason().startsWith("no CUDA device")
                    || a.reason().contains("driver"), a.reason());
        }
        // Probing again gives the same answer: the failed native load is remembered, not retried into a NoClassDefFoundError.
        assertEquals(a.reason(), new CudaBackendProvider().probe().reason());
    }

    @Test
    void engineCreateThrowsTheReason() {
        Availability a = probeWithoutGpu();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Engine.create(BackendKind.CUDA));
        assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
        assertTrue(e.getMessage().startsWith("cuda backend is not available: "), e.getMessage());
        BackendUnavailableException e2 = assertThrows(BackendUnavailableException.class, () -> Engine.create("cuda"));
        assertEquals(e.getMessage(), e2.getMessage());
        assertThrows(BackendUnavailableException.class, () -> new CudaBackendProvider().open("0"));
    }

    @Test
    void missingDriverBecomesOneLine() {
        UnsatisfiedLinkError inner = new UnsatisfiedLinkError(
                "/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file or directory");
        UnsatisfiedLinkError outer = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"");
        outer.initCause(inner);
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", CudaDriver.linkFailureReason(outer));
        assertTrue(CudaDriver.linkFailureReason(new UnsatisfiedLinkError("something else\nmore"))
                .startsWith("JCuda's native library did not load (something else)"));
    }

    @Test
    void kernelsNotBuiltReasonIsTheMarkers() {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("status", "not-built");
        p.setProperty("reason", "nvcc was not found at build time");
        CudaKernelImage image = CudaKernelImage.of(p, false);
        assertFalse(image.isBuilt());
        assertEquals("kernels not built (nvcc was not found at build time)", image.unavailableReason());
        assertEquals("kernels not built (soma.fatbin is not on the class path)",
                CudaKernelImage.of(new java.util.Properties(), false).unavailableReason());
    }

    @Test
    void deviceSelectionByIndexOrName() {
        List<DeviceInfo> ds = List.of(new DeviceInfo(0, "NVIDIA H200", true, 1L << 40, 132, 4, ""),
                new DeviceInfo(1, "NVIDIA L4", true, 1L << 34, 58, 4, ""));
        assertEquals(0, CudaBackendProvider.select(ds, null).index());
        assertEquals(1, CudaBackendProvider.select(ds, "1").index());
        assertEquals(1, CudaBackendProvider.select(ds, "l4").index());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> CudaBackendProvider.select(ds, "7"));
        assertTrue(e.getMessage().contains("0 (NVIDIA H200), 1 (NVIDIA L4)"), e.getMessage());
        assertThrows(BackendUnavailableException.class, () -> CudaBackendProvider.select(ds, "99999999999999"));
    }
}
