package dev.soma.backend.device;

/**
 * The device failed in a way its context cannot recover from: lost, reset, or hit a fatal error
 * (OpenCL's {@code CL_OUT_OF_RESOURCES} or {@code CL_DEVICE_NOT_AVAILABLE}, CUDA's sticky errors such
 * as {@code CUDA_ERROR_LAUNCH_FAILED}). After one, every call of that runtime except {@code close()}
 * throws this exception again, so a caller cannot mistake a broken device for a working one;
 * {@code close()} still frees every buffer. The message is one line: what failed, the driver's code,
 * and what to do.
 */
public class DeviceLostException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String errorName;

    /**
     * @param device    the device in words
     * @param during    what was being done, e.g. "a kernel launch (soma_fwd_f32)"
     * @param errorName the driver's code, e.g. {@code CL_OUT_OF_RESOURCES}
     */
    public DeviceLostException(String device, String during, String errorName, Throwable cause) {
        super(device + " failed during " + during + " (" + errorName + "): the device was lost, reset or hit a fatal"
                + " error and cannot be used again; close this engine and create a new one, or use --backend cpu", cause);
        this.errorName = errorName;
    }

    /** A later call on a runtime that already failed: repeats the first failure's cause. */
    public DeviceLostException(DeviceLostException first) {
        super("the device failed earlier and cannot be used again: " + first.getMessage(), first);
        this.errorName = first.errorName;
    }

    /** The driver's name for the error. */
    public String errorName() {
        return errorName;
    }
}
