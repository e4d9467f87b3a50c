package dev.soma.bench;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.verify.ErrorMetric;
import dev.soma.verify.RowScales;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Checks one benchmark output against the scalar reference in float64, with the accuracy contract
 * ({@link ErrorMetric}, i.e. {@link dev.soma.fallback.Accuracy}) and, for softmax-family results,
 * the per-row scales {@code soma verify} and {@code soma bench} use ({@link RowScales}). A wrong
 * result throws, so the benchmark fails in its setup instead of timing a wrong kernel.
 */
final class ResultCheck {
    private ResultCheck() {
    }

    /**
     * Throws when {@code got} (the result of {@code args} at {@code x}, or its gradient given
     * {@code dy}) is outside the contract anywhere. {@code x}, {@code dy} and {@code got} share one
     * shape (the op's shape: rows for softmax, (N, C, inner) for PReLU); {@code w} is PReLU's weight.
     *
     * @param dy null for a forward result
     * @param w  null unless the op is PReLU
     */
    static void check(String what, OpArgs args, Tensor x, Tensor dy, Tensor w, Tensor got) {
        boolean backward = dy != null;
        try (Tensor xd = widen(x); Tensor dyd = dy == null ? null : widen(dy); Tensor wd = w == null ? null : widen(w);
             Tensor want = Tensor.allocateNative(DType.F64, x.shape());
             Engine ref = Engine.over(new CpuBackend(CpuKernelsProvider.reference()))) {
            if (args.op() == Op.PRELU) {
                if (backward) {
                    ref.preluBackward(xd, wd, dyd, want, null);
                } else {
                    ref.prelu(xd, wd, want);
                }
            } else if (backward) {
                ref.backward(args, xd, dyd, want);
            } else {
                ref.forward(args, xd, want);
            }
            double[] scale = args.op().family() == Family.ROW_REDUCTION ? RowScales.of(args, xd, dyd) : null;
            ErrorMetric.Worst worst = ErrorMetric.worst(got, want, scale);
            DType t = got.dtype();
            if (worst.error() > ErrorMetric.tolerance(t)) {
                long i = worst.index();
                throw new IllegalStateException(what + ": " + args.op().id() + " " + t + (backward ? " backward" : " forward")
                        + " is wrong at element " + i + " of the checked window: got " + got.get(i) + ", the reference gives "
                        + want.get(i) + " (x = " + x.get(i) + "), error " + worst.error() + " > tolerance "
                        + ErrorMetric.tolerance(t) + "; this benchmark refuses to time a wrong kernel");
            }
        }
    }

    /** A float64 copy (exact: every float is a double). */
    static Tensor widen(Tensor t) {
        Tensor d = Tensor.allocateNative(DType.F64, t.shape());
        MemorySegment dst = d.segment();
        if (t.dtype() == DType.F64) {
            MemorySegment.copy(t.segment(), 0, dst, 0, t.byteSize());
        } else {
            MemorySegment src = t.segment();
            for (long i = 0, n = t.elementCount(); i < n; i++) {
                dst.setAtIndex(ValueLayout.JAVA_DOUBLE, i, src.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i));
            }
        }
        return d;
    }
}
