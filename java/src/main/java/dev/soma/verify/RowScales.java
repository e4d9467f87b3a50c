package dev.soma.verify;

import dev.soma.Tensor;
import dev.soma.backend.OpLayout;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;

/**
 * The magnitudes softmax-family results are measured against ({@link dev.soma.fallback.Accuracy#errorScaled}):
 * where a result is the difference of larger terms, no float32 arithmetic reaches 1e-6 relative to
 * the small difference, so the error is taken relative to the terms.
 * <ul>
 *   <li>log_softmax forward, {@code x - m - log z}: {@code |x - m| + log z};</li>
 *   <li>softmax backward, {@code y (dy - sum(dy y))}: {@code y * max|dy|} over the row;</li>
 *   <li>log_softmax backward, {@code dy - p sum(dy)}: {@code |dy| + p sum|dy|}.</li>
 * </ul>
 * Every other result (softmax forward, all elementwise ops) needs no scale: {@link #of} returns null.
 */
public final class RowScales {
    private RowScales() {
    }

    /**
     * Per-element scales for {@code args}'s result from float64 inputs, or null when rule 5 applies
     * as it stands. {@code dy} is null for a forward result.
     */
    public static double[] of(OpArgs args, Tensor x, Tensor dy) {
        Op op = args.op();
        boolean backward = dy != null;
        if (!(op == Op.LOG_SOFTMAX || (op == Op.SOFTMAX && backward)) || x.elementCount() > Integer.MAX_VALUE - 8) {
            return null;
        }
        double[] scale = new double[(int) x.elementCount()];
        OpLayout l = OpLayout.of(args, x.shape());
        long len = l.mid();
        long inner = l.inner();
        for (long o = 0; o < l.outer(); o++) {
            for (long i = 0; i < inner; i++) {
                long base = o * len * inner + i;
                double m = Double.NEGATIVE_INFINITY;
                for (long k = 0; k < len; k++) {
                    m = Math.max(m, x.get(base + k * inner));
                }
                double z = 0;
                double maxDy = 0;
                double sumAbsDy = 0;
                for (long k = 0; k < len; k++) {
                    z += Math.exp(x.get(base + k * inner) - m);
                    if (backward) {
                        double g = Math.abs(dy.get(base + k * inner));
                        maxDy = Math.max(maxDy, g);
                        sumAbsDy += g;
                    }
                }
                for (long k = 0; k < len; k++) {
                    long at = base + k * inner;
                    double xk = x.get(at);
                    double p = Math.exp(xk - m) / z;
                    double s;
                    if (!backward) {
                        s = Math.abs(xk - m) + Math.log(z);
                    } else if (op == Op.SOFTMAX) {
                        s = p * maxDy;
                    } else {
                        s = Math.abs(dy.get(at)) + p * sumAbsDy;
                    }
                    // Rows with NaN or infinities are judged by the plain rule (NaN meets NaN).
                    scale[(int) at] = Double.isFinite(s) ? s : 0;
                }
            }
        }
        return scale;
    }
}
