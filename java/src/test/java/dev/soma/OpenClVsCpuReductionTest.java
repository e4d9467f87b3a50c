package dev.soma;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.BackendKind;
import dev.soma.fallback.Accuracy;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.verify.RowScales;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Where GPU and CPU results differ, and by how much at most: the reductions. An elementwise op has
 * one formula per element, but softmax, log-softmax (a row's max and sum; backward a row's dot
 * product) and PReLU's dw (a sum over every element of a channel) are summed in a different order
 * on each backend: the CPU sums a row pairwise in vector lanes on one thread; OpenCL sums it in a
 * work-group tree, or for long rows in few rows in per-chunk partials (the split kernels). Both
 * are within the contract of the float64 reference, so they agree to within twice it; this test
 * measures how close they actually come over row lengths from 1 to about a million, on every
 * softmax kernel variant, and holds them to the bounds the README states:
 * softmax and log-softmax, forward and backward, within {@link #SOFTMAX_F32} (float32) and
 * {@link #SOFTMAX_F64} (float64) by the contract's measure (relative where the CPU result exceeds
 * 1e-5 in magnitude, absolute below; for results that are differences of larger terms, relative to
 * those terms, as {@code soma verify} measures them: {@link RowScales}; log-softmax forward absolute,
 * relative above 1); PReLU's dw within {@link #DW_F32} and {@link #DW_F64} of the
 * sum of the magnitudes of the terms summed (the measure that does not blow up when a sum cancels).
 */
class OpenClVsCpuReductionTest {
    static final double SOFTMAX_F32 = 3e-7;
    static final double SOFTMAX_F64 = 1e-15;
    static final double DW_F32 = 1e-7;
    static final double DW_F64 = 1e-15;

    /** One measured comparison, for the printed table. */
    private record Row(String what, DType t, long rows, long len, double worst, double bound) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-22s %-7s rows %6d x len %8d: max difference %.2e (bound %.0e)", what,
                    t.numpyName(), rows, len, worst, bound);
        }
    }

    @Test
    void reductionsStayWithinTheDocumentedBoundsOfTheCpu() {
        Engine gpu = EngineConcurrencyTest.openClOrNull();
        Assumptions.assumeTrue(gpu != null, "no OpenCL device (the reason is printed above)");
        List<Row> rows = new ArrayList<>();
        try (Engine cpu = Engine.create(BackendKind.CPU); Engine g = gpu) {
            List<DType> types = EngineConcurrencyTest.supportsF64(g) ? List.of(DType.F32, DType.F64) : List.of(DType.F32);
            long[][] shapes = {{64, 1}, {64, 7}, {64, 16}, {64, 33}, {64, 255}, {64, 1025}, {16, 4097}, {2, 8192},
                {8, 65_537}, {2, 65_537}, {1, 200_003}, {1, (1 << 20) + 3}};
            long seed = 5;
            for (DType t : types) {
                for (Op op : List.of(Op.SOFTMAX, Op.LOG_SOFTMAX)) {
                    OpArgs args = OpArgs.of(op);
                    for (long[] shape : shapes) {
                        softmax(cpu, g, args, t, shape, seed++, rows);
                    }
                    // An inner axis: the strided kernel on the GPU, columns on the CPU.
                    softmax(cpu, g, args.withAxis(1), t, new long[] {4, 1025, 33}, seed++, rows);
                }
                for (long inner : new long[] {1, 33, 1025, 65_537, 262_147}) {
                    dw(cpu, g, t, new long[] {4, 8, inner}, 8, seed++, rows);
                    dw(cpu, g, t, new long[] {4, 8, inner}, 1, seed++, rows);
                }
                dw(cpu, g, t, new long[] {16_411, 129}, 129, seed++, rows);
            }
        }
        rows.forEach(System.out::println);
        for (Row r : rows) {
            assertTrue(r.worst() <= r.bound(), "GPU and CPU differ by more than the documented bound: " + r);
        }
    }

    private static void softmax(Engine cpu, Engine gpu, OpArgs args, DType t, long[] shape, long seed, List<Row> rows) {
        Tensor x = uniform(t, shape, seed, 8);
        Tensor dy = uniform(t, shape, seed + 1, 1);
        double bound = t == DType.F32 ? SOFTMAX_F32 : SOFTMAX_F64;
        long len = shape[args.resolveAxis(shape.length)];
        long lines = x.elementCount() / len;
        // log-softmax forward: the difference in absolute terms (relative above 1). At a row's maximum the
        // result is -log(z), z the row's sum of exponentials: a one-ulp difference in z (another summation
        // order) is an absolute difference of one ulp, but relative to log(z) it grows without bound as a
        // dominant element takes z towards 1. Log-probabilities are used additively; absolute is their measure.
        double[] scale = args.op() == Op.LOG_SOFTMAX ? ones(x.elementCount()) : RowScales.of(args, x, null);
        rows.add(new Row(args.op().id() + " fwd" + axisNote(args), t, lines, len,
                worst(cpu.forward(args, x), gpu.forward(args, x), scale), bound));
        rows.add(new Row(args.op().id() + " bwd" + axisNote(args), t, lines, len,
                worst(cpu.backward(args, x, dy), gpu.backward(args, x, dy), RowScales.of(args, x, dy)), bound));
    }

    /**
     * Uniform values in [-range, range): every element of a row then matters to its sums (the test
     * data with rare huge values would make most long rows one-hot, equal on both backends).
     */
    private static Tensor uniform(DType t, long[] shape, long seed, double range) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = Tensor.allocate(t, shape);
        for (long i = 0; i < x.elementCount(); i++) {
            x.set(i, r.nextDouble(-range, range));
        }
        return x;
    }

    private static double[] ones(long n) {
        double[] a = new double[Math.toIntExact(n)];
        java.util.Arrays.fill(a, 1.0);
        return a;
    }

    private static String axisNote(OpArgs args) {
        return args.axis() == -1 ? "" : " axis " + args.axis();
    }

    /**
     * The contract's measure between two results, the CPU's taken as the reference, with the row
     * scales the verifier uses for results that are differences of larger terms (null: none).
     */
    static double worst(Tensor cpu, Tensor gpu, double[] scales) {
        double worst = 0;
        for (long i = 0; i < cpu.elementCount(); i++) {
            double e = scales == null ? Accuracy.error(cpu.get(i), gpu.get(i))
                    : Accuracy.errorScaled(cpu.get(i), gpu.get(i), scales[(int) i]);
            worst = Math.max(worst, e);
        }
        return worst;
    }

    /** PReLU's dw on finite data: the largest |gpu - cpu| over a channel's sum of |terms|. */
    private static void dw(Engine cpu, Engine gpu, DType t, long[] shape, long weights, long seed, List<Row> rows) {
        long n = EngineCall.count(shape);
        Tensor x = uniform(t, shape, seed, 4);
        Tensor dy = uniform(t, shape, seed + 1, 1);
        Tensor w = Tensor.wrap(Samples.preluWeights(t, weights, seed), t, weights);
        Tensor dwCpu = cpu.preluBackward(x, w, dy).dw();
        Tensor dwGpu = gpu.preluBackward(x, w, dy).dw();
        long channels = shape[1];
        long inner = n / (shape[0] * channels);
        double[] scale = new double[(int) weights];
        for (long i = 0; i < n; i++) {
            double xi = x.get(i);
            int c = weights == 1 ? 0 : (int) ((i / inner) % channels);
            scale[c] += xi > 0 ? 0 : Math.abs(xi * dy.get(i));
        }
        double worst = 0;
        for (int c = 0; c < weights; c++) {
            worst = Math.max(worst, Math.abs(dwGpu.get(c) - dwCpu.get(c)) / Math.max(scale[c], Double.MIN_NORMAL));
        }
        // Printed as "rows" = channels, "len" = the elements summed into each channel's dw.
        rows.add(new Row("prelu dw", t, weights, n / weights, worst, t == DType.F32 ? DW_F32 : DW_F64));
    }
}
