package dev.soma.backend.cuda;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceQueue;
import java.lang.foreign.MemorySegment;
import jcuda.driver.CUstream;

/** An extra non-blocking CUDA stream of one {@link CudaRuntime}, for the offload pipeline. */
final class CudaQueue implements DeviceQueue {
    private final CudaRuntime runtime;
    private CUstream stream;

    CudaQueue(CudaRuntime runtime, CUstream stream) {
        this.runtime = runtime;
        this.stream = stream;
    }

    @Override
    public void uploadAsync(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        runtime.copyToDeviceAsync(open(), src, dst, dstOffset, bytes);
    }

    @Override
    public void downloadAsync(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        runtime.copyToHostAsync(open(), src, srcOffset, dst, bytes);
    }

    @Override
    public void enqueue(Runnable launches) {
        runtime.enqueueOn(open(), launches);
    }

    @Override
    public void synchronize() {
        runtime.synchronizeStream(open());
    }

    @Override
    public synchronized void close() {
        if (stream != null) {
            CUstream s = stream;
            stream = null;
            runtime.destroyStream(s);
        }
    }

    private synchronized CUstream open() {
        if (stream == null) {
            throw new IllegalStateException("this CUDA stream is closed");
        }
        return stream;
    }
}
