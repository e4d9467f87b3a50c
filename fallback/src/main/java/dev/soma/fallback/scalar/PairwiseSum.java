package dev.soma.fallback.scalar;

/**
 * A streaming pairwise (binary tree) sum in double: values arrive one at a time and are combined
 * as the leaves of a balanced binary tree, like the carries of a binary counter, so the rounding
 * error grows with log2(n) instead of n and no array of terms is ever stored. Not thread-safe:
 * one instance per reduction.
 */
final class PairwiseSum {
    /** levels[k] holds the sum of a full subtree of 2^k leaves when bit k of count is set. */
    private final double[] levels = new double[64];
    private long count;

    void reset() {
        count = 0;
    }

    void add(double v) {
        double carry = v;
        int k = 0;
        for (long c = count; (c & 1) != 0; c >>>= 1, k++) {
            carry = levels[k] + carry;
        }
        levels[k] = carry;
        count++;
    }

    /** The sum of every value added since the last reset (0 for none), smallest subtrees first. */
    double sum() {
        double s = 0.0;
        long c = count;
        for (int k = 0; c != 0; c >>>= 1, k++) {
            if ((c & 1) != 0) {
                s += levels[k];
            }
        }
        return s;
    }
}
