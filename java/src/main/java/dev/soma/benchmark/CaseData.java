package dev.soma.benchmark;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The inputs of one case and the answer they must give: {@code x} uniform in [-8, 8) (both sides of
 * every kink and saturation), {@code dy} uniform in [-1, 1), and the expected output computed by
 * the scalar reference in float64 on the same values widened exactly. Off-heap, freed by
 * {@link #close()}. The same data serves every backend, so all of them are checked against one answer.
 */
public final class CaseData implements AutoCloseable {
    private final BenchCase benchCase;
    private final Tensor x;
    private final Tensor dy;
    private final Tensor expected;
    private final Tensor scale;

    private CaseData(BenchCase c, Tensor x, Tensor dy, Tensor expected, Tensor scale) {
        this.benchCase = c;
        this.x = x;
        this.dy = dy;
        this.expected = expected;
        this.scale = scale;
    }

    /** Fills fresh inputs from {@code seed} and computes the reference answer with {@code reference}. */
    public static CaseData create(BenchCase c, long seed, CpuKernels reference) {
        long[] shape = c.shape();
        Tensor x = Tensor.allocateNative(c.dtype(), shape);
        Tensor dy = c.direction() == Direction.BACKWARD ? Tensor.allocateNative(c.dtype(), shape) : null;
        Tensor expected = Tensor.allocateNative(DType.F64, shape);
        try {
            SplittableRandom rnd = new SplittableRandom(seed);
            fillUniform(x, rnd, -8, 8);
            if (dy != null) {
                fillUniform(dy, rnd, -1, 1);
            }
            try (Tensor xd = widen(x); Tensor dyd = dy == null ? null : widen(dy);
                 Engine ref = Engine.over(new CpuBackend(reference))) {
                if (c.direction() == Direction.FORWARD) {
                    ref.forward(c.args(), xd, expected);
                } else {
                    ref.backward(c.args(), xd, dyd, expected);
                }
                return new CaseData(c, x, dy, expected, RowScales.forCase(c, xd, dyd, reference));
            }
        } catch (RuntimeException | Error e) {
            x.close();
            if (dy != null) {
                dy.close();
            }
            expected.close();
            throw e;
        }
    }

    public BenchCase benchCase() {
        return benchCase;
    }

    public Tensor x() {
        return x;
    }

    /** The upstream gradient; null for forward cases. */
    public Tensor dy() {
        return dy;
    }

    /** The float64 reference output. */
    public Tensor expected() {
        return expected;
    }

    /** Per-element error scales for softmax-family results ({@link RowScales}), or null. */
    public Tensor scale() {
        return scale;
    }

    @Override
    public void close() {
        x.close();
        if (dy != null) {
            dy.close();
        }
        expected.close();
        if (scale != null) {
            scale.close();
        }
    }

    private static void fillUniform(Tensor t, SplittableRandom rnd, double lo, double hi) {
        MemorySegment s = t.segment();
        long n = t.elementCount();
        if (t.dtype() == DType.F32) {
            for (long i = 0; i < n; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(lo, hi));
            }
        } else {
            for (long i = 0; i < n; i++) {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, rnd.nextDouble(lo, hi));
            }
        }
    }

    /** A float64 copy (exact: every float is a double). */
    private static Tensor widen(Tensor t) {
        Tensor d = Tensor.allocateNative(DType.F64, t.shape());
        if (t.dtype() == DType.F64) {
            MemorySegment.copy(t.segment(), 0, d.segment(), 0, t.byteSize());
        } else {
            MemorySegment src = t.segment();
            MemorySegment dst = d.segment();
            for (long i = 0, n = t.elementCount(); i < n; i++) {
                dst.setAtIndex(ValueLayout.JAVA_DOUBLE, i, src.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        }
        return d;
    }
}
