package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class BenchSamplerTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(3.0, Sampler.median(new double[] {5, 1, 3}));
        assertEquals(2.5, Sampler.median(new double[] {4, 1, 3, 2}));
        assertEquals(7.0, Sampler.median(new double[] {7}));
        assertThrows(IllegalArgumentException.class, () -> Sampler.median(new double[0]));
    }

    @Test
    void medianIgnoresOneSlowOutlier() {
        assertEquals(1.0, Sampler.median(new double[] {1, 1, 1000, 1, 1}));
    }

    @Test
    void samplesBatchCheapCallsAndTimeEachOnce() {
        AtomicLong calls = new AtomicLong();
        // A call that spins ~20 us: a 2 ms sample should batch on the order of 100 of them.
        Workload w = k -> {
            for (int i = 0; i < k; i++) {
                long end = System.nanoTime() + 20_000;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                calls.incrementAndGet();
            }
        };
        Sampler.Timing t = new Sampler(new TimingPlan(1, 0, 0, 5, 2_000_000)).time(w);
        assertTrue(t.callsPerSample() >= 20 && t.callsPerSample() <= 101, "calls per sample " + t.callsPerSample());
        assertTrue(t.medianSeconds() >= 19e-6 && t.medianSeconds() < 1e-3, "median " + t.medianSeconds());
        assertEquals(5, t.samplesSeconds().length);
        assertTrue(calls.get() >= 6L * t.callsPerSample() / 2);
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void warmUpGoesOnWhileTheCodeGetsFaster() {
        AtomicLong calls = new AtomicLong();
        // Like a kernel the JIT compiles in tiers: 200 us per call, then 80 us, then 20 us.
        Workload w = k -> {
            for (int i = 0; i < k; i++) {
                long c = calls.incrementAndGet();
                spin(c < 20 ? 200_000 : c < 40 ? 80_000 : 20_000);
            }
        };
        // Each tier is a plateau, so "no longer improving" alone stops on the first; the first-use
        // warm-up time (here 200 ms, far past the slow tiers' 6 ms even on a loaded machine)
        // carries it to the last.
        Sampler.Timing t = new Sampler(new TimingPlan(1, 0, 200_000_000, 5, 1_000_000)).time(w, true);
        assertTrue(t.medianSeconds() < 60e-6, "timed before the code was warm: " + t.medianSeconds());
    }

    @Test
    void noWarmupMeansNone() {
        AtomicLong calls = new AtomicLong();
        Workload w = k -> calls.addAndGet(k);
        Sampler.Timing t = new Sampler(new TimingPlan(0, 0, 0, 3, 1)).time(w);
        assertEquals(1 + 3L * t.callsPerSample(), calls.get());
    }

    @Test
    void timingPlanRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new TimingPlan(-1, 0, 0, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new TimingPlan(0, 0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new TimingPlan(0, 0, 0, 1, 0));
    }
}
