package dev.soma.verify;

import dev.soma.Tensor;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.op.Param;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The inputs {@link Verifier} runs each op on: sizes that hit every vector tail, parameters at
 * their edges (α = 0, negative, large; softplus β and threshold), PReLU with one and with C
 * weights, softmax rows of many lengths along every axis with shifted, NaN, +inf, fully and half
 * masked rows, in both plain and safe mode.
 */
public final class VerifyCases {
    /**
     * Element counts for elementwise ops: the project's sizes ({@link Samples#sizes()}) that hit every
     * vector tail, without 2^20 (the scalar reference would make a full run slow), plus 65537, which
     * crosses the multi-chunk paths and ends in a tail of one.
     */
    public static final long[] SIZES = java.util.stream.LongStream.concat(
            java.util.Arrays.stream(Samples.sizesUpTo(4097)), java.util.stream.LongStream.of(65537)).toArray();

    /** Softmax row lengths. */
    static final long[] ROW_LENGTHS = {1, 2, 7, 31, 33, 1024, 1025, 4097};

    private VerifyCases() {
    }

    /** Every case for {@code op} in {@code t}, from fresh random data. */
    public static List<VerifyCase> of(Op op, DType t, SplittableRandom rng) {
        return switch (op.family()) {
            case ELEMENTWISE -> elementwise(op, t, rng);
            case CHANNEL_WEIGHTED -> prelu(t, rng);
            case ROW_REDUCTION -> softmax(op, t, rng);
        };
    }

    private static List<VerifyCase> elementwise(Op op, DType t, SplittableRandom rng) {
        List<VerifyCase> cases = new ArrayList<>();
        for (long n : SIZES) {
            cases.add(elementCase("n=" + n, OpArgs.of(op), t, new long[] {n}, rng));
        }
        // Parameters at their edges, on one mid-size input (a vector body plus a tail).
        List<OpArgs> variants = new ArrayList<>();
        if (op.takes(Param.ALPHA)) {
            for (double a : new double[] {0.0, -0.5, 0.2, 1.7, 3.0}) {
                if (!(op == Op.CELU && a == 0.0)) {
                    variants.add(OpArgs.of(op).withAlpha(a));
                }
            }
        }
        if (op.takes(Param.BETA)) {
            variants.add(OpArgs.of(op).withBeta(2.0));
            variants.add(OpArgs.of(op).withBeta(0.5).withThreshold(5.0));
            variants.add(OpArgs.of(op).withThreshold(1.0));
        }
        for (OpArgs a : variants) {
            cases.add(elementCase(describe(a) + ", n=1037", a, t, new long[] {1037}, rng));
        }
        // A rank-3 input: elementwise ops must not care about the shape.
        cases.add(elementCase("shape (3, 5, 7)", OpArgs.of(op), t, new long[] {3, 5, 7}, rng));
        return cases;
    }

    private static VerifyCase elementCase(String label, OpArgs a, DType t, long[] shape, SplittableRandom rng) {
        return new VerifyCase(label, a, inputs(a, t, shape, rng), null, gradient(t, shape, rng));
    }

    /**
     * Inputs from {@link Samples#fillInput} (random over the op's range, log-uniform magnitudes,
     * special values), and the special values again at the very end of the array, where vector
     * loops hand over to their scalar tails.
     */
    public static Tensor inputs(OpArgs a, DType t, long[] shape, SplittableRandom rng) {
        Tensor x = Tensor.allocate(t, shape);
        long n = x.elementCount();
        Samples.fillInput(a, t, x.segment(), n, rng.nextLong());
        double[] specials = Samples.specialValues(a, t);
        if (n >= 8L * specials.length) {
            for (int k = 0; k < specials.length; k++) {
                x.set(n - 1 - k, specials[k]);
            }
        }
        return x;
    }

    /** Upstream gradients ({@link Samples#fillGradient}: uniform in [-2, 2)). */
    public static Tensor gradient(DType t, long[] shape, SplittableRandom rng) {
        Tensor dy = Tensor.allocate(t, shape);
        Samples.fillGradient(t, dy.segment(), dy.elementCount(), rng.nextLong());
        return dy;
    }

    /** Random values in [lo, hi). */
    public static Tensor uniform(DType t, long[] shape, double lo, double hi, SplittableRandom rng) {
        Tensor x = Tensor.allocate(t, shape);
        for (long i = 0, n = x.elementCount(); i < n; i++) {
            x.set(i, rng.nextDouble(lo, hi));
        }
        return x;
    }

    private static List<VerifyCase> prelu(DType t, SplittableRandom rng) {
        List<VerifyCase> cases = new ArrayList<>();
        long[][] shapes = {{0}, {1}, {17}, {1025}, {4, 5}, {2, 3, 17}, {2, 33, 7}, {3, 16, 4, 5}, {2, 0, 3}};
        for (long[] shape : shapes) {
            long channels = shape.length >= 2 ? shape[1] : 1;
            cases.add(preluCase(t, shape, 1, rng));
            if (channels > 1) {
                cases.add(preluCase(t, shape, channels, rng));
            }
        }
        return cases;
    }

    private static VerifyCase preluCase(DType t, long[] shape, long weights, SplittableRandom rng) {
        Tensor x = inputs(OpArgs.of(Op.PRELU), t, shape, rng);
        // dL/dw sums x·dy over a channel: keep finite terms small enough that no sum overflows.
        for (long i = 0; i < x.elementCount(); i++) {
            double v = x.get(i);
            if (Double.isFinite(v) && Math.abs(v) > 1e6) {
                x.set(i, Math.copySign(1e6, v));
            }
        }
        Tensor w = Tensor.allocate(t, weights);
        Samples.fillPreluWeights(t, w.segment(), weights, rng.nextLong());
        String label = "shape " + x.shapeString() + ", " + weights + (weights == 1 ? " weight" : " weights");
        return new VerifyCase(label, OpArgs.of(Op.PRELU), x, w, gradient(t, shape, rng));
    }

    private static List<VerifyCase> softmax(Op op, DType t, SplittableRandom rng) {
        List<VerifyCase> cases = new ArrayList<>();
        for (boolean safe : new boolean[] {false, true}) {
            for (long len : ROW_LENGTHS) {
                long[] shape = {8, len};
                Tensor x = uniform(t, shape, -10, 10, rng);
                plantRows(x, len);
                OpArgs a = OpArgs.of(op).withSafe(safe);
                cases.add(new VerifyCase("rows of " + len + (safe ? ", safe" : ""), a, x, null,
                        gradient(t, shape, rng)));
            }
        }
        long[] cube = {3, 5, 7};
        for (int axis : new int[] {0, 1, 2, -1, -2, -3}) {
            cases.add(new VerifyCase("shape (3, 5, 7), axis " + axis, OpArgs.of(op).withAxis(axis),
                    uniform(t, cube, -10, 10, rng), null, gradient(t, cube, rng)));
        }
        cases.add(new VerifyCase("0-d", OpArgs.of(op), uniform(t, new long[0], -10, 10, rng), null,
                gradient(t, new long[0], rng)));
        cases.add(new VerifyCase("shape (0, 5)", OpArgs.of(op), Tensor.allocate(t, 0, 5), null, Tensor.allocate(t, 0, 5)));
        return cases;
    }

    /**
     * Rows 1-6 of an (8, len) input: shifted by 1e4, a NaN, a +inf, all -inf (masked), half -inf,
     * huge magnitudes. Rows 0 and 7 stay random.
     */
    private static void plantRows(Tensor x, long len) {
        for (long k = 0; k < len; k++) {
            x.set(len + k, x.get(len + k) + 1e4);
            x.set(4 * len + k, Double.NEGATIVE_INFINITY);
            if (k % 2 == 0) {
                x.set(5 * len + k, Double.NEGATIVE_INFINITY);
            }
            x.set(6 * len + k, x.get(6 * len + k) * 1e29);
        }
        x.set(2 * len + len / 2, Double.NaN);
        x.set(3 * len + len / 3, Double.POSITIVE_INFINITY);
    }

    /** "alpha=0.2", "beta=2, threshold=20": the parameters an op takes. */
    static String describe(OpArgs a) {
        List<String> parts = new ArrayList<>();
        for (Param p : a.op().params()) {
            switch (p) {
                case ALPHA -> parts.add("alpha=" + a.alpha());
                case BETA -> parts.add("beta=" + a.beta());
                case THRESHOLD -> parts.add("threshold=" + a.threshold());
                case AXIS -> parts.add("axis=" + a.axis());
                case SAFE -> parts.add("safe=" + a.safe());
                case WEIGHT -> { }
            }
        }
        return String.join(", ", parts);
    }
}
