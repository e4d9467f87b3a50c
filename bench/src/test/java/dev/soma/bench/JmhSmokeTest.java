package dev.soma.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.soma.Engine;
import dev.soma.backend.BackendUnavailableException;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * CI's smoke run of the JMH suite: one benchmark with one set of parameters through JMH's Runner
 * in this JVM (no fork: surefire's JVM already has the flags), no warmup, one short measurement.
 * It proves the generated harness is on the classpath, the setup's reference check passes and a
 * positive score comes back; it measures nothing worth keeping.
 */
class JmhSmokeTest {
    @BeforeAll
    static void allowConcurrentJmh() {
        // JMH refuses to start while another JMH run holds its lock file; a test must not depend on that.
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void multiTensorOnTheCpuGivesAPositiveScore() throws RunnerException {
        RunResult r = runOne(new OptionsBuilder()
                .include(MultiTensorBenchmark.class.getName() + ".many$")
                .param("backend", "cpu")
                .param("op", "relu")
                .param("direction", "forward")
                .param("tensors", "100"));
        assertTrue(r.getPrimaryResult().getScore() > 0, "score " + r.getPrimaryResult().getScore());
    }

    @Test
    void cpuOpWithItsPairedCopiesGivesAPositiveScore() throws RunnerException {
        // PReLU at the smallest size it runs at (one batch of 64 channels of 1024): the setup's
        // reference check, the windowed forward and the copies timed after each iteration.
        RunResult r = runOne(new OptionsBuilder()
                .include(CpuOpsBenchmark.class.getName() + ".run$")
                .param("op", "prelu")
                .param("direction", "forward")
                .param("dtype", "F32")
                .param("impl", "vector")
                .param("size", "65536"));
        assertTrue(r.getPrimaryResult().getScore() > 0, "score " + r.getPrimaryResult().getScore());
    }

    @Test
    void deviceKernelOnOpenClGivesAPositiveScore() throws RunnerException {
        requireOpenCl();
        RunResult r = runOne(new OptionsBuilder()
                .include(DeviceOpsBenchmark.class.getName() + ".run$")
                .param("backend", "opencl")
                .param("op", "gelu")
                .param("direction", "forward")
                .param("dtype", "F32")
                .param("size", "4096")
                .param("mode", "kernel"));
        assertTrue(r.getPrimaryResult().getScore() > 0, "score " + r.getPrimaryResult().getScore());
    }

    private static RunResult runOne(ChainedOptionsBuilder options) throws RunnerException {
        Collection<RunResult> results = new Runner(options
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(200))
                .timeUnit(TimeUnit.MICROSECONDS)
                .shouldFailOnError(true)
                .build()).run();
        assertEquals(1, results.size(), "one benchmark with one set of parameters should have run");
        return results.iterator().next();
    }

    private static void requireOpenCl() {
        try (Engine e = Engine.create("opencl")) {
            assumeTrue(e.description() != null);
        } catch (BackendUnavailableException e) {
            if (Boolean.getBoolean("soma.requireOpenCL")) {
                throw new AssertionError("soma.requireOpenCL is set but OpenCL is unavailable: " + e.getMessage(), e);
            }
            Assumptions.abort("no OpenCL device here: " + e.getMessage());
        }
    }
}
