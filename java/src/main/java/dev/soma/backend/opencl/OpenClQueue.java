package dev.soma.backend.opencl;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceQueue;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import java.lang.foreign.MemorySegment;
import org.jocl.CL;
import org.jocl.cl_command_queue;

/**
 * An extra in-order OpenCL command queue of one {@link OpenClRuntime}, for the offload pipeline;
 * registered with the leak reporter, released once by {@link #close()}.
 */
final class OpenClQueue implements DeviceQueue {
    private final OpenClRuntime runtime;
    private cl_command_queue queue;
    private final LeakGuard guard;

    OpenClQueue(OpenClRuntime runtime, cl_command_queue queue) {
        this.runtime = runtime;
        this.queue = queue;
        this.guard = Leaks.track(this, "OpenCL command queue", 0, "command queue on " + runtime.description());
    }

    @Override
    public void uploadAsync(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        runtime.writeAsync(open(), src, dst, dstOffset, bytes);
        runtime.flush(queue);
    }

    @Override
    public void downloadAsync(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        runtime.readAsync(open(), src, srcOffset, dst, bytes);
        runtime.flush(queue);
    }

    @Override
    public void enqueue(Runnable launches) {
        runtime.enqueueOn(open(), launches);
        runtime.flush(queue);
    }

    @Override
    public void synchronize() {
        runtime.finish(open());
    }

    @Override
    public synchronized void close() {
        if (queue != null) {
            try {
                runtime.finish(queue);
            } finally {
                CL.clReleaseCommandQueue(queue);
                queue = null;
                guard.close();
            }
        }
    }

    private synchronized cl_command_queue open() {
        if (queue == null) {
            throw new IllegalStateException("this OpenCL queue is closed; open another with DeviceRuntime.openQueue()");
        }
        return queue;
    }
}
