package dev.soma.backend.cuda;

import dev.soma.backend.device.DeviceLostException;
import java.util.Set;
import jcuda.CudaException;
import jcuda.driver.CUresult;
import java.util.function.IntSupplier;

/**
 * Runs one CUDA driver call and checks its result. JCuda's exceptions are enabled (it then throws
 * {@link CudaException} carrying the error name); the result code is checked as well, so a call
 * never fails silently even if someone turned JCuda's exceptions off.
 *
 * <p>What a failure becomes: the driver's sticky errors ({@link #DEVICE_LOST}: a kernel that crashed,
 * an ECC error, a GPU that fell off the bus), after which every call in the context fails, become
 * {@link DeviceLostException}; everything else a {@link CudaCallException} naming the code (the
 * runtime turns {@code CUDA_ERROR_OUT_OF_MEMORY} from an allocation into a
 * {@link dev.soma.backend.device.DeviceOutOfMemoryException}).
 */
final class CudaCalls {
    /** Errors that leave the context unusable (the CUDA driver API's "sticky" errors) or the device gone. */
    static final Set<String> DEVICE_LOST = Set.of("CUDA_ERROR_LAUNCH_FAILED", "CUDA_ERROR_ILLEGAL_ADDRESS",
            "CUDA_ERROR_ILLEGAL_INSTRUCTION", "CUDA_ERROR_MISALIGNED_ADDRESS", "CUDA_ERROR_INVALID_ADDRESS_SPACE",
            "CUDA_ERROR_INVALID_PC", "CUDA_ERROR_HARDWARE_STACK_ERROR", "CUDA_ERROR_LAUNCH_TIMEOUT",
            "CUDA_ERROR_ECC_UNCORRECTABLE", "CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA_ERROR_CONTEXT_IS_DESTROYED",
            "CUDA_ERROR_NO_DEVICE", "CUDA_ERROR_SYSTEM_NOT_READY");

    private CudaCalls() {
    }

    /**
     * @param what the call and its purpose, e.g. "cuMemAlloc of 4096 bytes"
     * @throws CudaCallException when the call fails
     */
    static void check(String what, IntSupplier call) {
        int result;
        try {
            result = call.getAsInt();
        } catch (CudaException e) {
            throw failure(what, errorNameOf(e.getMessage()), e);
        }
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure(what, CUresult.stringFor(result), null);
        }
    }

    /** The exception a failed call with the driver's error {@code name} becomes. */
    static RuntimeException failure(String what, String name, Throwable cause) {
        if (DEVICE_LOST.contains(name)) {
            return new DeviceLostException("the CUDA GPU", what, name, cause);
        }
        return new CudaCallException(what + " failed: " + name, name, cause);
    }

    /** JCuda's messages start with the error name; keep just that token. */
    static String errorNameOf(String message) {
        if (message == null || message.isBlank()) {
            return "CUDA_ERROR_UNKNOWN";
        }
        String m = message.trim();
        int sp = m.indexOf(' ');
        return sp < 0 ? m : m.substring(0, sp);
    }

    static boolean isOutOfMemory(CudaCallException e) {
        return "CUDA_ERROR_OUT_OF_MEMORY".equals(e.errorName());
    }
}
