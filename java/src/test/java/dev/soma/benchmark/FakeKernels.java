package dev.soma.benchmark;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ReLU only, forward and backward, with a fault to inject: lets the runner's tests prove that a
 * wrong or lazy kernel is caught before it is timed, independently of the real kernels.
 */
final class FakeKernels implements CpuKernels {
    enum Fault { NONE, WRONG_VALUE, SKIPS_LAST, THROWS }

    private final Fault fault;

    FakeKernels(Fault fault) {
        this.fault = fault;
    }

    @Override
    public String name() {
        return "fake-" + fault.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void forward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long n) {
        requireRelu(args);
        for (long i = 0; i < limit(n); i++) {
            double v = get(t, x, i);
            set(t, y, i, v > 0 ? v : 0);
        }
        corrupt(t, y, n);
    }

    @Override
    public void backward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx, long n) {
        requireRelu(args);
        for (long i = 0; i < limit(n); i++) {
            double v = get(t, x, i);
            set(t, dx, i, Double.isNaN(v) ? Double.NaN : v > 0 ? get(t, dy, i) : 0);
        }
        corrupt(t, dx, n);
    }

    private long limit(long n) {
        if (fault == Fault.THROWS) {
            throw new IllegalStateException("kernel launch failed (injected)");
        }
        return fault == Fault.SKIPS_LAST ? n - 1 : n;
    }

    private void corrupt(DType t, MemorySegment out, long n) {
        if (fault == Fault.WRONG_VALUE && n > 3) {
            set(t, out, n / 2, get(t, out, n / 2) * 1.001 + 1e-3);
        }
    }

    private static void requireRelu(OpArgs args) {
        if (args.op() != Op.RELU) {
            throw new UnsupportedOperationException("fake kernels do relu only");
        }
    }

    private static double get(DType t, MemorySegment s, long i) {
        return t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT, i) : s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }

    private static void set(DType t, MemorySegment s, long i, double v) {
        if (t == DType.F32) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        } else {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        }
    }

    @Override
    public void preluForward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment y,
                             long outer, long channels, long inner) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void preluBackward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment dy,
                              MemorySegment dx, MemorySegment dw, long outer, long channels, long inner) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void softmaxForward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long outer, long len,
                               long inner) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void softmaxBackward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx,
                                long outer, long len, long inner) {
        throw new UnsupportedOperationException();
    }
}
