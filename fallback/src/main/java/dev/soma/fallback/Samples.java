package dev.soma.fallback;

import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic test data for every op: random values over the op's interesting range, with the
 * extremal values of shared/semantics.md mixed in (NaN, +-inf, +-0, subnormals, exp-overflow edges,
 * kinks, huge magnitudes); random upstream gradients; random PReLU weights; the standard size list;
 * and a poison value for outputs. The same seed gives the same data on every machine.
 *
 * <p>Every generated value is representable in the requested dtype (float32 data is rounded first).
 */
public final class Samples {
    /** Sizes that hit every vector tail and the multi-chunk paths. */
    private static final long[] SIZES = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 4097, 1 << 20};

    /**
     * The sentinel written into outputs before a kernel runs: a large finite value no generator
     * produces, so an unwritten element fails any accuracy comparison and is found by
     * {@link #firstPoisoned}. Exactly representable in float32.
     */
    public static final double POISON = (double) -1.2345678e29f;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private Samples() {
    }

    /** {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 4097, 1 << 20} (a fresh copy). */
    public static long[] sizes() {
        return SIZES.clone();
    }

    /** The size list without the sizes above {@code max}, for slow paths (emulators, the reference on float64). */
    public static long[] sizesUpTo(long max) {
        return Arrays.stream(SIZES).filter(s -> s <= max).toArray();
    }

    /**
     * The extremal inputs for {@code args}'s op in type {@code t}: NaN, +-inf, +-0, the smallest and
     * largest subnormals, the smallest normal, +-1e-30, the exp overflow and underflow edges of both
     * types (+-88.72, +-87.34, +-103.28, +-709.78, +-745.13 and neighbours), the kinks (0, +-3, 6,
     * one ulp either side), softplus's threshold and the default's +-20, erfc's underflow region
     * (+-13, +-38, +-40), and the largest finite values. Duplicates after rounding are kept (harmless).
     */
    public static double[] specialValues(OpArgs args, DType t) {
        List<Double> v = new ArrayList<>();
        v.add(Double.NaN);
        v.add(Double.POSITIVE_INFINITY);
        v.add(Double.NEGATIVE_INFINITY);
        v.add(0.0);
        v.add(-0.0);
        boolean f = t == DType.F32;
        double minSub = f ? Float.MIN_VALUE : Double.MIN_VALUE;
        double maxSub = f ? Math.nextDown(Float.MIN_NORMAL) : Math.nextDown(Double.MIN_NORMAL);
        double minNormal = f ? Float.MIN_NORMAL : Double.MIN_NORMAL;
        double max = f ? Float.MAX_VALUE : Double.MAX_VALUE;
        double[] magnitudes = {minSub, maxSub, minNormal, 1e-30, 1e-8, 0.5, 1, 3, 6, 13, 19.999, 20, 20.001, 38, 40,
            87.34, 88.72, 88.73, 103.28, 709.78, 709.79, 745.13, 1e10, 1e30, max};
        for (double m : magnitudes) {
            v.add(m);
            v.add(-m);
        }
        for (double kink : new double[] {-3, 3, 6}) {
            v.add(up(t, kink));
            v.add(down(t, kink));
        }
        if (!f) {
            v.add(1e300);
            v.add(-1e300);
        }
        Op op = args.op();
        if (op == Op.SOFTPLUS) {
            double edge = args.threshold() / args.beta();
            v.add(edge);
            v.add(up(t, edge));
            v.add(down(t, edge));
        }
        if (op == Op.CELU || op == Op.ELU || op == Op.LEAKY_RELU) {
            v.add(args.alpha());
            v.add(-args.alpha());
        }
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = round(t, v.get(i));
        }
        return out;
    }

    /**
     * Fills {@code x[0, n)} with inputs for {@code args}'s op. Elementwise ops: three quarters
     * uniform over the op's interesting range, one eighth log-uniform magnitudes from 1e-30 to the
     * type's huge values (either sign), one eighth special values; and when {@code n} is at least
     * four times the number of special values, each special value at least once (one per block).
     * Softmax ops: finite values with rare specials, so that most rows stay finite (a NaN or +inf
     * anywhere makes a whole row NaN).
     */
    public static void fillInput(OpArgs args, DType t, MemorySegment x, long n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] specials = specialValues(args, t);
        double range = range(args);
        boolean rows = args.op().family() == Family.ROW_REDUCTION;
        double hugeExp = t == DType.F32 ? 38 : 300;
        for (long i = 0; i < n; i++) {
            int pick = rnd.nextInt(rows ? 256 : 8);
            double value;
            if (pick == 0 && !rows) {
                value = specials[rnd.nextInt(specials.length)];
            } else if (pick == 1) {
                double mag = Math.pow(10, rnd.nextDouble(-30, rows ? 3 : hugeExp));
                value = rnd.nextBoolean() ? mag : -mag;
            } else {
                value = rnd.nextDouble(-range, range);
            }
            write(t, x, i, value);
        }
        if (n >= 4L * specials.length) {
            long block = n / specials.length;
            for (int j = 0; j < specials.length; j++) {
                write(t, x, j * block + rnd.nextLong(block), specials[j]);
            }
        }
    }

    /** A heap segment of {@code n} inputs (see {@link #fillInput}). */
    public static MemorySegment input(OpArgs args, DType t, long n, long seed) {
        MemorySegment x = allocate(t, n);
        fillInput(args, t, x, n, seed);
        return x;
    }

    /** Fills {@code dy[0, n)} with upstream gradients, uniform in [-2, 2). */
    public static void fillGradient(DType t, MemorySegment dy, long n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (long i = 0; i < n; i++) {
            write(t, dy, i, rnd.nextDouble(-2, 2));
        }
    }

    /** A heap segment of {@code n} upstream gradients (see {@link #fillGradient}). */
    public static MemorySegment gradient(DType t, long n, long seed) {
        MemorySegment dy = allocate(t, n);
        fillGradient(t, dy, n, seed);
        return dy;
    }

    /** Fills {@code count} PReLU weights: uniform in [-0.5, 1.0), with 0, 1, -1 and PyTorch's 0.25 mixed in. */
    public static void fillPreluWeights(DType t, MemorySegment w, long count, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        double[] specials = {0.0, 1.0, -1.0, 0.25};
        for (long c = 0; c < count; c++) {
            double value = rnd.nextInt(8) == 0 ? specials[rnd.nextInt(specials.length)] : rnd.nextDouble(-0.5, 1.0);
            write(t, w, c, value);
        }
    }

    /** A heap segment of {@code count} PReLU weights (see {@link #fillPreluWeights}). */
    public static MemorySegment preluWeights(DType t, long count, long seed) {
        MemorySegment w = allocate(t, count);
        fillPreluWeights(t, w, count, seed);
        return w;
    }

    /** A heap segment of {@code n} elements of type {@code t}, filled with {@link #POISON}. */
    public static MemorySegment allocate(DType t, long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cannot allocate " + n + " elements on the heap; use at most "
                    + (Integer.MAX_VALUE - 8) + " or a native segment");
        }
        MemorySegment seg = t == DType.F32 ? MemorySegment.ofArray(new float[(int) n])
                : MemorySegment.ofArray(new double[(int) n]);
        poison(t, seg, n);
        return seg;
    }

    /** Writes {@link #POISON} into {@code out[0, n)}. */
    public static void poison(DType t, MemorySegment out, long n) {
        for (long i = 0; i < n; i++) {
            write(t, out, i, POISON);
        }
    }

    /** The first index in {@code [0, n)} still holding {@link #POISON}, or -1 when every element was written. */
    public static long firstPoisoned(DType t, MemorySegment out, long n) {
        for (long i = 0; i < n; i++) {
            double v = t == DType.F32 ? out.getAtIndex(F32, i) : out.getAtIndex(F64, i);
            if (v == POISON) {
                return i;
            }
        }
        return -1;
    }

    /** Half-width of the uniform part of the inputs: where the op's shape is. */
    /**
     * Fills {@code x[0, n)} with plain activations for {@code args}'s op: uniform over the op's
     * interesting range (no NaN, infinities, subnormals or extreme magnitudes), what a layer's output
     * usually holds. The benchmarks' default data; {@link #fillInput} is the validation mix.
     */
    public static void fillActivations(OpArgs args, DType t, MemorySegment x, long n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double range = range(args);
        for (long i = 0; i < n; i++) {
            write(t, x, i, rnd.nextDouble(-range, range));
        }
    }

    static double range(OpArgs args) {
        return switch (args.op()) {
            case SIGMOID -> 30;
            case TANH -> 10;
            case RELU, LEAKY_RELU, PRELU -> 10;
            case ELU, CELU, SELU -> 12;
            case GELU, GELU_TANH -> 8;
            case SILU, MISH -> 20;
            case SOFTPLUS -> Math.max(30, 1.5 * Math.abs(args.threshold() / args.beta()));
            case RELU6 -> 9;
            case HARDSIGMOID, HARDSWISH -> 6;
            case SOFTMAX, LOG_SOFTMAX -> 20;
        };
    }

    private static double up(DType t, double v) {
        return t == DType.F32 ? Math.nextUp((float) v) : Math.nextUp(v);
    }

    private static double down(DType t, double v) {
        return t == DType.F32 ? Math.nextDown((float) v) : Math.nextDown(v);
    }

    private static double round(DType t, double v) {
        return t == DType.F32 ? (double) (float) v : v;
    }

    private static void write(DType t, MemorySegment seg, long i, double v) {
        if (t == DType.F32) {
            seg.setAtIndex(F32, i, (float) v);
        } else {
            seg.setAtIndex(F64, i, v);
        }
    }
}
