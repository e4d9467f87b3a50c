package dev.soma.verify;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.util.SplittableRandom;

/**
 * Test inputs: random values over the ranges where the ops change shape, with the extremal values
 * of semantics.md planted at both ends of the array (so vector bodies and scalar tails both meet
 * them): NaN, ±inf, ±0, denormals, exp overflow and underflow edges, kinks, huge magnitudes.
 */
public final class SampleData {
    private SampleData() {
    }

    /** The extremal inputs for {@code t}. */
    public static double[] extremes(DType t) {
        double[] common = {
            Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
            1.0, -1.0, 0.5, -0.5, 3.0, -3.0, 6.0, 2.9999999, -2.9999999, 6.0000001,
            20.0, 20.000001, 19.99999, 1e-8, -1e-8, 1e-4, -1e-4, 1e-30, -1e-30,
            88.7, -88.7, 88.72283, 89.0, -87.33, -103.97, -104.0, 15.0, -15.0, 9.0, -9.0,
            1e4, -1e4, 1e30, -1e30, 3.4e38, -3.4e38,
        };
        double[] typed = t == DType.F32
                ? new double[] {Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
                    Float.MAX_VALUE, -Float.MAX_VALUE}
                : new double[] {Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, -Double.MIN_NORMAL,
                    709.78, -709.78, 710.0, -745.0, -746.0, 1e300, -1e300, Double.MAX_VALUE, -Double.MAX_VALUE};
        double[] all = new double[common.length + typed.length];
        System.arraycopy(common, 0, all, 0, common.length);
        System.arraycopy(typed, 0, all, common.length, typed.length);
        return all;
    }

    /** One random value: mostly in [-12, 12], sometimes of any magnitude from 1e-6 to 1e6. */
    public static double random(SplittableRandom rng) {
        if (rng.nextInt(8) == 0) {
            double mag = Math.pow(10, rng.nextDouble(-6, 6));
            return rng.nextBoolean() ? mag : -mag;
        }
        return rng.nextDouble(-12, 12);
    }

    /** A tensor of random values with the extremes planted at both ends (as many as fit). */
    public static Tensor inputs(DType t, long[] shape, SplittableRandom rng) {
        Tensor x = Tensor.allocate(t, shape);
        long n = x.elementCount();
        for (long i = 0; i < n; i++) {
            x.set(i, random(rng));
        }
        double[] ex = extremes(t);
        for (int k = 0; k < ex.length && k < n; k++) {
            x.set(k, ex[k]);
        }
        if (n >= 2L * ex.length) {
            for (int k = 0; k < ex.length; k++) {
                x.set(n - 1 - k, ex[k]);
            }
        }
        return x;
    }

    /** Random values in [lo, hi). */
    public static Tensor uniform(DType t, long[] shape, double lo, double hi, SplittableRandom rng) {
        Tensor x = Tensor.allocate(t, shape);
        for (long i = 0, n = x.elementCount(); i < n; i++) {
            x.set(i, rng.nextDouble(lo, hi));
        }
        return x;
    }
}
