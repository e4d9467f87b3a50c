package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.Accuracy;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Softmax and log_softmax: identities, every axis, masked and poisoned rows, safe mode. */
class SoftmaxTest {
    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;
    private final ScalarKernels k = new ScalarKernels();

    private static double[] random(long n, long seed, double lo, double hi) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] x = new double[(int) n];
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextDouble(lo, hi);
        }
        return x;
    }

    private double[] forward(OpArgs a, DType t, double[] x, long outer, long len, long inner) {
        MemorySegment y = Samples.allocate(t, x.length);
        k.softmaxForward(a, t, Segments.of(t, x), y, outer, len, inner);
        assertEquals(-1, Samples.firstPoisoned(t, y, x.length), "every output written");
        return Segments.toArray(t, y, x.length);
    }

    private double[] backward(OpArgs a, DType t, double[] x, double[] dy, long outer, long len, long inner) {
        MemorySegment dx = Samples.allocate(t, x.length);
        k.softmaxBackward(a, t, Segments.of(t, x), Segments.of(t, dy), dx, outer, len, inner);
        assertEquals(-1, Samples.firstPoisoned(t, dx, x.length), "every output written");
        return Segments.toArray(t, dx, x.length);
    }

    @ParameterizedTest(name = "len {0} {1}")
    @CsvSource({"1,F32", "31,F32", "33,F32", "1024,F32", "1025,F32", "100000,F32",
        "1,F64", "31,F64", "33,F64", "1024,F64", "1025,F64", "100000,F64"})
    void rowsSumToOne(long len, DType t) {
        long outer = len >= 100000 ? 1 : 3;
        double[] x = random(outer * len, len, -20, 20);
        x[0] = Double.NEGATIVE_INFINITY; // a masked element (the last row keeps finite ones unless len = 1)
        if (len == 1) {
            x[0] = 3.0;
        }
        double[] y = forward(Op.SOFTMAX.defaults(), t, x, outer, len, 1);
        double[] ly = forward(Op.LOG_SOFTMAX.defaults(), t, x, outer, len, 1);
        for (int o = 0; o < outer; o++) {
            double s = 0;
            double ls = 0;
            for (int j = 0; j < len; j++) {
                s += y[(int) (o * len + j)];
                ls += Math.exp(ly[(int) (o * len + j)]);
            }
            assertEquals(1.0, s, 1e-6, "softmax row " + o + " sums to " + s);
            assertEquals(1.0, ls, 1e-6, "exp(log_softmax) row " + o + " sums to " + ls);
        }
        if (len > 1) {
            assertEquals(0.0, y[0]);
            assertEquals(Double.NEGATIVE_INFINITY, ly[0]);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"softmax,F32", "softmax,F64", "log_softmax,F32", "log_softmax,F64"})
    void shiftInvariance(String op, DType t) {
        OpArgs a = Op.byId(op).defaults();
        long len = 1025;
        // multiples of 2^-10 in [-8, 8]: x + 1e4 is exact even in float32 (24 significant bits)
        double[] x = random(2 * len, 5, -8, 8);
        double[] shifted = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.rint(x[i] * 1024) / 1024;
            shifted[i] = x[i] + 1e4;
        }
        double[] y = forward(a, t, x, 2, len, 1);
        double[] ys = forward(a, t, shifted, 2, len, 1);
        Accuracy.Report r = Accuracy.compare(t, y, ys);
        assertTrue(r.maxError() <= (t == DType.F32 ? 1e-7 : 1e-13), r.describe());
        double[] dy = random(x.length, 6, -2, 2);
        Accuracy.Report rb = Accuracy.compare(t, backward(a, t, x, dy, 2, len, 1), backward(a, t, shifted, dy, 2, len, 1));
        assertTrue(rb.maxError() <= (t == DType.F32 ? 1e-7 : 1e-13), rb.describe());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"softmax", "log_softmax"})
    void everyAxisOfA3dTensorMatchesAPlainRowByRowComputation(String op) {
        OpArgs a = Op.byId(op).defaults();
        int[] shape = {4, 5, 6};
        double[] x = random(4 * 5 * 6, 9, -6, 6);
        double[] dy = random(x.length, 10, -2, 2);
        for (int axis = 0; axis < 3; axis++) {
            long outer = 1;
            long inner = 1;
            for (int d = 0; d < axis; d++) {
                outer *= shape[d];
            }
            for (int d = axis + 1; d < 3; d++) {
                inner *= shape[d];
            }
            double[] y = forward(a, DType.F64, x, outer, shape[axis], inner);
            double[] dx = backward(a, DType.F64, x, dy, outer, shape[axis], inner);
            // the plain computation gathers each row by 3-d index
            for (int i0 = 0; i0 < shape[0]; i0++) {
                for (int i1 = 0; i1 < shape[1]; i1++) {
                    for (int i2 = 0; i2 < shape[2]; i2++) {
                        int[] at = {i0, i1, i2};
                        int len = shape[axis];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < len; j++) {
                            max = Math.max(max, x[flat(shape, at, axis, j)]);
                        }
                        double z = 0;
                        for (int j = 0; j < len; j++) {
                            z += Math.exp(x[flat(shape, at, axis, j)] - max);
                        }
                        int self = flat(shape, at, axis, at[axis]);
                        double p = Math.exp(x[self] - max) / z;
                        double want = op.equals("softmax") ? p : x[self] - max - Math.log(z);
                        assertEquals(want, y[self], 1e-14 * Math.max(1, Math.abs(want)), op + " axis " + axis);
                        double s = 0;
                        for (int j = 0; j < len; j++) {
                            int e = flat(shape, at, axis, j);
                            double pe = Math.exp(x[e] - max) / z;
                            s += op.equals("softmax") ? dy[e] * pe : dy[e];
                        }
                        double wantDx = op.equals("softmax") ? p * (dy[self] - s) : dy[self] - p * s;
                        assertEquals(wantDx, dx[self], 1e-13, op + " backward axis " + axis);
                    }
                }
            }
        }
    }

    private static int flat(int[] shape, int[] at, int axis, int j) {
        int[] i = at.clone();
        i[axis] = j;
        return (i[0] * shape[1] + i[1]) * shape[2] + i[2];
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void nanOrPlusInfinityPoisonsOnlyItsRow(DType t) {
        // rows of 4: [NaN row] [+inf row] [-inf and finite] [finite] [-inf and NaN] ; laid out with inner = 1
        double[] x = {1, NAN, 2, 3, 1, INF, 2, 3, -INF, 0, -INF, 1, 1, 2, 3, 4, -INF, -INF, NAN, -INF};
        double[] dy = random(x.length, 1, -2, 2);
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            for (boolean safe : new boolean[] {false, true}) {
                OpArgs a = op.defaults().withSafe(safe);
                double[] y = forward(a, t, x, 5, 4, 1);
                double[] dx = backward(a, t, x, dy, 5, 4, 1);
                for (int row : new int[] {0, 1, 4}) {
                    for (int j = 0; j < 4; j++) {
                        assertTrue(Double.isNaN(y[row * 4 + j]), op + " row " + row + " forward is NaN");
                        assertTrue(Double.isNaN(dx[row * 4 + j]), op + " row " + row + " backward is NaN");
                    }
                }
                // the masked row: -inf entries get 0 (softmax) or -inf (log_softmax), the rest share the mass
                double e = Math.exp(-1);
                double p0 = 1 / (1 + e);
                double p1 = e / (1 + e);
                if (op == Op.SOFTMAX) {
                    assertArray(t, new double[] {0, p1, 0, p0}, y, 8);
                } else {
                    assertArray(t, new double[] {-INF, Math.log(p1), -INF, Math.log(p0)}, y, 8);
                }
                for (int j = 12; j < 16; j++) {
                    assertTrue(Double.isFinite(y[j]) && Double.isFinite(dx[j]), "finite row stays finite");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void allMinusInfinityRowIsNanUnlessSafe(DType t) {
        double[] x = {-INF, -INF, -INF, 1, 2, 3};
        double[] dy = {0.5, -1, 2, 0.25, 1, -1};
        OpArgs soft = Op.SOFTMAX.defaults();
        OpArgs log = Op.LOG_SOFTMAX.defaults();
        for (OpArgs a : new OpArgs[] {soft, log}) {
            double[] y = forward(a, t, x, 2, 3, 1);
            double[] dx = backward(a, t, x, dy, 2, 3, 1);
            for (int j = 0; j < 3; j++) {
                assertTrue(Double.isNaN(y[j]) && Double.isNaN(dx[j]), a.op() + ": a fully masked row is NaN");
                assertTrue(Double.isFinite(y[3 + j]) && Double.isFinite(dx[3 + j]), "the next row is untouched");
            }
        }
        double[] safeY = forward(soft.withSafe(true), t, x, 2, 3, 1);
        double[] safeLogY = forward(log.withSafe(true), t, x, 2, 3, 1);
        double[] safeDx = backward(soft.withSafe(true), t, x, dy, 2, 3, 1);
        double[] safeLogDx = backward(log.withSafe(true), t, x, dy, 2, 3, 1);
        for (int j = 0; j < 3; j++) {
            assertEquals(0.0, safeY[j], "safe softmax: zeros");
            assertEquals(Double.NEGATIVE_INFINITY, safeLogY[j], "safe log_softmax: log of zero");
            assertEquals(0.0, safeDx[j], "safe softmax backward: no gradient");
            assertEquals(0.0, safeLogDx[j], "safe log_softmax backward: no gradient");
        }
        // safe mode changes nothing else
        assertArray(t, java.util.Arrays.copyOfRange(forward(soft, t, x, 2, 3, 1), 3, 6), safeY, 3);
    }

    @Test
    void hugeMagnitudesDoNotOverflow() {
        double[] x = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE, 0};
        double[] y = forward(Op.SOFTMAX.defaults(), DType.F32, x, 1, 4, 1);
        assertArray(DType.F32, new double[] {0.5, 0, 0.5, 0}, y, 0);
        double[] ly = forward(Op.LOG_SOFTMAX.defaults(), DType.F32, x, 1, 4, 1);
        assertEquals(-Math.log(2), ly[0], 1e-7);
        assertEquals((float) (-Float.MAX_VALUE - (double) Float.MAX_VALUE - Math.log(2)), ly[1]); // -inf in float
    }

    @Test
    void lengthOneRowsAndEmptyShapes() {
        double[] x = {-5, 0, 7e30, -INF};
        double[] y = forward(Op.SOFTMAX.defaults(), DType.F64, x, 4, 1, 1);
        assertArray(DType.F64, new double[] {1, 1, 1, NAN}, y, 0);
        double[] ly = forward(Op.LOG_SOFTMAX.defaults(), DType.F64, x, 4, 1, 1);
        assertArray(DType.F64, new double[] {0, 0, 0, NAN}, ly, 0);
        double[] dx = backward(Op.SOFTMAX.defaults(), DType.F64, x, new double[] {1, 2, 3, 4}, 4, 1, 1);
        assertArray(DType.F64, new double[] {0, 0, 0, NAN}, dx, 0);
        // zero-sized dimensions write nothing and do not fail
        MemorySegment empty = MemorySegment.ofArray(new double[0]);
        k.softmaxForward(Op.SOFTMAX.defaults(), DType.F64, empty, empty, 0, 5, 3);
        k.softmaxForward(Op.SOFTMAX.defaults(), DType.F64, empty, empty, 2, 0, 3);
        k.softmaxBackward(Op.SOFTMAX.defaults(), DType.F64, empty, empty, empty, 2, 5, 0);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void softmaxGradientRowsSumToZero(DType t) {
        long len = 1025;
        double[] x = random(3 * len, 21, -10, 10);
        double[] dy = random(x.length, 22, -2, 2);
        double[] dx = backward(Op.SOFTMAX.defaults(), t, x, dy, 3, len, 1);
        for (int o = 0; o < 3; o++) {
            double s = 0;
            for (int j = 0; j < len; j++) {
                s += dx[(int) (o * len + j)];
            }
            assertEquals(0.0, s, t == DType.F32 ? 1e-6 : 1e-13, "row " + o);
        }
    }

    private static void assertArray(DType t, double[] want, double[] got, int from) {
        double[] slice = java.util.Arrays.copyOfRange(got, from, from + want.length);
        Accuracy.Report r = Accuracy.compare(t, want, slice);
        assertTrue(r.ok(), r.describe());
    }
}
