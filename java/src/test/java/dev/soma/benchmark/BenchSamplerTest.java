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
        Sampler.Timing t = new Sampler(new TimingPlan(1, 0, 5, 2_000_000)).time(w);
        assertTrue(t.callsPerSample() >= 20 && t.callsPerSample() <= 101, "calls per sample " + t.callsPerSample());
        assertTrue(t.medianSeconds() >= 19e-6 && t.medianSeconds() < 1e-3, "median " + t.medianSeconds());
        assertEquals(5, t.samplesSeconds().length);
        assertTrue(calls.get() >= 6L * t.callsPerSample() / 2);
    }

    @Test
    void timingPlanRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new TimingPlan(-1, 0, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new TimingPlan(0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new TimingPlan(0, 0, 1, 0));
    }
}
