package dev.soma.backend;

import dev.soma.op.Family;
import dev.soma.op.OpArgs;

/**
 * A tensor seen as {@code (outer, mid, inner)} for one op: elementwise ops use {@code (1, n, 1)},
 * PReLU {@code (batch, channels, rest)} with channels along axis 1, softmax
 * {@code (before axis, along axis, after axis)}. Every backend's kernels take this view.
 */
public record OpLayout(long outer, long mid, long inner) {

    public long elementCount() {
        return outer * mid * inner;
    }

    /** The layout of {@code shape} for {@code args}; the axis must already be valid. */
    public static OpLayout of(OpArgs args, long[] shape) {
        Family f = args.op().family();
        return switch (f) {
            case ELEMENTWISE -> new OpLayout(1, product(shape, 0, shape.length), 1);
            case CHANNEL_WEIGHTED -> shape.length < 2
                    // PyTorch: below rank 2 there is no channel axis; one weight covers everything.
                    ? new OpLayout(1, 1, product(shape, 0, shape.length))
                    : new OpLayout(shape[0], shape[1], product(shape, 2, shape.length));
            case ROW_REDUCTION -> {
                if (shape.length == 0) {
                    yield new OpLayout(1, 1, 1);
                }
                int a = args.resolveAxis(shape.length);
                yield new OpLayout(product(shape, 0, a), shape[a], product(shape, a + 1, shape.length));
            }
        };
    }

    private static long product(long[] s, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= s[i];
        }
        return p;
    }
}
