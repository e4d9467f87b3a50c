package dev.soma.verify;

import dev.soma.op.DType;
import dev.soma.op.Op;

/**
 * One line of a verification: one op, one direction, one dtype, on one backend, over all its cases.
 *
 * @param backend   the backend and device label ("cpu", "opencl:0")
 * @param op        the op
 * @param direction "forward" or "backward"
 * @param dtype     the element type
 * @param cases     how many input sets ran
 * @param elements  how many output elements were compared
 * @param maxError  the largest error ({@link ErrorMetric}); NaN when the run failed or was skipped
 * @param tolerance the contract's tolerance for this dtype
 * @param worst     where the largest error occurred (case, element, input), or why it failed or was skipped
 * @param status    the verdict
 */
public record VerifyResult(String backend, Op op, String direction, DType dtype, int cases, long elements,
                           double maxError, double tolerance, String worst, Status status) {

    /** The verdict of one line. */
    public enum Status {
        /** Every element within tolerance. */
        OK,
        /** An element over tolerance, or the backend threw. */
        FAIL,
        /** Not run, for a stated reason (the device lacks float64). */
        SKIPPED
    }

    public boolean failed() {
        return status == Status.FAIL;
    }
}
