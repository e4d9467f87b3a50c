package dev.soma.backend.cuda;

/**
 * A CUDA driver call failed. The message names the call, what it was doing and the driver's
 * error code ({@code CUDA_ERROR_...}), so a user can look the code up or report it.
 */
public class CudaCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String errorName;

    public CudaCallException(String message, String errorName, Throwable cause) {
        super(message, cause);
        this.errorName = errorName;
    }

    /** The driver's name for the error, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
