package dev.soma.benchmark;

/**
 * How long to time each case.
 *
 * @param warmupSamples  untimed samples first (JIT compilation, caches, GPU clocks)
 * @param minWarmupNanos keep warming up at least this long, whatever {@code warmupSamples} says
 * @param firstUseWarmupNanos the least warm-up the first time a kernel runs: the JIT compiles it in
 *                       tiers, each a plateau that looks steady, so only time gets it to the last one
 * @param repeats        timed samples; the result is their median
 * @param sampleNanos    each sample runs enough calls to last about this long, so timer resolution
 *                       and call overhead do not dominate small sizes
 */
public record TimingPlan(int warmupSamples, long minWarmupNanos, long firstUseWarmupNanos, int repeats,
                         long sampleNanos) {

    public TimingPlan {
        if (warmupSamples < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmupSamples);
        }
        if (repeats < 1) {
            throw new IllegalArgumentException("--repeats must be >= 1, got " + repeats);
        }
        if (sampleNanos < 1 || minWarmupNanos < 0 || firstUseWarmupNanos < 0) {
            throw new IllegalArgumentException("sample and warm-up times must be positive");
        }
    }
}
