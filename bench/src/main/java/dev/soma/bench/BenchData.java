package dev.soma.bench;

import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Native benchmark data (from the shared Samples) and validation of a full-size run against the reference. */
final class BenchData {
    /** Elements compared per window; three windows: start, middle, end. */
    private static final long WINDOW = 1 << 14;

    private BenchData() {
    }

    static MemorySegment poisoned(Arena arena, DType t, long n) {
        MemorySegment s = arena.allocate(n * t.byteSize(), 64);
        Samples.poison(t, s, n);
        return s;
    }

    /**
     * Input data of one of two kinds: "activations" (uniform over the op's range; the published
     * tables) or "mixed" (the validation mix: one element in eight a special value, one in eight a
     * log-uniform magnitude from 1e-30 to the type's huge values).
     */
    static MemorySegment input(Arena arena, OpArgs args, DType t, long n, long seed, String data) {
        MemorySegment s = arena.allocate(n * t.byteSize(), 64);
        switch (data) {
            case "activations" -> Samples.fillActivations(args, t, s, n, seed);
            case "mixed" -> Samples.fillInput(args, t, s, n, seed);
            default -> throw new IllegalArgumentException("data must be activations or mixed, got " + data);
        }
        return s;
    }

    /**
     * {@code s} itself for "native", or a copy of it over a Java array for "heap": a tensor made
     * from a {@code float[]} (the kernels stage heap data through native scratch).
     */
    static MemorySegment held(MemorySegment s, DType t, String memory) {
        switch (memory) {
            case "native" -> {
                return s;
            }
            case "heap" -> {
                long n = s.byteSize() / t.byteSize();
                if (n > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("heap memory holds at most 2^31 - 9 elements, got " + n);
                }
                MemorySegment h = t == DType.F32 ? MemorySegment.ofArray(new float[(int) n])
                        : MemorySegment.ofArray(new double[(int) n]);
                MemorySegment.copy(s, 0, h, 0, s.byteSize());
                return h;
            }
            default -> throw new IllegalArgumentException("memory must be native or heap, got " + memory);
        }
    }

    static MemorySegment gradient(Arena arena, DType t, long n, long seed) {
        MemorySegment s = arena.allocate(n * t.byteSize(), 64);
        Samples.fillGradient(t, s, n, seed);
        return s;
    }

    static MemorySegment weights(Arena arena, DType t, long n, long seed) {
        MemorySegment s = arena.allocate(n * t.byteSize(), 64);
        Samples.fillPreluWeights(t, s, n, seed);
        return s;
    }

    /**
     * Recomputes three windows of {@code out} with the reference, on slices of the inputs cut at
     * whole rows (softmax) or whole (channels, inner) blocks (PReLU), and throws when any element is
     * outside the contract.
     */
    static void validate(OpArgs args, DType t, boolean backward, MemorySegment x, MemorySegment dy,
                         MemorySegment w, MemorySegment out, long size, long row, long channels) {
        CpuKernels ref = CpuKernelsProvider.reference();
        Op op = args.op();
        long unit = op.family() == Family.ELEMENTWISE ? 1 : op == Op.PRELU ? channels * row : row;
        long window = Math.max(unit, Math.min(size, WINDOW) / unit * unit);
        long b = t.byteSize();
        for (long start : new long[] {0, (size / 2) / unit * unit, size - window}) {
            MemorySegment xs = x.asSlice(start * b, window * b);
            MemorySegment gs = dy.asSlice(start * b, window * b);
            MemorySegment got = out.asSlice(start * b, window * b);
            MemorySegment want = Arena.ofAuto().allocate(window * b, 64);
            Samples.poison(t, want, window);
            MemorySegment dwRef = Arena.ofAuto().allocate(channels * b, 64);
            switch (op.family()) {
                case ELEMENTWISE -> {
                    if (backward) {
                        ref.backward(args, t, xs, gs, want, window);
                    } else {
                        ref.forward(args, t, xs, want, window);
                    }
                }
                case CHANNEL_WEIGHTED -> {
                    long outer = window / unit;
                    if (backward) {
                        ref.preluBackward(t, xs, w, channels, gs, want, dwRef, outer, channels, row);
                    } else {
                        ref.preluForward(t, xs, w, channels, want, outer, channels, row);
                    }
                }
                case ROW_REDUCTION -> {
                    if (backward) {
                        ref.softmaxBackward(args, t, xs, gs, want, window / row, row, 1);
                    } else {
                        ref.softmaxForward(args, t, xs, want, window / row, row, 1);
                    }
                }
            }
            Accuracy.Report r = op.family() == Family.ROW_REDUCTION
                    ? Accuracy.compareScaled(t, i -> read(t, want, i), i -> read(t, got, i),
                            softmaxScales(op == Op.LOG_SOFTMAX, backward, t, xs, gs, window, row), window)
                    : Accuracy.compare(t, want, got, window);
            if (!r.ok()) {
                throw new IllegalStateException(op + " " + t + (backward ? " backward" : " forward")
                        + " is wrong in the window at element " + start + ": " + r.describe());
            }
        }
    }

    /** The term sizes Accuracy.errorScaled needs for softmax results that are differences of larger terms. */
    private static Accuracy.Elements softmaxScales(boolean log, boolean backward, DType t, MemorySegment x,
                                                   MemorySegment dy, long n, long row) {
        double[] scale = new double[(int) n];
        for (long r = 0; r < n / row; r++) {
            long base = r * row;
            double m = Double.NEGATIVE_INFINITY;
            double maxDy = 0;
            double sumAbsDy = 0;
            for (long k = 0; k < row; k++) {
                m = Math.max(m, read(t, x, base + k));
                maxDy = Math.max(maxDy, Math.abs(read(t, dy, base + k)));
                sumAbsDy += Math.abs(read(t, dy, base + k));
            }
            double z = 0;
            for (long k = 0; k < row; k++) {
                z += Math.exp(read(t, x, base + k) - m);
            }
            for (long k = 0; k < row; k++) {
                double xi = read(t, x, base + k);
                double p = Math.exp(xi - m) / z;
                scale[(int) (base + k)] = !backward ? (log ? Math.abs(xi - m) + Math.log(z) : 0)
                        : log ? Math.abs(read(t, dy, base + k)) + p * sumAbsDy : p * maxDy;
            }
        }
        return i -> scale[(int) i];
    }

    static double read(DType t, MemorySegment s, long i) {
        return t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                : s.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
    }
}
