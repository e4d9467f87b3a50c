package dev.soma.fallback.vector;

import java.util.Arrays;

/**
 * A running sum with pairwise error growth: values are merged like a binary counter, so each is
 * added to partial sums of similar size (O(log n) rounding error instead of O(n) for a serial sum),
 * in a fixed order, without storing the values.
 */
final class Pairwise {
    /**
     * One partial per bit of the count, grown on demand: PReLU's backward keeps one of these per
     * chunk and channel and most see a few hundred values, so 64 levels each (528 bytes) made a
     * float32 PReLU backward of 16384 elements over 64 channels allocate 70 KB per call.
     */
    private double[] level = new double[8];
    private long count;

    void add(double v) {
        long c = count++;
        int k = 0;
        // Every trailing 1 bit of the old count is a full partial at that level: fold it in.
        while ((c & 1) != 0) {
            v += level[k];
            c >>>= 1;
            k++;
        }
        if (k == level.length) {
            level = Arrays.copyOf(level, 64);
        }
        level[k] = v;
    }

    double sum() {
        double s = 0;
        long c = count;
        for (int k = 0; c != 0; k++, c >>>= 1) {
            if ((c & 1) != 0) {
                s += level[k];
            }
        }
        return s;
    }

    /** Pairwise sum of values in a fixed order. */
    static double of(double[] values) {
        Pairwise p = new Pairwise();
        for (double v : values) {
            p.add(v);
        }
        return p.sum();
    }
}
