package dev.soma.verify;

import dev.soma.Tensor;
import dev.soma.op.OpArgs;

/**
 * One input set for one op: arguments, x, PReLU's weight (else null) and dL/dy.
 *
 * @param label what makes this case different ("n=1025", "shape (2, 3, 17), 3 weights", "alpha=0")
 */
public record VerifyCase(String label, OpArgs args, Tensor x, Tensor weight, Tensor dy) {
}
