package dev.soma.fallback.vector;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;

/**
 * The fast CPU path: every op on SIMD lanes ({@code jdk.incubator.vector}) and on all cores.
 *
 * <p>float32 forwards and the derivatives that do not cross zero run on native float lanes
 * ({@link FMath}: own exp, expm1, erfcx and log1p, compensated where an argument's rounding would
 * cost the 1e-6 contract); derivatives that cross zero (gelu', gelu_tanh', silu', mish', softplus')
 * run in double lanes and are rounded to float once ({@link DMath}). Every transcendental is our own
 * +, *, fma, compare and bit-operation code, so results are bit-identical across JIT tiers and
 * thread counts (issue #8; SVML only with -Dsoma.cpu.svml / -Dsoma.cpu.svmlFloat, not deterministic).
 *
 * <p>Work below {@link #parallelThreshold(Op)} elements runs on the calling thread; larger work is
 * cut into chunks (whole multiples of {@value #ALIGN} elements) for a shared daemon pool. Stateless:
 * any number of threads may call at once. C2 does not vectorize Vector API access to segments
 * over Java arrays: elementwise work whose operands are all arrays, and float32 softmax over
 * contiguous rows, run over the arrays themselves ({@link HeapArrays},
 * {@link SoftmaxPipelineF32Arrays}, {@link SoftmaxF32Arrays}); other work that touches one goes
 * through native scratch ({@link Staging}).
 * Do not load this class unless the {@code jdk.incubator.vector} module is present
 * ({@code CpuKernelsProvider} checks).
 */
public final class VectorKernels implements CpuKernels {
    /** Chunk boundaries fall on whole multiples of this many elements (whole vectors, whole cache lines). */
    static final long ALIGN = 64;
    /**
     * Elements below which a cheap op (relu family, prelu) stays on the calling thread. Handing a
     * chunk to a parked pool thread costs about 5 to 20 us (wake-up); relu takes 3 us at 2^16 and
     * 19 us at 2^18 float32 elements on one core of the 2-core EPYC, so splitting pays from about
     * 2^18 (BENCHMARKS.md has the measurements). {@code -Dsoma.cpu.parallelThreshold} overrides both
     * thresholds, for experiments.
     */
    static final long CHEAP_THRESHOLD = Long.getLong("soma.cpu.parallelThreshold", 1L << 18);
    /** Ops with exponentials (and softmax rows) cost ~10x more per element: 2^15 takes about 30 us. */
    static final long COSTLY_THRESHOLD = Long.getLong("soma.cpu.parallelThreshold", 1L << 15);

    public VectorKernels() {
        JitDirectives.outcome();  // before any kernel is compiled
    }

    /** float32 lanes of the preferred species on this machine. */
    public static int preferredFloatLanes() {
        return FloatVector.SPECIES_PREFERRED.length();
    }

    @Override
    public String name() {
        return "vector";
    }

    /** Elements (for softmax: row elements) from which an op is split across threads. */
    static long parallelThreshold(Op op) {
        return switch (op) {
            case RELU, LEAKY_RELU, PRELU, RELU6, HARDSIGMOID, HARDSWISH -> CHEAP_THRESHOLD;
            default -> COSTLY_THRESHOLD;
        };
    }

    @Override
    public void forward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long n) {
        Op op = args.op();
        double a = args.alpha();
        double b = args.beta();
        double c = args.threshold();
        long threshold = parallelThreshold(op);
        if (t == DType.F32) {
            float[] xa = HeapArrays.floats(x);
            float[] ya = HeapArrays.floats(y);
            if (xa != null && ya != null) {
                int xo = HeapArrays.index(x, Float.BYTES);
                int yo = HeapArrays.index(y, Float.BYTES);
                Parallel.forRange(n, 1, threshold, ALIGN,
                        (from, to) -> Elementwise32Arrays.forward(op, xa, xo, ya, yo, (int) from, (int) to, a, b, c));
                return;
            }
        } else {
            double[] xa = HeapArrays.doubles(x);
            double[] ya = HeapArrays.doubles(y);
            if (xa != null && ya != null) {
                int xo = HeapArrays.index(x, Double.BYTES);
                int yo = HeapArrays.index(y, Double.BYTES);
                Parallel.forRange(n, 1, threshold, ALIGN,
                        (from, to) -> Elementwise64Arrays.forward(op, xa, xo, ya, yo, (int) from, (int) to, a, b, c));
                return;
            }
        }
        MemorySegment[] io = {x, y};
        if (t == DType.F32) {
            Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Staging.contiguous(io, 1, Float.BYTES, 1,
                    from, to, (v, origin, f, e) -> Elementwise32.forward(op, v[0], v[1], f, e, a, b, c)));
        } else {
            Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Staging.contiguous(io, 1, Double.BYTES, 1,
                    from, to, (v, origin, f, e) -> Elementwise64.forward(op, v[0], v[1], f, e, a, b, c)));
        }
    }

    @Override
    public void backward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx, long n) {
        Op op = args.op();
        double a = args.alpha();
        double b = args.beta();
        double c = args.threshold();
        long threshold = parallelThreshold(op);
        if (t == DType.F32) {
            float[] xa = HeapArrays.floats(x);
            float[] ga = HeapArrays.floats(dy);
            float[] da = HeapArrays.floats(dx);
            if (xa != null && ga != null && da != null) {
                int xo = HeapArrays.index(x, Float.BYTES);
                int go = HeapArrays.index(dy, Float.BYTES);
                int dox = HeapArrays.index(dx, Float.BYTES);
                Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Elementwise32Arrays.backward(op, xa, xo, ga, go,
                        da, dox, (int) from, (int) to, a, b, c));
                return;
            }
        } else {
            double[] xa = HeapArrays.doubles(x);
            double[] ga = HeapArrays.doubles(dy);
            double[] da = HeapArrays.doubles(dx);
            if (xa != null && ga != null && da != null) {
                int xo = HeapArrays.index(x, Double.BYTES);
                int go = HeapArrays.index(dy, Double.BYTES);
                int dox = HeapArrays.index(dx, Double.BYTES);
                Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Elementwise64Arrays.backward(op, xa, xo, ga, go,
                        da, dox, (int) from, (int) to, a, b, c));
                return;
            }
        }
        MemorySegment[] io = {x, dy, dx};
        if (t == DType.F32) {
            Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Staging.contiguous(io, 2, Float.BYTES, 1,
                    from, to, (v, origin, f, e) -> Elementwise32.backward(op, v[0], v[1], v[2], f, e, a, b, c)));
        } else {
            Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Staging.contiguous(io, 2, Double.BYTES, 1,
                    from, to, (v, origin, f, e) -> Elementwise64.backward(op, v[0], v[1], v[2], f, e, a, b, c)));
        }
    }

    @Override
    public void preluForward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment y,
                             long outer, long channels, long inner) {
        boolean f32 = t == DType.F32;
        long n = outer * channels * inner;
        long threshold = parallelThreshold(Op.PRELU);
        long eb = t.byteSize();
        MemorySegment[] io = {x, y};
        if (weightCount == 1) {
            double w0 = Prelu.weight(f32, w, 0);
            Parallel.forRange(n, 1, threshold, ALIGN, (from, to) -> Staging.contiguous(io, 1, eb, 1, from, to,
                    (v, origin, f, e) -> Prelu.forwardSpan(f32, v[0], w0, v[1], f, e)));
        } else if (inner == 1) {
            MemorySegment wn = Staging.nativeCopy(w);
            Parallel.forRange(outer, channels, threshold, 1, (from, to) -> Staging.contiguous(io, 1, eb, channels, from, to,
                    (v, origin, f, e) -> Prelu.forwardChannelsLast(f32, v[0], wn, v[1], channels, f, e)));
        } else if (Prelu.expandsWeights(outer, channels, inner)) {
            long period = channels * inner;
            MemorySegment wide = Prelu.expandWeights(f32, w, channels, inner);
            Parallel.forRange(outer, period, threshold, 1, (from, to) -> Staging.contiguous(io, 1, eb, period, from, to,
                    (v, origin, f, e) -> Prelu.forwardChannelsLast(f32, v[0], wide, v[1], period, f, e)));
        } else {
            Parallel.forRange(outer * channels, inner, threshold, 1, (from, to) -> Staging.contiguous(io, 1, eb, inner, from, to,
                    (v, origin, f, e) -> Prelu.forwardRows(f32, v[0], w, v[1], channels, inner, origin, f, e)));
        }
    }

    @Override
    public void preluBackward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment dy,
                              MemorySegment dx, MemorySegment dw, long outer, long channels, long inner) {
        boolean f32 = t == DType.F32;
        long n = outer * channels * inner;
        long threshold = parallelThreshold(Op.PRELU);
        int wc = (int) weightCount;
        long eb = t.byteSize();
        MemorySegment[] io = {x, dy, dx};
        Parallel.Plan plan;
        Parallel.ChunkBody body;
        Pairwise[][] partial;
        if (weightCount == 1) {
            double w0 = Prelu.weight(f32, w, 0);
            plan = Parallel.planIndependentOfThreads(n, 1, threshold, ALIGN);
            partial = newPartials(plan.chunks(), wc);
            body = (k, from, to) -> Staging.contiguous(io, 2, eb, 1, from, to,
                    (v, origin, f, e) -> Prelu.backwardSpanBlocks(f32, v[0], w0, v[1], v[2], f, e, partial[k][0]));
        } else if (inner == 1) {
            plan = Parallel.planIndependentOfThreads(outer, channels, threshold, 1);
            partial = newPartials(plan.chunks(), wc);
            MemorySegment wn = Staging.nativeCopy(w);
            body = (k, from, to) -> Staging.contiguous(io, 2, eb, channels, from, to,
                    (v, origin, f, e) -> Prelu.backwardChannelsLast(f32, v[0], wn, v[1], v[2], channels, f, e, partial[k]));
        } else {
            plan = Parallel.planIndependentOfThreads(outer * channels, inner, threshold, 1);
            partial = newPartials(plan.chunks(), wc);
            body = (k, from, to) -> Staging.contiguous(io, 2, eb, inner, from, to,
                    (v, origin, f, e) -> Prelu.backwardRows(f32, v[0], w, v[1], v[2], channels, inner, origin, f, e, partial[k]));
        }
        Parallel.run(plan, body);
        // Chunks combine pairwise in chunk order: the same result however threads ran them, and (the
        // plan ignoring the thread count) on every machine.
        double[] perChunk = new double[partial.length];
        for (int c = 0; c < wc; c++) {
            for (int k = 0; k < partial.length; k++) {
                perChunk[k] = partial[k][c].sum();
            }
            double sum = Pairwise.of(perChunk);
            if (Double.isNaN(sum)) {
                // The canonical NaN: which NaN a sum of several returns depends on operand order (issue #8).
                sum = Double.NaN;
            }
            if (f32) {
                dw.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, c, (float) sum);
            } else {
                dw.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, c, sum);
            }
        }
    }

    private static Pairwise[][] newPartials(int chunks, int weights) {
        Pairwise[][] p = new Pairwise[chunks][weights];
        for (Pairwise[] row : p) {
            for (int c = 0; c < weights; c++) {
                row[c] = new Pairwise();
            }
        }
        return p;
    }

    @Override
    public void softmaxForward(OpArgs args, DType t, MemorySegment x, MemorySegment y,
                               long outer, long len, long inner) {
        boolean f32 = t == DType.F32;
        boolean log = args.op() == Op.LOG_SOFTMAX;
        boolean safe = args.safe();
        long threshold = parallelThreshold(args.op());
        if (len == 0) {
            return;
        }
        long eb = t.byteSize();
        MemorySegment[] io = {x, y};
        float[] xa = f32 && inner == 1 && len <= SoftmaxF32.SCRATCH_MAX ? HeapArrays.floats(x) : null;
        float[] ya = xa != null && !y.isReadOnly() ? HeapArrays.floats(y) : null;
        if (ya != null) {
            // Both over float arrays: the pipeline runs on the arrays themselves, no staging.
            Parallel.forRange(outer, len, threshold, 1, (from, to) ->
                    Softmax.forwardRowsF32Arrays(log, safe, x, xa, y, ya, len, from, to));
        } else if (inner == 1) {
            Parallel.forRange(outer, len, threshold, 1, (from, to) -> Staging.contiguous(io, 1, eb, len, from, to,
                    (v, origin, f, e) -> Softmax.forwardRows(f32, log, safe, v[0], v[1], len, f, e)));
        } else {
            Parallel.forRange(outer * inner, len, threshold, Lanes.D.length(), (from, to) -> Staging.columns(io, 1, eb,
                    len, inner, from, to, (v, width) -> Softmax.forwardColumns(f32, log, safe, v[0], v[1], len, width, 0, width),
                    (v, origin, f, e) -> Softmax.forwardColumns(f32, log, safe, v[0], v[1], len, inner, f, e)));
        }
    }

    @Override
    public void softmaxBackward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx,
                                long outer, long len, long inner) {
        boolean f32 = t == DType.F32;
        boolean log = args.op() == Op.LOG_SOFTMAX;
        boolean safe = args.safe();
        long threshold = parallelThreshold(args.op());
        if (len == 0) {
            return;
        }
        long eb = t.byteSize();
        MemorySegment[] io = {x, dy, dx};
        float[] xa = f32 && inner == 1 && len <= SoftmaxF32.SCRATCH_MAX ? HeapArrays.floats(x) : null;
        float[] dya = xa != null ? HeapArrays.floats(dy) : null;
        float[] dxa = dya != null && !dx.isReadOnly() ? HeapArrays.floats(dx) : null;
        if (dxa != null) {
            // All three over float arrays: the row kernels run on the arrays themselves, no staging.
            Parallel.forRange(outer, len, threshold, 1, (from, to) ->
                    Softmax.backwardRowsF32Arrays(log, safe, x, xa, dy, dya, dx, dxa, len, from, to));
        } else if (inner == 1) {
            Parallel.forRange(outer, len, threshold, 1, (from, to) -> Staging.contiguous(io, 2, eb, len, from, to,
                    (v, origin, f, e) -> Softmax.backwardRows(f32, log, safe, v[0], v[1], v[2], len, f, e)));
        } else {
            Parallel.forRange(outer * inner, len, threshold, Lanes.D.length(), (from, to) -> Staging.columns(io, 2, eb,
                    len, inner, from, to, (v, width) -> Softmax.backwardColumns(f32, log, safe, v[0], v[1], v[2], len, width, 0, width),
                    (v, origin, f, e) -> Softmax.backwardColumns(f32, log, safe, v[0], v[1], v[2], len, inner, f, e)));
        }
    }
}
