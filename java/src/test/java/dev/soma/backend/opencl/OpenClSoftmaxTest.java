package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.fallback.scalar.ScalarKernels;
import java.lang.foreign.MemorySegment;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Softmax and log-softmax on the OpenCL device, forward and backward, against the scalar float64
 * reference ({@link ScalarKernels} on the widened inputs): every axis of a 3-D tensor, row lengths 1 to 100000, NaN / +inf / all -inf / masked
 * rows with and without safe mode, every kernel variant forced, poisoned outputs.
 */
class OpenClSoftmaxTest extends OpenClDeviceTest {
    @ParameterizedTest
    @EnumSource(SoftmaxVariant.class)
    void everyAxisOfA3dTensor(SoftmaxVariant v) {
        rt.setSoftmaxVariant(v);
        long[] shape = {3, 5, 7};
        for (int axis = 0; axis < 3; axis++) {
            OpLayout l = layout(shape, axis);
            for (DType t : DType.values()) {
                for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                    check(OpArgs.of(op).withAxis(axis), t, l, randomRows(l, 11 + axis), v + " axis " + axis);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(SoftmaxVariant.class)
    void rowLengths(SoftmaxVariant v) {
        rt.setSoftmaxVariant(v);
        for (long len : new long[] {1, 31, 33, 1024, 1025, 100000}) {
            long rows = len >= 100000 ? 2 : 3;
            OpLayout l = new OpLayout(rows, len, 1);
            for (DType t : DType.values()) {
                for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                    check(OpArgs.of(op), t, l, randomRows(l, len), v + " len " + len);
                }
            }
        }
        // A long strided row: the axis in the middle, 1025 long, inner 3.
        OpLayout l = new OpLayout(2, 1025, 3);
        check(OpArgs.of(Op.SOFTMAX).withAxis(1), DType.F32, l, randomRows(l, 5), v + " (2, 1025, 3) axis 1");
    }

    /** Rows with a NaN, a +inf, all -inf, some -inf (masked), and huge values, with and without safe mode. */
    @ParameterizedTest
    @EnumSource(SoftmaxVariant.class)
    void specialRows(SoftmaxVariant v) {
        rt.setSoftmaxVariant(v);
        long len = 40;
        for (long inner : new long[] {1, 3}) {
            OpLayout l = new OpLayout(6, len, inner);
            double[] x = randomRows(l, 3);
            for (long i = 0; i < inner; i++) {
                set(x, l, 0, i, 7, Double.NaN);
                set(x, l, 1, i, 30, Double.POSITIVE_INFINITY);
                for (long k = 0; k < len; k++) {
                    set(x, l, 2, i, k, Double.NEGATIVE_INFINITY);
                    if (k % 3 != 0) {
                        set(x, l, 3, i, k, Double.NEGATIVE_INFINITY);
                    }
                    set(x, l, 4, i, k, 3e38 * (k % 2 == 0 ? 1 : -1));
                }
                set(x, l, 5, i, 0, Double.NEGATIVE_INFINITY);
            }
            for (DType t : DType.values()) {
                for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                    for (boolean safe : new boolean[] {false, true}) {
                        check(OpArgs.of(op).withSafe(safe), t, l, x, v + " special rows inner " + inner);
                    }
                }
            }
        }
    }

    /** Softmax is shift invariant: x + 1e4 gives the same probabilities (float64, exact shifts). */
    @Test
    void shiftInvariance() {
        OpLayout l = new OpLayout(4, 1000, 1);
        double[] x = randomRows(l, 9);
        double[] shifted = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.rint(x[i] * 1024) / 1024;
            shifted[i] = x[i] + 1e4;
        }
        double[] a = run(OpArgs.of(Op.SOFTMAX), DType.F64, l, x, null);
        double[] b = run(OpArgs.of(Op.SOFTMAX), DType.F64, l, shifted, null);
        for (int i = 0; i < a.length; i++) {
            assertTrue(OpenClCompare.error(b[i], a[i]) < 1e-12, "element " + i + ": " + a[i] + " vs " + b[i]);
        }
    }

    /** Every work-group size forced on the group and split variants. */
    @Test
    void everyLocalSize() {
        OpLayout l = new OpLayout(3, 1100, 1);
        double[] x = randomRows(l, 21);
        for (SoftmaxVariant v : new SoftmaxVariant[] {SoftmaxVariant.GROUP, SoftmaxVariant.SPLIT}) {
            rt.setSoftmaxVariant(v);
            for (int local : new int[] {1, 2, 16, 64, 256, 1024}) {
                rt.setLocalSizeOverride(local);
                check(OpArgs.of(Op.LOG_SOFTMAX), DType.F32, l, x, v + " local " + local);
            }
        }
    }

    /** Strided rows covered by several launches. */
    @Test
    void stridedRowsInSeveralLaunches() {
        rt.setSoftmaxVariant(SoftmaxVariant.STRIDED);
        rt.setMaxWorkItemsPerLaunch(8);
        try {
            OpLayout l = new OpLayout(5, 9, 13);
            check(OpArgs.of(Op.SOFTMAX), DType.F32, l, randomRows(l, 2), "strided, 8 rows per launch");
        } finally {
            rt.setMaxWorkItemsPerLaunch(0);
        }
    }

    @Test
    void autoPicksAVariantByLayout() {
        assertEquals(SoftmaxVariant.STRIDED, rt.softmaxVariantFor(new OpLayout(100, 8, 1)));
        assertEquals(SoftmaxVariant.GROUP, rt.softmaxVariantFor(new OpLayout(100, 1024, 1)));
        assertEquals(SoftmaxVariant.SPLIT, rt.softmaxVariantFor(new OpLayout(1, 1 << 20, 1)));
    }

    static OpLayout layout(long[] shape, int axis) {
        long outer = 1;
        long inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= shape[i];
        }
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return new OpLayout(outer, shape[axis], inner);
    }

    static double[] randomRows(OpLayout l, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[(int) l.elementCount()];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble(-15, 15);
        }
        return x;
    }

    private static void set(double[] x, OpLayout l, long o, long i, long k, double v) {
        x[(int) ((o * l.mid() + k) * l.inner() + i)] = v;
    }

    private static void check(OpArgs args, DType t, OpLayout l, double[] x0, String what) {
        double[] x = OpenClTestDevice.asSeen(t, x0);
        SplittableRandom r = new SplittableRandom(x.length);
        double[] dy = new double[x.length];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = r.nextDouble(-1, 1);
        }
        dy = OpenClTestDevice.asSeen(t, dy);
        boolean log = args.op() == Op.LOG_SOFTMAX;
        double[] y = run(args, t, l, x, null);
        double[] dx = run(args, t, l, x, dy);
        OpenClCompare fwd = new OpenClCompare(what + " " + args + " " + t + " forward");
        OpenClCompare bwd = new OpenClCompare(what + " " + args + " " + t + " backward");
        double[] ry = new double[x.length];
        double[] rdx = new double[x.length];
        ScalarKernels ref = new ScalarKernels();
        ref.softmaxForward(args, DType.F64, MemorySegment.ofArray(x), MemorySegment.ofArray(ry), l.outer(), l.mid(), l.inner());
        ref.softmaxBackward(args, DType.F64, MemorySegment.ofArray(x), MemorySegment.ofArray(dy), MemorySegment.ofArray(rdx),
                l.outer(), l.mid(), l.inner());
        int len = (int) l.mid();
        for (long o = 0; o < l.outer(); o++) {
            for (long i = 0; i < l.inner(); i++) {
                double sum = 0;
                boolean finiteRow = true;
                for (int k = 0; k < len; k++) {
                    int idx = (int) ((o * len + k) * l.inner() + i);
                    fwd.check(t, idx, x[idx], y[idx], ry[idx]);
                    bwd.check(t, idx, x[idx], dx[idx], rdx[idx]);
                    sum += y[idx];
                    finiteRow &= Double.isFinite(ry[idx]) && Double.isFinite(x[idx]);
                }
                if (!log && finiteRow && Math.abs(sum - 1) > 1e-6 * Math.max(1, len / 1e5)) {
                    fwd.add("row (" + o + ", " + i + ") sums to " + sum);
                }
            }
        }
        fwd.assertOk();
        bwd.assertOk();
    }

    private static double[] run(OpArgs args, DType t, OpLayout l, double[] x, double[] dy) {
        int n = (int) l.elementCount();
        try (DeviceBuffer bx = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, x));
             DeviceBuffer bdy = dy == null ? null : OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, dy));
             DeviceBuffer out = OpenClTestDevice.poisoned(rt, t, n)) {
            if (dy == null) {
                rt.softmaxForward(args, t, bx, out, l);
            } else {
                rt.softmaxBackward(args, t, bx, bdy, out, l);
            }
            return OpenClTestDevice.download(rt, t, out, n);
        }
    }
}
