package dev.soma;

import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The calls the determinism tests repeat: every op, forward and backward, float32 and float64, on
 * fixed data (random values plus the extremal ones) at sizes that split across threads: elementwise
 * ops over 100,003 elements, PReLU over about two million (its dw is a reduction, one weight and
 * one per channel, channels inner and last), softmax and log-softmax along rows of 200,003, along
 * an inner axis, and along many rows of 6.
 */
final class DeterminismCases {
    /** One case: a name that says what it is (also its file name) and the call. */
    record Case(String name, EngineCall call) {
    }

    private DeterminismCases() {
    }

    /** Every case, in a fixed order; {@code scale} below 1 shrinks the big shapes (emulators, slow devices). */
    static List<Case> all(boolean f64, double scale) {
        List<Case> out = new ArrayList<>();
        List<DType> types = f64 ? List.of(DType.F32, DType.F64) : List.of(DType.F32);
        long seed = 20_261_129;
        for (Op op : Op.values()) {
            for (DType t : types) {
                for (EngineCall.Entry entry : List.of(EngineCall.Entry.FORWARD, EngineCall.Entry.BACKWARD)) {
                    OpArgs args = OpArgs.of(op);
                    switch (op.family()) {
                        case ELEMENTWISE -> add(out, entry, args, t, seed++, 1, shape(scale, 100_003));
                        case CHANNEL_WEIGHTED -> {
                            long[] flat = shape(scale, 2_100_017);
                            long[] rows = {8, 64, Math.max(1, (long) (4099 * scale))};
                            long[] last = {Math.max(1, (long) (16_411 * scale)), 129};
                            add(out, entry, args, t, seed++, 1, flat);
                            add(out, entry, args, t, seed++, 64, rows);
                            add(out, entry, args, t, seed++, 129, last);
                            if (entry == EngineCall.Entry.BACKWARD) {
                                // The sample data holds NaNs in every channel, which makes every dw NaN: the
                                // reduction is only seen on finite data.
                                addFinite(out, args, t, seed++, 1, flat);
                                addFinite(out, args, t, seed++, 64, rows);
                                addFinite(out, args, t, seed++, 129, last);
                            }
                        }
                        case ROW_REDUCTION -> {
                            add(out, entry, args, t, seed++, 1, new long[] {3, Math.max(1, (long) (200_003 * scale))});
                            add(out, entry, args.withAxis(1), t, seed++, 1, new long[] {5, 1025, Math.max(1, (long) (67 * scale))});
                            // Short rows: a row sum near 1 makes log-softmax's result at the row maximum tiny,
                            // where any change in the summation order shows as many ulps.
                            add(out, entry, args, t, seed++, 1, new long[] {Math.max(1, (long) (8191 * scale)), 6});
                        }
                    }
                }
            }
        }
        return out;
    }

    private static long[] shape(double scale, long n) {
        return new long[] {Math.max(1, (long) (n * scale))};
    }

    private static void add(List<Case> out, EngineCall.Entry entry, OpArgs args, DType t, long seed, long weights,
                            long[] shape) {
        EngineCall c = EngineCall.of(entry, args, t, shape, seed, weights);
        String name = String.format(Locale.ROOT, "%s_%s_%s_%s%s%s", args.op().id(),
                entry == EngineCall.Entry.FORWARD ? "fwd" : "bwd", t.numpyName(),
                Tensor.shapeString(shape).replaceAll("[^0-9]+", "x").replaceAll("^x|x$", ""),
                args.op().family() == Family.ROW_REDUCTION ? "_axis" + args.axis() : "",
                args.op() == Op.PRELU ? "_w" + weights : "");
        out.add(new Case(name, c));
    }

    /** PReLU's backward on finite data (uniform x in [-4, 4), dy in [-1, 1)), named {@code prelu_bwd_finite_...}. */
    private static void addFinite(List<Case> out, OpArgs args, DType t, long seed, long weights, long[] shape) {
        EngineCall c = EngineCall.of(EngineCall.Entry.BACKWARD, args, t, shape, seed, weights);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (long i = 0; i < c.x().elementCount(); i++) {
            c.x().set(i, r.nextDouble(-4, 4));
            c.dy().set(i, r.nextDouble(-1, 1));
        }
        String name = String.format(Locale.ROOT, "prelu_bwd_finite_%s_%s_w%d", t.numpyName(),
                Tensor.shapeString(shape).replaceAll("[^0-9]+", "x").replaceAll("^x|x$", ""), weights);
        out.add(new Case(name, c));
    }

    /** Runs every case whose name matches {@code only} on {@code e} and writes each output's raw bytes to {@code dir/<case>.<k>.bin}. */
    static void writeAll(Engine e, List<Case> cases, Path dir, String only) throws IOException {
        Files.createDirectories(dir);
        for (Case c : cases) {
            if (!c.name().matches(only)) {
                continue;
            }
            List<Tensor> outs = c.call().run(e);
            for (int k = 0; k < outs.size(); k++) {
                Files.write(dir.resolve(c.name() + "." + k + ".bin"), outs.get(k).segment().toArray(
                        java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
    }
}
