package dev.soma.backend.opencl;

import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import org.jocl.CL;
import org.jocl.CLException;

/**
 * What an OpenCL error code means for Soma, in one place: JOCL throws {@link CLException} for every
 * failed call, and this turns it into the exception the shared host layer and the CLI understand.
 * <ul>
 *   <li>memory exhausted ({@code CL_MEM_OBJECT_ALLOCATION_FAILURE}, which drivers often report at the
 *       first enqueue that touches a buffer rather than at {@code clCreateBuffer};
 *       {@code CL_OUT_OF_HOST_MEMORY}; {@code CL_INVALID_BUFFER_SIZE}): {@link DeviceOutOfMemoryException},
 *       after which the device stays usable;</li>
 *   <li>the device failed ({@code CL_OUT_OF_RESOURCES}, which GPU drivers also report for a kernel that
 *       crashed, {@code CL_DEVICE_NOT_AVAILABLE}, {@code CL_DEVICE_NOT_FOUND}, a failed event in a wait
 *       list): {@link DeviceLostException}, after which the runtime refuses further work;</li>
 *   <li>anything else is a misuse of the API by Soma or a driver bug: {@link IllegalStateException}.</li>
 * </ul>
 */
final class OpenClErrors {
    private OpenClErrors() {
    }

    /**
     * @param e      the failed call's exception
     * @param during what was being done, e.g. "an upload of 4096 bytes"
     * @param device the device in words
     */
    static RuntimeException translate(CLException e, String during, String device) {
        int status = e.getStatus();
        String code = CL.stringFor_errorCode(status);
        if (isOutOfMemory(status)) {
            return new DeviceOutOfMemoryException("out of device memory on " + device + " during " + during + " ("
                    + code + "); use a smaller tensor or a smaller --device-memory budget", e);
        }
        if (isDeviceLost(status)) {
            return new DeviceLostException(device, during, code, e);
        }
        return new IllegalStateException("OpenCL failed on " + device + " during " + during + " (" + code
                + "); this is a bug in Soma or the driver: rerun with --debug and report it, or use --backend cpu", e);
    }

    static boolean isOutOfMemory(int status) {
        return status == CL.CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL.CL_OUT_OF_HOST_MEMORY
                || status == CL.CL_INVALID_BUFFER_SIZE;
    }

    static boolean isDeviceLost(int status) {
        return status == CL.CL_OUT_OF_RESOURCES || status == CL.CL_DEVICE_NOT_AVAILABLE
                || status == CL.CL_DEVICE_NOT_FOUND || status == CL.CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST;
    }
}
