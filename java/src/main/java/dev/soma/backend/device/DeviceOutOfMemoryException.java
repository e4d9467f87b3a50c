package dev.soma.backend.device;

/** A device allocation did not fit; says what was asked and what was free. */
public class DeviceOutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DeviceOutOfMemoryException(String device, long requested, long free) {
        super("out of device memory on " + device + ": asked for " + requested + " bytes with " + free
                + " free; use a smaller tensor or a smaller --device-memory budget");
    }

    public DeviceOutOfMemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
