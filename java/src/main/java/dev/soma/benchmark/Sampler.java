package dev.soma.benchmark;

import java.util.Arrays;

/**
 * Times a {@link Workload}: warm-up, then calibrated samples, then the median. A sample runs the
 * workload {@code k} times in one go, with {@code k} chosen so the sample lasts about
 * {@link TimingPlan#sampleNanos()}; its time divided by {@code k} is one observation of the
 * per-call time. The median of the observations is robust to the odd preempted sample, which
 * matters on a shared machine.
 */
public final class Sampler {
    /** Upper bound on calls per sample, so a near-free call cannot run away. */
    static final int MAX_CALLS = 1 << 20;

    private final TimingPlan plan;

    public Sampler(TimingPlan plan) {
        this.plan = plan;
    }

    /** The outcome: median seconds per call and how many calls each timed sample made. */
    public record Timing(double medianSeconds, int callsPerSample, double[] samplesSeconds) {
    }

    public Timing time(Workload w) {
        int calls = callsFor(timeOnce(w, 1));
        long warmStart = System.nanoTime();
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < plan.warmupSamples() || System.nanoTime() - warmStart < plan.minWarmupNanos(); i++) {
            long t = timeOnce(w, calls);
            best = Math.min(best, (double) t / calls);
        }
        if (best < Double.POSITIVE_INFINITY) {
            // Warm code is faster than the first call: recalibrate so samples keep their intended length.
            calls = callsFor(Math.max(1, (long) best));
        }
        double[] perCall = new double[plan.repeats()];
        for (int i = 0; i < perCall.length; i++) {
            perCall[i] = timeOnce(w, calls) / 1e9 / calls;
        }
        return new Timing(median(perCall), calls, perCall);
    }

    private int callsFor(long nanosPerCall) {
        long k = (plan.sampleNanos() + nanosPerCall - 1) / Math.max(1, nanosPerCall);
        return (int) Math.max(1, Math.min(MAX_CALLS, k));
    }

    private static long timeOnce(Workload w, int calls) {
        long t0 = System.nanoTime();
        w.run(calls);
        return Math.max(1, System.nanoTime() - t0);
    }

    /** The median (mean of the middle two for an even count); the input is not modified. */
    public static double median(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("median of no values");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
