package dev.soma.op;

/**
 * An op with its scalar parameters resolved and validated. Parameters an op does not take keep
 * their defaults and are ignored by the kernels. PReLU's weight is a tensor and travels separately.
 *
 * <p>Build with {@link #of(Op)} for PyTorch's defaults, then the {@code withX} methods:
 * <pre>{@code OpArgs a = OpArgs.of(Op.LEAKY_RELU).withAlpha(0.2);}</pre>
 *
 * @param op        the op
 * @param alpha     α for leaky_relu, elu, celu (finite; celu also non-zero)
 * @param beta      softplus β (finite, > 0)
 * @param threshold softplus threshold (finite)
 * @param axis      softmax axis; negative counts from the end, resolved against a shape by {@link #resolveAxis}
 * @param safe      softmax: an all -inf row gives zeros instead of NaN
 */
public record OpArgs(Op op, double alpha, double beta, double threshold, int axis, boolean safe) {

    public OpArgs {
        if (op == null) {
            throw new NullPointerException("op is null; pass one of " + Op.names());
        }
        if (op.takes(Param.ALPHA)) {
            if (!Double.isFinite(alpha)) {
                throw new IllegalArgumentException(op + ": alpha must be finite, got " + alpha
                        + "; pass a finite value (PyTorch's default is " + op.defaultAlpha() + ")");
            }
            if (op == Op.CELU && alpha == 0.0) {
                throw new IllegalArgumentException("celu: alpha must be non-zero (celu divides by alpha), got 0;"
                        + " pass a non-zero value (PyTorch's default is 1.0)");
            }
        }
        if (op.takes(Param.BETA) && !(Double.isFinite(beta) && beta > 0)) {
            throw new IllegalArgumentException(op + ": beta must be finite and > 0, got " + beta
                    + "; pass a positive value (PyTorch's default is 1.0)");
        }
        if (op.takes(Param.THRESHOLD) && !Double.isFinite(threshold)) {
            throw new IllegalArgumentException(op + ": threshold must be finite, got " + threshold
                    + "; pass a finite value (PyTorch's default is 20.0)");
        }
    }

    /** PyTorch's defaults for {@code op}. */
    public static OpArgs of(Op op) {
        if (op == null) {
            throw new NullPointerException("op is null; pass one of " + Op.names());
        }
        return new OpArgs(op, op.defaultAlpha(), Op.DEFAULT_BETA, Op.DEFAULT_THRESHOLD, Op.DEFAULT_AXIS, false);
    }

    public OpArgs withAlpha(double a) {
        requireParam(Param.ALPHA);
        return new OpArgs(op, a, beta, threshold, axis, safe);
    }

    public OpArgs withBeta(double b) {
        requireParam(Param.BETA);
        return new OpArgs(op, alpha, b, threshold, axis, safe);
    }

    public OpArgs withThreshold(double t) {
        requireParam(Param.THRESHOLD);
        return new OpArgs(op, alpha, beta, t, axis, safe);
    }

    public OpArgs withAxis(int k) {
        requireParam(Param.AXIS);
        return new OpArgs(op, alpha, beta, threshold, k, safe);
    }

    public OpArgs withSafe(boolean s) {
        requireParam(Param.SAFE);
        return new OpArgs(op, alpha, beta, threshold, axis, s);
    }

    /**
     * The axis as a non-negative index into a shape of {@code rank} dimensions.
     *
     * @throws IllegalArgumentException when the axis is outside [-rank, rank)
     */
    public int resolveAxis(int rank) {
        if (rank == 0) {
            // PyTorch treats a 0-d tensor as one row of length 1 for axis 0 or -1.
            if (axis == 0 || axis == -1) {
                return 0;
            }
        } else if (axis >= -rank && axis < rank) {
            return axis < 0 ? axis + rank : axis;
        }
        int lo = -Math.max(rank, 1);
        int hi = Math.max(rank, 1) - 1;
        throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for a tensor of rank "
                + rank + "; use an axis in [" + lo + ", " + hi + "]");
    }

    private void requireParam(Param p) {
        if (!op.takes(p)) {
            throw new IllegalArgumentException(op + " takes no " + p.cliName() + " parameter; it takes "
                    + (op.params().isEmpty() ? "none" : op.params().toString().toLowerCase(java.util.Locale.ROOT))
                    + ", so leave " + p.cliName() + " out");
        }
    }
}
