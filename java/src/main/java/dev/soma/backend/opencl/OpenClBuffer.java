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
    private final Object runtimeLock;

    OpenClBuffer(DeviceAllocator allocator, Object runtimeLock, cl_context context, long bytes, long maxAllocBytes,
                 String device) {
        super(allocator, bytes);
        this.runtimeLock = runtimeLock;
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
            throw new DeviceOutOfMemoryException("OpenCL could not allocate " + bytes + " bytes on " + device + " ("
                    + CL.stringFor_errorCode(e.getStatus()) + "); use a smaller tensor", e);
        } catch (RuntimeException | Error e) {
            allocationFailed();
            throw e;
        }
        this.mem = m;
        registered();
    }

    cl_mem mem() {
        return mem;
    }

    @Override
    protected void free() {
        synchronized (runtimeLock) {
            CL.clReleaseMemObject(mem);
        }
    }
}
