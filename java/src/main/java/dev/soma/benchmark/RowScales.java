package dev.soma.benchmark;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The per-element scales {@link Accuracy#errorScaled} measures softmax-family results against,
 * where a result is a small difference of larger terms and no float32 arithmetic can be 1e-6
 * relative to the difference itself (see {@link Accuracy#errorScaled} for the derivations):
 * <ul>
 *   <li>softmax backward {@code dx = y (dy - sum(dy y))}: {@code y_i * max|dy|} of the row;</li>
 *   <li>log_softmax forward {@code x - m - log z}: {@code |x_i - m| + log z};</li>
 *   <li>log_softmax backward {@code dy - p sum(dy)}: {@code |dy_i| + p_i * sum|dy|}.</li>
 * </ul>
 * Everything else is held to rule 5 as it stands (no scale). Rows are the last axis of a 2-D case.
 */
final class RowScales {
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE;

    private RowScales() {
    }

    /**
     * The scales for a case, float64, or null when the plain metric applies.
     *
     * @param x  the inputs in float64
     * @param dy the upstream gradient in float64 (backward cases), else null
     */
    static Tensor forCase(BenchCase c, Tensor x, Tensor dy, CpuKernels reference) {
        boolean backward = c.direction() == Direction.BACKWARD;
        if (c.op() == Op.SOFTMAX && !backward || c.op() != Op.SOFTMAX && c.op() != Op.LOG_SOFTMAX) {
            return null;
        }
        long[] shape = c.shape();
        long len = shape[shape.length - 1];
        long rows = c.elements() / Math.max(1, len);
        Tensor scale = Tensor.allocateNative(DType.F64, shape);
        try {
            if (c.op() == Op.LOG_SOFTMAX && !backward) {
                logSoftmaxForward(x.segment(), scale.segment(), rows, len);
            } else {
                try (Tensor p = Tensor.allocateNative(DType.F64, shape);
                     Engine ref = Engine.over(new CpuBackend(reference))) {
                    ref.forward(OpArgs.of(Op.SOFTMAX), x, p);
                    if (c.op() == Op.SOFTMAX) {
                        softmaxBackward(p.segment(), dy.segment(), scale.segment(), rows, len);
                    } else {
                        logSoftmaxBackward(p.segment(), dy.segment(), scale.segment(), rows, len);
                    }
                }
            }
            return scale;
        } catch (RuntimeException | Error e) {
            scale.close();
            throw e;
        }
    }

    private static void logSoftmaxForward(MemorySegment x, MemorySegment out, long rows, long len) {
        for (long r = 0; r < rows; r++) {
            long base = r * len;
            double m = Double.NEGATIVE_INFINITY;
            for (long k = 0; k < len; k++) {
                m = Math.max(m, x.getAtIndex(D, base + k));
            }
            double z = 0;
            for (long k = 0; k < len; k++) {
                z += Math.exp(x.getAtIndex(D, base + k) - m);
            }
            double logZ = Math.log(z);
            for (long k = 0; k < len; k++) {
                out.setAtIndex(D, base + k, Math.abs(x.getAtIndex(D, base + k) - m) + logZ);
            }
        }
    }

    private static void softmaxBackward(MemorySegment p, MemorySegment dy, MemorySegment out, long rows, long len) {
        for (long r = 0; r < rows; r++) {
            long base = r * len;
            double maxAbs = 0;
            for (long k = 0; k < len; k++) {
                maxAbs = Math.max(maxAbs, Math.abs(dy.getAtIndex(D, base + k)));
            }
            for (long k = 0; k < len; k++) {
                out.setAtIndex(D, base + k, p.getAtIndex(D, base + k) * maxAbs);
            }
        }
    }

    private static void logSoftmaxBackward(MemorySegment p, MemorySegment dy, MemorySegment out, long rows,
                                           long len) {
        for (long r = 0; r < rows; r++) {
            long base = r * len;
            double sumAbs = 0;
            for (long k = 0; k < len; k++) {
                sumAbs += Math.abs(dy.getAtIndex(D, base + k));
            }
            for (long k = 0; k < len; k++) {
                out.setAtIndex(D, base + k, Math.abs(dy.getAtIndex(D, base + k)) + p.getAtIndex(D, base + k) * sumAbs);
            }
        }
    }
}
