package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.fallback.Samples;
import dev.soma.op.OpArgs;
import dev.soma.op.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Inputs, poisoned outputs and the accuracy check shared by the vector kernel tests. */
final class TestData {
    /** Sizes that hit every vector tail (16 float lanes, 8 double lanes) and the parallel split. */
    static final long[] SIZES = Samples.sizes();
    /** A value no op produces from our inputs: any element left holding it was never written. */
    static final double POISON = Samples.POISON;

    private TestData() {
    }

    /** The truth every vector result is compared to: the scalar double reference. */
    static CpuKernels reference() {
        return CpuKernelsProvider.reference();
    }

    static double tolerance(DType t) {
        return Accuracy.tolerance(t);
    }

    static double get(DType t, MemorySegment s, long i) {
        return t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT, i) : s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }

    static void set(DType t, MemorySegment s, long i, double v) {
        if (t == DType.F32) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        } else {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        }
    }

    /** Heap segments (over float[]/double[]) for even seeds, native for odd: both kinds get exercised. */
    static MemorySegment alloc(DType t, long n, boolean heap) {
        if (heap && n < Integer.MAX_VALUE / 8) {
            return t == DType.F32 ? MemorySegment.ofArray(new float[(int) n])
                    : MemorySegment.ofArray(new double[(int) n]);
        }
        return Arena.ofAuto().allocate(Math.max(1, n) * t.byteSize(), 64);
    }

    static MemorySegment poisoned(DType t, long n, boolean heap) {
        MemorySegment s = alloc(t, n, heap);
        for (long i = 0; i < n; i++) {
            set(t, s, i, POISON);
        }
        return s;
    }

    static MemorySegment copy(DType t, MemorySegment src, long n, boolean heap) {
        MemorySegment s = alloc(t, n, heap);
        MemorySegment.copy(src, 0, s, 0, n * t.byteSize());
        return s;
    }

    /** Fresh inputs for {@code args}'s op (Samples: random range, wide magnitudes, every special value). */
    static MemorySegment input(OpArgs args, DType t, long n, long seed, boolean heap) {
        MemorySegment s = alloc(t, n, heap);
        Samples.fillInput(args, t, s, n, seed);
        return s;
    }

    /** Upstream gradients (Samples: uniform in [-2, 2)). */
    static MemorySegment gradient(DType t, long n, long seed, boolean heap) {
        MemorySegment s = alloc(t, n, heap);
        Samples.fillGradient(t, s, n, seed);
        return s;
    }

    /**
     * Asserts every element within the contract: NaN where the reference is NaN, equal infinities,
     * else relative error where |ref| > 1e-5 and absolute below.
     */
    static void assertClose(String what, DType t, MemorySegment expected, MemorySegment actual, long n,
                            MemorySegment input) {
        assertClose(what, t, expected, actual, n, input, tolerance(t));
    }

    static void assertClose(String what, DType t, MemorySegment expected, MemorySegment actual, long n,
                            MemorySegment input, double tol) {
        int failures = 0;
        StringBuilder msg = new StringBuilder();
        double worst = 0;
        for (long i = 0; i < n; i++) {
            double e = get(t, expected, i);
            double a = get(t, actual, i);
            double err = error(e, a);
            worst = Math.max(worst, err);
            if (!(err <= tol)) {
                if (failures++ < 8) {
                    msg.append(String.format("%n  [%d] x=%s expected %s got %s (error %.3g)", i,
                            input == null ? "-" : Double.toString(get(t, input, i)), e, a, err));
                }
            }
        }
        if (failures > 0) {
            fail(what + ": " + failures + " of " + n + " elements outside " + tol + ", worst " + worst + msg);
        }
    }

    /** Rule 5's per-element error (the shared Accuracy metric). */
    static double error(double e, double a) {
        return Accuracy.error(e, a);
    }
}
