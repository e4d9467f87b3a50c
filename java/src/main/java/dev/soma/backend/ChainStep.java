package dev.soma.backend;

import dev.soma.Tensor;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;

/**
 * One forward op of a chain ({@code soma apply --op A --op B}): its arguments and, for PReLU only,
 * its weight. A chain runs its steps in order on each chunk while the chunk is on the device.
 */
public record ChainStep(OpArgs args, Tensor weight) {

    public ChainStep {
        if (args == null) {
            throw new NullPointerException("args is null; use OpArgs.of(op) for the step's op");
        }
        if ((args.op() == Op.PRELU) != (weight != null)) {
            throw new IllegalArgumentException(args.op() == Op.PRELU
                    ? "weight is null but a prelu step needs it; pass a 1-D tensor of 1 or C weights"
                    : "weight is given but " + args.op() + " takes no weight tensor; pass null (ChainStep.of(args))");
        }
    }

    /** A step without a weight (every op but PReLU). */
    public static ChainStep of(OpArgs args) {
        return new ChainStep(args, null);
    }
}
