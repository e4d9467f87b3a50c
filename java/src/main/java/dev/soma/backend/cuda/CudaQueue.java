package dev.soma.backend.cuda;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceQueue;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import java.lang.foreign.MemorySegment;
import jcuda.driver.CUstream;

/**
 * An extra non-blocking CUDA stream of one {@link CudaRuntime}, for the offload pipeline;
 * registered with the leak reporter, destroyed once by {@link #close()}.
 */
final class CudaQueue implements DeviceQueue {
    private final CudaRuntime runtime;
    private CUstream stream;
    private final LeakGuard guard;

    CudaQueue(CudaRuntime runtime, CUstream stream) {
        this.runtime = runtime;
        this.stream = stream;
        this.guard = Leaks.track(this, "CUDA stream", 0, "stream on " + runtime.description());
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
            try {
                runtime.destroyStream(s);
            } finally {
                guard.close();
            }
        }
    }

    private synchronized CUstream open() {
        if (stream == null) {
            throw new IllegalStateException("this CUDA stream is closed; open another with DeviceRuntime.openQueue()");
        }
        return stream;
    }
}
