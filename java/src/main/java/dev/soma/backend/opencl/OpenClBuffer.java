package dev.soma.backend.opencl;

import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * One OpenCL buffer ({@code cl_mem}), counted by its runtime's allocator and released exactly once.
 * The release takes the runtime's lock, the one every launch holds while it checks that its buffers
 * are open and sets them as kernel arguments: a buffer closed on one thread while another launches
 * with it is either refused by that launch or released after it was enqueued (OpenCL then keeps the
 * memory until the kernels using it have finished), never released in between.
 */
final class OpenClBuffer extends DeviceBuffer {
    private final cl_mem mem;

    OpenClBuffer(OpenClRuntime runtime, DeviceAllocator allocator, cl_context context, long bytes, long maxAllocBytes) {
        super(allocator, bytes);
        String device = runtime.description();
        cl_mem m;
        try {
            if (bytes > maxAllocBytes) {
                throw new DeviceOutOfMemoryException("cannot allocate " + bytes + " bytes on " + device
                        + ": its largest single buffer is " + maxAllocBytes + " bytes; use a smaller tensor", null);
            }
            // OpenCL refuses empty buffers; an empty tensor still gets a handle (1 byte, counted as 0).
            m = CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, Math.max(1, bytes), null, null);
        } catch (CLException e) {
            allocationFailed();
            throw runtime.failed(e, "an allocation of " + bytes + " bytes");
        } catch (RuntimeException | Error e) {
            allocationFailed();
            throw e;
        }
        this.mem = m;
        registered("OpenCL buffer", releaser(m, runtime));
    }

    cl_mem mem() {
        return mem;
    }

    /**
     * Frees the handle alone, under the runtime's lock: the allocator may run it after this buffer
     * became unreachable, so it must not reference the buffer.
     */
    private static Runnable releaser(cl_mem m, Object runtimeLock) {
        return () -> {
            synchronized (runtimeLock) {
                CL.clReleaseMemObject(m);
            }
        };
    }
}
