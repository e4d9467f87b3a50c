package dev.soma;

import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One call of the public API on fixed inputs: which entry point (host or device tensors, fresh or
 * in-place output, synchronous or asynchronous, one tensor or many), the op with its parameters,
 * and the data. {@link #run} makes the call on an engine and returns every output as a host
 * tensor, so two runs of the same call can be compared bit for bit. Inputs are never written:
 * in-place variants run on a private copy.
 */
record EngineCall(Entry entry, OpArgs args, DType dtype, long[] shape, Tensor x, Tensor dy, Tensor weight,
                  List<Tensor> many) {

    /** The entry points of the API a call goes through. */
    enum Entry {
        /** {@code forward(args, x)} or {@code prelu(x, w)} into a new tensor. */
        FORWARD,
        /** Forward into a poisoned output the caller passes. */
        FORWARD_INTO,
        /** Forward in place ({@code out == x}, on a copy of x). */
        FORWARD_IN_PLACE,
        /** {@code backward(args, x, dy)} or {@code preluBackward(x, w, dy)} into new tensors. */
        BACKWARD,
        /** Backward in place: {@code dx} aliases (a copy of) {@code dy}. */
        BACKWARD_IN_PLACE,
        /** upload, forward on device tensors, download. */
        DEVICE_FORWARD,
        /** upload x and dy, backward on device tensors, download. */
        DEVICE_BACKWARD,
        /** upload, {@code forwardAsync}, {@code downloadAsync}. */
        DEVICE_FORWARD_ASYNC,
        /** {@code forwardMany} over several small tensors. */
        FORWARD_MANY,
        /** {@code backwardMany} over several small tensors (dy = the tensors themselves, scaled). */
        BACKWARD_MANY
    }

    /** Runs the call; every output, as host tensors (PReLU's backward: dx then dw). */
    List<Tensor> run(Engine e) {
        boolean prelu = args.op() == Op.PRELU;
        return switch (entry) {
            case FORWARD -> List.of(prelu ? e.prelu(x, weight) : e.forward(args, x));
            case FORWARD_INTO -> {
                Tensor out = poisoned(x);
                Tensor r = prelu ? e.prelu(x, weight, out) : e.forward(args, x, out);
                yield List.of(r);
            }
            case FORWARD_IN_PLACE -> {
                Tensor io = x.copy();
                Tensor r = prelu ? e.prelu(io, weight, io) : e.forward(args, io, io);
                yield List.of(r);
            }
            case BACKWARD -> {
                if (prelu) {
                    PreluGradients g = e.preluBackward(x, weight, dy);
                    yield List.of(g.dx(), g.dw());
                }
                yield List.of(e.backward(args, x, dy));
            }
            case BACKWARD_IN_PLACE -> {
                Tensor io = dy.copy();
                if (prelu) {
                    Tensor dw = poisoned(weight);
                    PreluGradients g = e.preluBackward(x, weight, io, io, dw);
                    yield List.of(g.dx(), g.dw());
                }
                yield List.of(e.backward(args, x, io, io));
            }
            case DEVICE_FORWARD -> {
                try (DeviceTensor dx = e.upload(x); DeviceTensor dz = e.forward(args, dx)) {
                    yield List.of(e.download(dz));
                }
            }
            case DEVICE_BACKWARD -> {
                try (DeviceTensor dx = e.upload(x); DeviceTensor ddy = e.upload(dy);
                     DeviceTensor g = e.backward(args, dx, ddy)) {
                    yield List.of(e.download(g));
                }
            }
            case DEVICE_FORWARD_ASYNC -> {
                try (DeviceTensor dx = e.upload(x); DeviceTensor dz = e.forwardAsync(args, dx).join()) {
                    yield List.of(e.downloadAsync(dz).join());
                }
            }
            case FORWARD_MANY -> e.forwardMany(args, many);
            case BACKWARD_MANY -> e.backwardMany(args, many, many);
        };
    }

    /** A short description for failure messages. */
    @Override
    public String toString() {
        return entry + " " + args + " " + dtype.numpyName() + " " + Tensor.shapeString(shape)
                + (weight == null ? "" : " weights " + weight.elementCount())
                + (many == null ? "" : " x" + many.size() + " tensors");
    }

    private static Tensor poisoned(Tensor like) {
        Tensor t = like.newLike();
        t.fill(Samples.POISON);
        return t;
    }

    // ---- generation ------------------------------------------------------------------------------

    /**
     * A random call (fixed by {@code r}'s seed): any op, forward or backward, any entry point that
     * takes it, float32 or (when {@code f64}) float64, rank 1 to 4 with dimensions that leave vector
     * tails, and with probability {@code bigShare} a tensor of about a million elements.
     */
    static EngineCall random(SplittableRandom r, boolean f64, double bigShare) {
        Op op = Op.values()[r.nextInt(Op.values().length)];
        DType t = f64 && r.nextBoolean() ? DType.F64 : DType.F32;
        long[] shape = randomShape(r, r.nextDouble() < bigShare);
        OpArgs args = randomArgs(r, op, shape.length);
        List<Entry> entries = new ArrayList<>(List.of(Entry.FORWARD, Entry.FORWARD_INTO, Entry.FORWARD_IN_PLACE,
                Entry.BACKWARD, Entry.BACKWARD_IN_PLACE));
        if (op != Op.PRELU) {
            entries.addAll(List.of(Entry.DEVICE_FORWARD, Entry.DEVICE_BACKWARD, Entry.DEVICE_FORWARD_ASYNC));
        }
        if (op.family() == Family.ELEMENTWISE) {
            entries.addAll(List.of(Entry.FORWARD_MANY, Entry.BACKWARD_MANY));
        }
        Entry entry = entries.get(r.nextInt(entries.size()));
        return of(entry, args, t, shape, r.nextLong());
    }

    /** The call {@code entry} of {@code args} on fresh data of {@code shape} (seeded; PReLU: 1 or C weights at random). */
    static EngineCall of(Entry entry, OpArgs args, DType t, long[] shape, long seed) {
        return of(entry, args, t, shape, seed, shape.length >= 2 && (seed & 1) == 0 ? shape[1] : 1);
    }

    /** As {@link #of(Entry, OpArgs, DType, long[], long)}, with {@code weights} PReLU weights (1 or C). */
    static EngineCall of(Entry entry, OpArgs args, DType t, long[] shape, long seed, long weights) {
        long n = count(shape);
        Tensor x = Tensor.wrap(Samples.input(args, t, n, seed), t, shape);
        Tensor dy = Tensor.wrap(Samples.gradient(t, n, seed + 1), t, shape);
        Tensor w = null;
        if (args.op() == Op.PRELU) {
            w = Tensor.wrap(Samples.preluWeights(t, weights, seed + 2), t, weights);
        }
        List<Tensor> many = null;
        if (entry == Entry.FORWARD_MANY || entry == Entry.BACKWARD_MANY) {
            SplittableRandom r = new SplittableRandom(seed);
            many = new ArrayList<>();
            int k = 2 + r.nextInt(12);
            for (int i = 0; i < k; i++) {
                long m = r.nextLong(0, 5000);
                many.add(Tensor.wrap(Samples.input(args, t, m, seed + 3 + i), t, m));
            }
        }
        return new EngineCall(entry, args, t, shape, x, dy, w, many);
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Rank 1 to 4; dimensions chosen so counts are rarely multiples of a vector; big: about 2^20 elements. */
    static long[] randomShape(SplittableRandom r, boolean big) {
        int rank = 1 + r.nextInt(4);
        long target = big ? (1L << 20) + r.nextInt(1, 200) : r.nextLong(1, 6000);
        long[] shape = new long[rank];
        long left = target;
        for (int i = 0; i < rank - 1; i++) {
            // Small leading dimensions (batch, channels), leaving the bulk to the last.
            long d = 1 + r.nextLong(Math.max(1, Math.min(left, 40)));
            shape[i] = d;
            left = Math.max(1, left / d);
        }
        shape[rank - 1] = Math.max(1, left + (big ? 0 : r.nextInt(3)));
        return shape;
    }

    static OpArgs randomArgs(SplittableRandom r, Op op, int rank) {
        OpArgs a = OpArgs.of(op);
        return switch (op) {
            case LEAKY_RELU -> a.withAlpha(r.nextBoolean() ? 0.01 : r.nextDouble(-1, 1));
            case ELU -> a.withAlpha(r.nextBoolean() ? 1.0 : r.nextDouble(0, 3));
            case CELU -> a.withAlpha(r.nextBoolean() ? 1.0 : r.nextDouble(0.1, 3));
            case SOFTPLUS -> r.nextBoolean() ? a : a.withBeta(r.nextDouble(0.5, 4)).withThreshold(r.nextDouble(5, 30));
            case SOFTMAX, LOG_SOFTMAX -> a.withAxis(r.nextInt(-rank, rank)).withSafe(r.nextBoolean());
            default -> a;
        };
    }
}
