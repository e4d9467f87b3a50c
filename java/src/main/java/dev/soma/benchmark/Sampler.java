package dev.soma.benchmark;

import java.util.Arrays;

/**
 * Times a {@link Workload}: warm-up, then calibrated samples, then the median. Warm-up runs at least
 * the planned samples and time (longer the first time a kernel runs), then goes on while the code
 * is still getting faster or the JIT is still compiling (Vector API code is orders of magnitude
 * slower before C2 has compiled it), up to a cap. A sample runs the
 * workload {@code k} times in one go, with {@code k} chosen so the sample lasts about
 * {@link TimingPlan#sampleNanos()}; its time divided by {@code k} is one observation of the
 * per-call time. The median of the observations is robust to the odd preempted sample, which
 * matters on a shared machine.
 */
public final class Sampler {
    /** Upper bound on calls per sample, so a near-free call cannot run away. */
    static final int MAX_CALLS = 1 << 20;
    /** Warm-up is steady once a sample is no longer this factor faster than the fastest before it. */
    static final double STEADY_RATIO = 1.05;
    /** Warm-up stops after this many sample lengths even if it never looks steady (a noisy machine). */
    static final int MAX_WARMUP_SAMPLES = 100;
    /** The same cap the first time a kernel runs, when the JIT has everything still to compile. */
    static final int MAX_FIRST_USE_WARMUP_SAMPLES = 1000;
    /**
     * The JIT counts as quiet after this many sample lengths, and at least
     * {@link #JIT_QUIET_MIN_NANOS}, without a finished compilation.
     */
    static final int JIT_QUIET_SAMPLES = 20;
    static final long JIT_QUIET_MIN_NANOS = 250_000_000L;

    private final TimingPlan plan;

    public Sampler(TimingPlan plan) {
        this.plan = plan;
    }

    /** The outcome: median seconds per call and how many calls each timed sample made. */
    public record Timing(double medianSeconds, int callsPerSample, double[] samplesSeconds) {
    }

    /** Times a workload whose code has run before (warm-up per {@link TimingPlan#minWarmupNanos()}). */
    public Timing time(Workload w) {
        return time(w, false);
    }

    /**
     * @param firstUse true the first time this code runs in this JVM: warm-up then lasts at least
     *                 {@link TimingPlan#firstUseWarmupNanos()}
     */
    public Timing time(Workload w, boolean firstUse) {
        int calls = callsFor(timeOnce(w, 1));
        long warmStart = System.nanoTime();
        long minWarmup = firstUse ? Math.max(plan.minWarmupNanos(), plan.firstUseWarmupNanos()) : plan.minWarmupNanos();
        long maxWarmup = Math.max(minWarmup, (firstUse ? MAX_FIRST_USE_WARMUP_SAMPLES : MAX_WARMUP_SAMPLES)
                * plan.sampleNanos());
        long quietWindow = Math.max(JIT_QUIET_MIN_NANOS, JIT_QUIET_SAMPLES * plan.sampleNanos());
        double best = Double.POSITIVE_INFINITY;
        boolean improving = true;
        boolean noWarmup = plan.warmupSamples() == 0 && minWarmup == 0;
        for (int i = 0; !noWarmup; i++) {
            long now = System.nanoTime();
            long elapsed = now - warmStart;
            boolean minimumDone = i >= plan.warmupSamples() && elapsed >= minWarmup;
            // Warm means: no longer getting faster, and the JIT has compiled nothing for a while (it
            // compiles a kernel in tiers, each a plateau that looks steady on its own). Or the cap.
            boolean jitQuiet = JitActivity.quietNanos() >= quietWindow;
            if (minimumDone && (!improving && jitQuiet || elapsed >= maxWarmup)) {
                break;
            }
            double last = (double) timeOnce(w, calls) / calls;
            improving = last * STEADY_RATIO < best;
            best = Math.min(best, last);
            // Warm code is faster than cold: recalibrate so samples keep their intended length.
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
