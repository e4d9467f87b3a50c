package dev.soma.benchmark;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything one {@code soma bench} run produced: the machine, the backends, the validated results,
 * the cases that failed validation, and notes (skipped dtypes, missing copy baselines).
 *
 * @param host     the machine in words (CPU model, cores, JVM)
 * @param targets  each backend's id, description and whether it was timed kernel-only
 * @param results  validated, timed rows, in run order
 * @param failures one line per case that failed validation or could not run
 * @param notes    anything a reader should know about how the figures were obtained
 */
public record BenchReport(String host, List<TargetInfo> targets, List<BenchResult> results,
                          List<String> failures, List<String> notes) {

    public BenchReport {
        targets = List.copyOf(targets);
        results = List.copyOf(results);
        failures = List.copyOf(failures);
        notes = List.copyOf(notes);
    }

    /** One backend of the run. */
    public record TargetInfo(String id, String description, boolean kernelOnly) {
    }

    /**
     * A non-CPU backend's median against the CPU's on the same case.
     *
     * @param speedup CPU median / other median (above 1: the other backend is faster)
     */
    public record Speedup(BenchResult cpu, BenchResult other, double speedup) {
    }

    /** Every case that ran on the CPU and on another backend, with the other backend's speed-up. */
    public List<Speedup> speedups() {
        List<Speedup> out = new ArrayList<>();
        for (BenchResult r : results) {
            if (r.backend().equals("cpu")) {
                continue;
            }
            for (BenchResult c : results) {
                if (c.backend().equals("cpu") && c.benchCase().equals(r.benchCase())) {
                    out.add(new Speedup(c, r, c.medianSeconds() / r.medianSeconds()));
                }
            }
        }
        return out;
    }

    /** The CPU's row for the same case as {@code r}, or null. */
    public BenchResult cpuPeer(BenchResult r) {
        for (BenchResult c : results) {
            if (c.backend().equals("cpu") && c.benchCase().equals(r.benchCase()) && !Objects.equals(c, r)) {
                return c;
            }
        }
        return null;
    }
}
