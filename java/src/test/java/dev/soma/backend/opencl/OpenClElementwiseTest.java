package dev.soma.backend.opencl;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.fallback.Samples;
import dev.soma.fallback.scalar.ElementMath;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every elementwise op, forward and backward, float32 and float64, on the OpenCL device against
 * the scalar float64 reference ({@link ElementMath}, what ScalarKernels computes), at sizes that hit every tail of the grid-stride launch, on random data
 * plus the extremal values of semantics.md, into poisoned outputs.
 *
 * <p>Denormal inputs: a device may flush them to zero (GPUs with FTZ, some CPU drivers). The
 * contract tolerates that: every op's result at a flushed denormal is within the absolute bound
 * of the result at the denormal itself, so the same check covers both behaviours.
 */
class OpenClElementwiseTest extends OpenClDeviceTest {
    static final int[] SIZES = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 4097, 1 << 20};

    static final double[] SPECIAL_F32 = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
        1e-40, -1e-40, Float.MIN_VALUE, -Float.MIN_NORMAL, 88.7, -88.7, 88.73, -103.9, 100, -100, 3.4e38, -3.4e38,
        1e30, -1e30, 6, 3, -3, 20, 20.000002, -1.5, -0.7518, -1.278, -1.19, 1e-7, -1e-7, 0.5, 1, -1, 10, -10, 30,
        -30, 1e4, -1e4, 5.9999995, -2.9999998};
    static final double[] SPECIAL_F64 = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
        Double.MIN_VALUE, -1e-310, 1e-310, 709.8, -709.8, 710, -745.2, 1e308, -1e308, Double.MAX_VALUE,
        -Double.MAX_VALUE, 100, -100, 6, 3, -3, 20, -1.5, -0.7518, -1.278, -1.19, 1e-12, -1e-12, 0.5, 1, -1, 10,
        -10, 30, -30, 1e4, -1e4, 1e154, -1e154};

    static Stream<Arguments> opsAndTypes() {
        List<Arguments> out = new ArrayList<>();
        for (Op op : Op.values()) {
            if (op.family() == Family.ELEMENTWISE) {
                for (DType t : DType.values()) {
                    out.add(Arguments.of(op, t));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("opsAndTypes")
    void everySizeForwardAndBackward(Op op, DType t) {
        for (int n : SIZES) {
            check(OpArgs.of(op), t, n, 1000L * n + op.ordinal());
        }
    }

    /** Parameters at their edges: alpha 0, 1 and negative; softplus beta and threshold away from the defaults. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("parameterEdges")
    void parametersAtTheirEdges(OpArgs args) {
        for (DType t : DType.values()) {
            for (int n : new int[] {33, 4097}) {
                check(args, t, n, 77L * n);
            }
        }
    }

    static Stream<OpArgs> parameterEdges() {
        return Stream.of(
                OpArgs.of(Op.LEAKY_RELU).withAlpha(0), OpArgs.of(Op.LEAKY_RELU).withAlpha(1),
                OpArgs.of(Op.LEAKY_RELU).withAlpha(-0.5), OpArgs.of(Op.ELU).withAlpha(0),
                OpArgs.of(Op.ELU).withAlpha(0.3), OpArgs.of(Op.ELU).withAlpha(-1), OpArgs.of(Op.CELU).withAlpha(0.3),
                OpArgs.of(Op.CELU).withAlpha(2), OpArgs.of(Op.CELU).withAlpha(-0.7),
                OpArgs.of(Op.SOFTPLUS).withBeta(0.3), OpArgs.of(Op.SOFTPLUS).withBeta(2).withThreshold(5),
                OpArgs.of(Op.SOFTPLUS).withThreshold(-1));
    }

    /** ELU and CELU just below zero, where expm1 matters. */
    @Test
    void eluNearZeroFromBelow() {
        double[] x = new double[200];
        for (int i = 0; i < x.length; i++) {
            x[i] = -Math.pow(10, -1 - i * 0.05);
        }
        for (DType t : DType.values()) {
            for (Op op : new Op[] {Op.ELU, Op.CELU, Op.SELU}) {
                run(OpArgs.of(op), t, x, derivs(x.length, 5), op + " near 0-");
            }
        }
    }

    /** Each work-group size, forced, on sizes around it: the grid-stride tails. */
    @Test
    void everyLocalSize() {
        try {
            for (int local : new int[] {1, 2, 8, 32, 64, 128, 256, 512, 1024}) {
                rt.setLocalSizeOverride(local);
                for (int n : new int[] {1, local - 1, local, local + 1, 3 * local + 5}) {
                    if (n > 0) {
                        check(OpArgs.of(Op.GELU), DType.F32, n, local);
                        check(OpArgs.of(Op.HARDSWISH), DType.F64, n, local + 1);
                    }
                }
            }
        } finally {
            rt.setLocalSizeOverride(0);
        }
    }

    /** A count covered by several launches (each with its own first element), as huge tensors are. */
    @Test
    void countsCoveredInSeveralLaunches() {
        try {
            rt.setMaxWorkItemsPerLaunch(64);
            check(OpArgs.of(Op.GELU), DType.F32, 1025, 3);
            check(OpArgs.of(Op.SILU), DType.F64, 4097, 4);
        } finally {
            rt.setMaxWorkItemsPerLaunch(0);
        }
    }

    /**
     * Inputs: the extremal values first (ours and the shared {@link Samples#specialValues}, rotated by
     * size so small sizes see different ones), then random.
     */
    static double[] inputs(OpArgs args, DType t, int n, long seed) {
        double[] ours = t == DType.F32 ? SPECIAL_F32 : SPECIAL_F64;
        double[] shared = Samples.specialValues(args, t);
        double[] special = new double[ours.length + shared.length];
        System.arraycopy(ours, 0, special, 0, ours.length);
        System.arraycopy(shared, 0, special, ours.length, shared.length);
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        int rot = (int) (seed % special.length);
        for (int i = 0; i < n; i++) {
            if (i < special.length) {
                x[i] = special[(i + rot) % special.length];
                continue;
            }
            double u = r.nextDouble();
            if (u < 0.7) {
                x[i] = r.nextDouble(-12, 12);
            } else if (u < 0.9) {
                x[i] = Math.copySign(Math.pow(10, r.nextDouble(-8, 6)), r.nextDouble() - 0.5);
            } else {
                x[i] = r.nextDouble(-100, 100);
            }
        }
        return OpenClTestDevice.asSeen(t, x);
    }

    static double[] derivs(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5eed);
        double[] dy = new double[n];
        for (int i = 0; i < n; i++) {
            dy[i] = r.nextDouble(-2, 2);
        }
        if (n > 5) {
            dy[5] = Double.NaN; // a NaN gradient must come out NaN too
        }
        return dy;
    }

    private static void check(OpArgs args, DType t, int n, long seed) {
        double[] x = inputs(args, t, n, seed);
        double[] dy = OpenClTestDevice.asSeen(t, derivs(n, seed));
        run(args, t, x, dy, args.op() + " " + t + " n=" + n);
    }

    private static void run(OpArgs args, DType t, double[] x, double[] dy, String what) {
        int n = x.length;
        double[] y;
        double[] dx;
        try (DeviceBuffer bx = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, x));
             DeviceBuffer bdy = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, dy));
             DeviceBuffer by = OpenClTestDevice.poisoned(rt, t, n);
             DeviceBuffer bdx = OpenClTestDevice.poisoned(rt, t, n)) {
            rt.forward(args, t, bx, by, n);
            rt.backward(args, t, bx, bdy, bdx, n);
            y = OpenClTestDevice.download(rt, t, by, n);
            dx = OpenClTestDevice.download(rt, t, bdx, n);
        }
        // A float32 op computes with float32 parameters (the kernels take float alpha, beta,
        // threshold), so its reference does too: alpha = -0.7 is -0.699999988 in float, and at
        // x/alpha = 76 that alone moves celu by 1.3e-6.
        OpArgs refArgs = t == DType.F32 ? new OpArgs(args.op(), (float) args.alpha(), (float) args.beta(),
                (float) args.threshold(), args.axis(), args.safe()) : args;
        OpenClCompare fwd = new OpenClCompare(what + " forward (" + args + ")");
        OpenClCompare bwd = new OpenClCompare(what + " backward (" + args + ")");
        for (int i = 0; i < n; i++) {
            fwd.check(t, i, x[i], y[i], ElementMath.forward(refArgs, x[i]));
            bwd.check(t, i, x[i], dx[i], ElementMath.backward(refArgs, x[i], dy[i]));
        }
        fwd.assertOk();
        bwd.assertOk();
    }
}
