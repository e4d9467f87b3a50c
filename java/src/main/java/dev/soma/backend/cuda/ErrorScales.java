package dev.soma.backend.cuda;

import dev.soma.Tensor;
import dev.soma.backend.OpLayout;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;

/**
 * The per-element term sizes {@link dev.soma.fallback.Accuracy#errorScaled} measures results
 * against where a result is the difference of larger terms, which no float32 arithmetic can get
 * within 1e-6 of relative to itself. Used by CudaBench's validation and the GPU tests.
 */
final class ErrorScales {
    private ErrorScales() {
    }

    /**
     * Accuracy's scales for softmax results in the (outer, len, inner) view: log-softmax forward
     * |x - m| + log z; softmax backward p * max|dy|; log-softmax backward |dy| + p * sum|dy|;
     * softmax forward none (0).
     */
    static double[] softmax(OpArgs args, Tensor x, Tensor dy, boolean backward) {
        OpLayout l = OpLayout.of(args, x.shape());
        boolean log = args.op() == Op.LOG_SOFTMAX;
        double[] scale = new double[Math.toIntExact(x.elementCount())];
        for (long o = 0; o < l.outer(); o++) {
            for (long i = 0; i < l.inner(); i++) {
                long base = o * l.mid() * l.inner() + i;
                double m = Double.NEGATIVE_INFINITY;
                for (long k = 0; k < l.mid(); k++) {
                    m = Math.max(m, x.get(base + k * l.inner()));
                }
                if (!Double.isFinite(m)) {
                    continue;  // NaN, +inf or all -inf rows: no scale, the values must match exactly
                }
                double z = 0;
                double maxDy = 0;
                double sumDy = 0;
                for (long k = 0; k < l.mid(); k++) {
                    long idx = base + k * l.inner();
                    z += Math.exp(x.get(idx) - m);
                    if (backward) {
                        maxDy = Math.max(maxDy, Math.abs(dy.get(idx)));
                        sumDy += Math.abs(dy.get(idx));
                    }
                }
                for (long k = 0; k < l.mid(); k++) {
                    long idx = base + k * l.inner();
                    double p = Math.exp(x.get(idx) - m) / z;
                    scale[(int) idx] = !backward ? (log ? Math.abs(x.get(idx) - m) + Math.log(z) : 0.0)
                            : log ? Math.abs(dy.get(idx)) + p * sumDy : p * maxDy;
                }
            }
        }
        return scale;
    }

    /** PReLU's dw scale: per weight, the sum of |x * dy| over the elements it collects. */
    static double[] preluWeight(Tensor x, Tensor w, Tensor dy) {
        long n = x.elementCount();
        long channels = w.elementCount();
        long inner = channels == 1 ? n : OpLayout.of(OpArgs.of(Op.PRELU), x.shape()).inner();
        double[] scale = new double[Math.toIntExact(channels)];
        for (long i = 0; i < n; i++) {
            double v = x.get(i);
            if (!(v > 0)) {
                scale[(int) ((i / inner) % channels)] += Math.abs(v * dy.get(i));
            }
        }
        return scale;
    }
}
