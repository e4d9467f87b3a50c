package dev.soma.fallback.scalar;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The scalar reference: every op one element at a time, in double for both dtypes (a float32
 * input is widened exactly, the result rounded once), with the math of {@link ElementMath}.
 * Reductions (softmax rows, PReLU's dL/dw) are pairwise sums in double. Single-threaded and
 * stateless, hence thread-safe; slow by design: it is the truth, not the fast path.
 *
 * <p>Every method also works in place (an output the same segment as an input): each element is
 * read before the one write to its position, and reductions finish reading a row before writing it.
 *
 * <p>Softmax rows follow shared/semantics.md rule 6: a NaN anywhere in the row, or a +inf, makes the
 * whole row NaN; an all -inf row is NaN, unless {@code args.safe()}: then softmax gives zeros and
 * log_softmax gives -inf (the log of those zeros), and both backwards give zeros (a fully masked row
 * passes no gradient). The backwards recompute the forward from {@code x};
 * a NaN in a row of {@code dy} makes that row of {@code dx} NaN through the row sum.
 */
public final class ScalarKernels implements CpuKernels {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    public ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void forward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long n) {
        int op = args.op().ordinal();
        double alpha = args.alpha();
        double beta = args.beta();
        double threshold = args.threshold();
        for (long i = 0; i < n; i++) {
            write(t, y, i, ElementMath.forward(op, read(t, x, i), alpha, beta, threshold));
        }
    }

    @Override
    public void backward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx, long n) {
        int op = args.op().ordinal();
        double alpha = args.alpha();
        double beta = args.beta();
        double threshold = args.threshold();
        for (long i = 0; i < n; i++) {
            double xi = read(t, x, i);
            double gi = read(t, dy, i);
            write(t, dx, i, ElementMath.backward(op, xi, gi, alpha, beta, threshold));
        }
    }

    @Override
    public void preluForward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment y,
                             long outer, long channels, long inner) {
        for (long o = 0; o < outer; o++) {
            for (long c = 0; c < channels; c++) {
                double wc = read(t, w, weightCount == 1 ? 0 : c);
                long base = (o * channels + c) * inner;
                for (long i = 0; i < inner; i++) {
                    write(t, y, base + i, ElementMath.prelu(read(t, x, base + i), wc));
                }
            }
        }
    }

    @Override
    public void preluBackward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment dy,
                              MemorySegment dx, MemorySegment dw, long outer, long channels, long inner) {
        PairwiseSum sum = new PairwiseSum();
        if (weightCount == 1) {
            double w0 = read(t, w, 0);
            for (long c = 0; c < channels; c++) {
                preluChannelBackward(t, x, w0, dy, dx, sum, c, outer, channels, inner);
            }
            write(t, dw, 0, sum.sum());
            return;
        }
        // Channel by channel, so that dw[c] is written only after w[c] was last read (dw may alias w).
        for (long c = 0; c < channels; c++) {
            sum.reset();
            preluChannelBackward(t, x, read(t, w, c), dy, dx, sum, c, outer, channels, inner);
            write(t, dw, c, sum.sum());
        }
    }

    /** dx for every element of channel c, adding each element's x*dy (x &lt;= 0) to {@code sum}. */
    private static void preluChannelBackward(DType t, MemorySegment x, double wc, MemorySegment dy, MemorySegment dx,
                                             PairwiseSum sum, long c, long outer, long channels, long inner) {
        for (long o = 0; o < outer; o++) {
            long base = (o * channels + c) * inner;
            for (long i = 0; i < inner; i++) {
                double xi = read(t, x, base + i);
                double gi = read(t, dy, base + i);
                sum.add(ElementMath.preluDwTerm(xi, gi));
                write(t, dx, base + i, ElementMath.preluDx(xi, wc, gi));
            }
        }
    }

    @Override
    public void softmaxForward(OpArgs args, DType t, MemorySegment x, MemorySegment y,
                               long outer, long len, long inner) {
        boolean log = isLog(args);
        PairwiseSum sum = new PairwiseSum();
        for (long o = 0; o < outer; o++) {
            for (long i = 0; i < inner; i++) {
                long base = o * len * inner + i;
                double m = rowMax(t, x, base, len, inner);
                if (Double.isNaN(m) || m == Double.NEGATIVE_INFINITY) {
                    double fill = Double.isNaN(m) || !args.safe() ? Double.NaN
                            : log ? Double.NEGATIVE_INFINITY : 0.0;
                    fillRow(t, y, base, len, inner, fill);
                    continue;
                }
                double z = expSum(t, x, base, len, inner, m, sum);
                double logZ = Math.log(z);
                for (long k = 0; k < len; k++) {
                    long idx = base + k * inner;
                    double shifted = read(t, x, idx) - m;
                    write(t, y, idx, log ? shifted - logZ : Math.exp(shifted) / z);
                }
            }
        }
    }

    @Override
    public void softmaxBackward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx,
                                long outer, long len, long inner) {
        boolean log = isLog(args);
        PairwiseSum sum = new PairwiseSum();
        for (long o = 0; o < outer; o++) {
            for (long i = 0; i < inner; i++) {
                long base = o * len * inner + i;
                double m = rowMax(t, x, base, len, inner);
                if (Double.isNaN(m) || m == Double.NEGATIVE_INFINITY) {
                    fillRow(t, dx, base, len, inner, Double.isNaN(m) || !args.safe() ? Double.NaN : 0.0);
                    continue;
                }
                double z = expSum(t, x, base, len, inner, m, sum);
                // s = sum(dy * y) for softmax, sum(dy) for log_softmax
                sum.reset();
                for (long k = 0; k < len; k++) {
                    long idx = base + k * inner;
                    double g = read(t, dy, idx);
                    sum.add(log ? g : g * (Math.exp(read(t, x, idx) - m) / z));
                }
                double s = sum.sum();
                for (long k = 0; k < len; k++) {
                    long idx = base + k * inner;
                    double p = Math.exp(read(t, x, idx) - m) / z;
                    double g = read(t, dy, idx);
                    write(t, dx, idx, log ? g - p * s : p * (g - s));
                }
            }
        }
    }

    private static boolean isLog(OpArgs args) {
        Op op = args.op();
        if (op != Op.SOFTMAX && op != Op.LOG_SOFTMAX) {
            throw new IllegalArgumentException("softmax kernels take softmax or log_softmax, got " + op);
        }
        return op == Op.LOG_SOFTMAX;
    }

    /**
     * The row's maximum; NaN when the row holds a NaN or a +inf (the row's result is NaN),
     * -inf when every element is -inf (or the row is empty).
     */
    private static double rowMax(DType t, MemorySegment x, long base, long len, long inner) {
        double m = Double.NEGATIVE_INFINITY;
        for (long k = 0; k < len; k++) {
            double v = read(t, x, base + k * inner);
            if (Double.isNaN(v) || v == Double.POSITIVE_INFINITY) {
                return Double.NaN;
            }
            if (v > m) {
                m = v;
            }
        }
        return m;
    }

    /** Pairwise sum of exp(x - m) over the row (at least 1: the maximum contributes exp(0)). */
    private static double expSum(DType t, MemorySegment x, long base, long len, long inner, double m, PairwiseSum sum) {
        sum.reset();
        for (long k = 0; k < len; k++) {
            sum.add(Math.exp(read(t, x, base + k * inner) - m));
        }
        return sum.sum();
    }

    private static void fillRow(DType t, MemorySegment y, long base, long len, long inner, double v) {
        for (long k = 0; k < len; k++) {
            write(t, y, base + k * inner, v);
        }
    }

    /** Element i of seg as a double (float32 widened exactly). */
    static double read(DType t, MemorySegment seg, long i) {
        return t == DType.F32 ? seg.getAtIndex(F32, i) : seg.getAtIndex(F64, i);
    }

    /** Stores v at element i, rounded once to float for float32 (overflow gives +-inf). */
    static void write(DType t, MemorySegment seg, long i, double v) {
        if (t == DType.F32) {
            seg.setAtIndex(F32, i, (float) v);
        } else {
            seg.setAtIndex(F64, i, v);
        }
    }
}
