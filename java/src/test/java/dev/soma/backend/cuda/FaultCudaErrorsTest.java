package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.device.DeviceLostException;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/**
 * What a failed CUDA driver call becomes ({@link CudaCalls}), checked through the real result
 * codes without a GPU: the sticky errors (a crashed kernel, an ECC error, a GPU gone) become
 * {@link DeviceLostException}, out-of-memory stays recognisable for the allocator to turn into a
 * DeviceOutOfMemoryException, everything else a CudaCallException naming the code.
 */
class FaultCudaErrorsTest {

    @Test
    void stickyErrorsMeanTheDeviceIsLost() {
        for (int code : new int[] {CUresult.CUDA_ERROR_LAUNCH_FAILED, CUresult.CUDA_ERROR_ILLEGAL_ADDRESS,
            CUresult.CUDA_ERROR_ECC_UNCORRECTABLE, CUresult.CUDA_ERROR_LAUNCH_TIMEOUT, CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR}) {
            String name = CUresult.stringFor(code);
            DeviceLostException e = assertThrows(DeviceLostException.class,
                    () -> CudaCalls.check("cuLaunchKernel(soma_fwd_f32)", () -> code), name);
            assertEquals(name, e.errorName());
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains("cuLaunchKernel(soma_fwd_f32)")
                    && e.getMessage().contains("create a new one"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertTrue(CudaCalls.DEVICE_LOST.stream().allMatch(n -> n.startsWith("CUDA_ERROR_")));
    }

    @Test
    void outOfMemoryAndOtherErrorsStayCudaCallExceptions() {
        CudaCallException oom = assertThrows(CudaCallException.class,
                () -> CudaCalls.check("cuMemAlloc of 1 bytes", () -> CUresult.CUDA_ERROR_OUT_OF_MEMORY));
        assertTrue(CudaCalls.isOutOfMemory(oom), oom.getMessage());
        RuntimeException other = CudaCalls.failure("cuModuleGetFunction(x)", "CUDA_ERROR_NOT_FOUND", null);
        assertInstanceOf(CudaCallException.class, other);
        assertEquals("cuModuleGetFunction(x) failed: CUDA_ERROR_NOT_FOUND", other.getMessage());
    }
}
