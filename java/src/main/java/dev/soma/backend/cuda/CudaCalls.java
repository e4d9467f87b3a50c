package dev.soma.backend.cuda;

import jcuda.CudaException;
import jcuda.driver.CUresult;
import java.util.function.IntSupplier;

/**
 * Runs one CUDA driver call and checks its result. JCuda's exceptions are enabled (it then throws
 * {@link CudaException} carrying the error name); the result code is checked as well, so a call
 * never fails silently even if someone turned JCuda's exceptions off.
 */
final class CudaCalls {
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
            String name = errorNameOf(e.getMessage());
            throw new CudaCallException(what + " failed: " + name, name, e);
        }
        if (result != CUresult.CUDA_SUCCESS) {
            String name = CUresult.stringFor(result);
            throw new CudaCallException(what + " failed: " + name, name, null);
        }
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
