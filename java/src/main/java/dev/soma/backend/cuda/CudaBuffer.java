package dev.soma.backend.cuda;

import dev.soma.backend.device.DeviceBuffer;
import jcuda.driver.CUdeviceptr;

/**
 * One cuMemAlloc'd allocation, counted by its runtime's allocator and freed exactly once (by
 * {@link #close()}, or by the runtime's close if it leaked). A zero-byte buffer holds no memory.
 */
public final class CudaBuffer extends DeviceBuffer {
    private final CudaRuntime runtime;
    private final CUdeviceptr ptr;

    CudaBuffer(CudaRuntime runtime, long bytes) {
        super(runtime.allocator(), bytes);
        this.runtime = runtime;
        CUdeviceptr p = null;
        try {
            p = bytes == 0 ? null : runtime.nativeAllocate(bytes);
        } catch (RuntimeException | Error e) {
            allocationFailed();
            throw e;
        }
        this.ptr = p;
        registered("CUDA device memory", releaser(runtime, p, bytes));
    }

    /** The device address, optionally offset by {@code byteOffset}; null for a zero-byte buffer. */
    CUdeviceptr pointer(long byteOffset) {
        if (ptr == null) {
            return null;
        }
        return byteOffset == 0 ? ptr : ptr.withByteOffset(byteOffset);
    }

    CudaRuntime runtime() {
        return runtime;
    }

    /** Frees the pointer alone: the allocator may run it after this buffer became unreachable. */
    private static Runnable releaser(CudaRuntime runtime, CUdeviceptr p, long bytes) {
        return () -> {
            if (p != null) {
                runtime.nativeFree(p, bytes);
            }
        };
    }
}
