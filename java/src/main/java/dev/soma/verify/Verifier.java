package dev.soma.verify;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Checks a backend against the scalar float64 reference: every op, forward and backward, in
 * float32 and float64, on the inputs of {@link VerifyCases} (fresh random data from a seed, plus
 * extremal values). Outputs are poisoned before each run so an element left unwritten fails.
 * Everything runs through {@link Engine}, so validation and dispatch are checked too.
 * Used by {@code soma verify}, the main job, and tests.
 */
public final class Verifier implements AutoCloseable {
    /** Written into outputs before each run; no case has it as a correct result. */
    static final double POISON = dev.soma.fallback.Samples.POISON;

    private final Engine reference;
    private final long seed;

    /** A verifier over the scalar reference kernels, drawing inputs from {@code seed}. */
    public Verifier(long seed) {
        this(Engine.over(new CpuBackend(CpuKernelsProvider.reference())), seed);
    }

    /** A verifier over a given reference engine (which it closes). */
    public Verifier(Engine reference, long seed) {
        this.reference = reference;
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    /** The reference engine, for callers that compare one result of their own. */
    public Engine reference() {
        return reference;
    }

    /**
     * Verifies {@code ops} in {@code dtypes} on {@code engine}; {@code onResult} sees each line as it
     * is finished (for progress output). Never throws for a failing backend: that is a FAIL line.
     */
    public List<VerifyResult> verify(Engine engine, String label, Collection<Op> ops, Collection<DType> dtypes,
                                     Consumer<VerifyResult> onResult) {
        List<VerifyResult> out = new ArrayList<>();
        for (DType t : dtypes) {
            for (Op op : ops) {
                // One stream per (op, dtype): the inputs do not depend on which backends or ops were asked for.
                SplittableRandom rng = new SplittableRandom(seed ^ (op.ordinal() * 0x9E3779B97F4A7C15L) ^ t.ordinal());
                for (VerifyResult r : verifyOne(engine, label, op, t, rng)) {
                    out.add(r);
                    onResult.accept(r);
                }
            }
        }
        return out;
    }

    private List<VerifyResult> verifyOne(Engine engine, String label, Op op, DType t, SplittableRandom rng) {
        double tol = ErrorMetric.tolerance(t);
        if (engine.backend() instanceof DeviceBackend db && !db.runtime().supports(t)) {
            String why = "skipped: " + engine.description() + " has no " + t.numpyName() + " support";
            return List.of(
                    new VerifyResult(label, op, "forward", t, 0, 0, Double.NaN, tol, why, VerifyResult.Status.SKIPPED),
                    new VerifyResult(label, op, "backward", t, 0, 0, Double.NaN, tol, why, VerifyResult.Status.SKIPPED));
        }
        List<VerifyCase> cases = VerifyCases.of(op, t, rng);
        Tally fwd = new Tally();
        Tally bwd = new Tally();
        for (VerifyCase c : cases) {
            fwd.run(c, () -> checkForward(engine, c));
            bwd.run(c, () -> checkBackward(engine, c));
        }
        return List.of(fwd.result(label, op, "forward", t, cases.size(), tol),
                bwd.result(label, op, "backward", t, cases.size(), tol));
    }

    /** The worst error of one comparison, how many elements it covered, and where the worst was. */
    public record Finding(double error, long elements, String where) {
    }

    private Finding checkForward(Engine engine, VerifyCase c) {
        Tensor y = poisoned(c.x());
        if (c.args().op() == Op.PRELU) {
            engine.prelu(c.x(), c.weight(), y);
        } else {
            engine.forward(c.args(), c.x(), y);
        }
        return compareForward(c.label(), c.args(), c.x(), c.weight(), y);
    }

    private Finding checkBackward(Engine engine, VerifyCase c) {
        Tensor dx = poisoned(c.x());
        Tensor dw = c.weight() == null ? null : poisoned(c.weight());
        if (c.args().op() == Op.PRELU) {
            engine.preluBackward(c.x(), c.weight(), c.dy(), dx, dw);
        } else {
            engine.backward(c.args(), c.x(), c.dy(), dx);
        }
        return compareBackward(c.label(), c.args(), c.x(), c.weight(), c.dy(), dx, dw);
    }

    /**
     * Compares a forward result {@code y} of any backend with the reference computed from the same
     * inputs widened to float64.
     *
     * @param label names the case in the returned description
     * @param weight PReLU's weight, else null
     */
    public Finding compareForward(String label, OpArgs args, Tensor x, Tensor weight, Tensor y) {
        try (Tensor x64 = widen(x); Tensor w64 = weight == null ? null : widen(weight);
             Tensor ref = scratch(x.shape())) {
            if (args.op() == Op.PRELU) {
                reference.prelu(x64, w64, ref);
            } else {
                reference.forward(args, x64, ref);
            }
            return finding(label, x, y, ref, "y", RowScales.of(args, x64, null));
        }
    }

    /** Compares a backward result ({@code dx}, and {@code dw} for PReLU, else null) with the reference. */
    public Finding compareBackward(String label, OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx,
                                   Tensor dw) {
        try (Tensor x64 = widen(x); Tensor dy64 = widen(dy); Tensor w64 = weight == null ? null : widen(weight);
             Tensor ref = scratch(x.shape())) {
            if (args.op() == Op.PRELU) {
                try (Tensor refDw = scratch(weight.shape())) {
                    reference.preluBackward(x64, w64, dy64, ref, refDw);
                    Finding fx = finding(label, x, dx, ref, "dx", null);
                    if (dw == null) {
                        return fx;
                    }
                    Finding fw = weightFinding(label, dw, refDw, x64, dy64);
                    return new Finding(Math.max(fx.error(), fw.error()), fx.elements() + fw.elements(),
                            fw.error() > fx.error() ? fw.where() : fx.where());
                }
            }
            reference.backward(args, x64, dy64, ref);
            return finding(label, x, dx, ref, "dx", RowScales.of(args, x64, dy64));
        }
    }

    /**
     * The reference forward result for {@code x} (float64, same shape; close it when done), for
     * callers that compare several backends' results with one reference run.
     */
    public Tensor referenceForward(OpArgs args, Tensor x, Tensor weight) {
        Tensor ref = scratch(x.shape());
        try (Tensor x64 = widen(x); Tensor w64 = weight == null ? null : widen(weight)) {
            if (args.op() == Op.PRELU) {
                reference.prelu(x64, w64, ref);
            } else {
                reference.forward(args, x64, ref);
            }
            return ref;
        } catch (RuntimeException | Error e) {
            ref.close();
            throw e;
        }
    }

    /** Compares a forward result {@code out} with a reference result from {@link #referenceForward}. */
    public static Finding compare(String label, OpArgs args, Tensor x, Tensor out, Tensor ref) {
        double[] scale = null;
        if (args.op() == Op.LOG_SOFTMAX) {
            try (Tensor x64 = widen(x)) {
                scale = RowScales.of(args, x64, null);
            }
        }
        return finding(label, x, out, ref, "y", scale);
    }

    private static Finding finding(String label, Tensor x, Tensor out, Tensor ref, String what, double[] scale) {
        ErrorMetric.Worst w = ErrorMetric.worst(out, ref, scale);
        String where = w.index() < 0 ? label : label + ": " + what + "[" + w.index() + "] = " + out.get(w.index())
                + ", reference " + ref.get(w.index()) + " at x = " + x.get(w.index());
        return new Finding(w.error(), out.elementCount(), where);
    }

    /**
     * dL/dw is a sum over a channel, so its error is measured against the sum of the magnitudes of
     * its terms (the scale a correctly rounded summation is accurate to), not against the sum itself,
     * which cancellation can make arbitrarily small.
     */
    private static Finding weightFinding(String label, Tensor dw, Tensor ref, Tensor x64, Tensor dy64) {
        long channels = dw.elementCount();
        double[] scale = new double[(int) channels];
        long[] shape = x64.shape();
        long inner = 1;
        for (int a = 2; a < shape.length; a++) {
            inner *= shape[a];
        }
        long perChannel = shape.length >= 2 ? shape[1] : 1;
        for (long i = 0; i < x64.elementCount(); i++) {
            long ch = channels == 1 ? 0 : (i / inner) % perChannel;
            double v = x64.get(i);
            if (!(v > 0)) {
                scale[(int) ch] += Math.abs(v * dy64.get(i));
            }
        }
        double max = 0;
        long at = -1;
        for (int k = 0; k < channels; k++) {
            double e = ErrorMetric.error(dw.get(k), ref.get(k), dw.dtype());
            if (e > 0 && Double.isFinite(e) && Double.isFinite(dw.get(k))) {
                double denom = Math.max(Math.abs(ref.get(k)), scale[k]);
                double d = Math.abs(dw.get(k) - ref.get(k));
                e = denom > dev.soma.fallback.Accuracy.RELATIVE_FLOOR ? d / denom : d;
            }
            if (e > max || (at < 0 && e > 0)) {
                max = e;
                at = k;
            }
        }
        String where = at < 0 ? label : label + ": dw[" + at + "] = " + dw.get(at) + ", reference " + ref.get(at);
        return new Finding(max, channels, where);
    }

    static Tensor poisoned(Tensor like) {
        Tensor t = like.newLike();
        t.fill(POISON);
        return t;
    }

    /** A float64 copy (the reference's input); float64 tensors are copied too, never shared. */
    static Tensor widen(Tensor t) {
        Tensor w = scratch(t.shape());
        for (long i = 0, n = t.elementCount(); i < n; i++) {
            w.set(i, t.get(i));
        }
        return w;
    }

    /** A float64 work tensor: on the heap when small, off-heap (freed on close) when large. */
    static Tensor scratch(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n > (1L << 22) ? Tensor.allocateNative(DType.F64, shape) : Tensor.allocate(DType.F64, shape);
    }

    /** The worst finding over a line's cases, and the first exception if a run threw. */
    private static final class Tally {
        double max;
        long elements;
        String where = "";
        String failure;

        void run(VerifyCase c, java.util.function.Supplier<Finding> check) {
            if (failure != null) {
                return;
            }
            try {
                Finding f = check.get();
                elements += f.elements();
                if (f.error() > max || Double.isNaN(f.error())) {
                    max = Double.isNaN(f.error()) ? Double.POSITIVE_INFINITY : Math.max(max, f.error());
                    where = f.where();
                }
            } catch (RuntimeException e) {
                failure = c.label() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }

        VerifyResult result(String label, Op op, String direction, DType t, int cases, double tol) {
            if (failure != null) {
                return new VerifyResult(label, op, direction, t, cases, elements, Double.NaN, tol, failure,
                        VerifyResult.Status.FAIL);
            }
            return new VerifyResult(label, op, direction, t, cases, elements, max, tol, where,
                    max <= tol ? VerifyResult.Status.OK : VerifyResult.Status.FAIL);
        }
    }

    @Override
    public void close() {
        reference.close();
    }
}
