package dev.soma.benchmark;

import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernels;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs a {@link BenchConfig}: for each case, makes the inputs and the float64 reference answer once,
 * then on each backend validates the output (poisoned first) and only then times it, and measures
 * the backend's copy bandwidth for the same traffic in the same run. A case that fails validation
 * is reported and never timed.
 */
public final class BenchRunner {
    private final BenchConfig config;
    private final CpuKernels reference;
    private final PrintWriter progress;

    /**
     * @param reference the scalar float64 kernels every output is checked against
     * @param progress  where to print one line per case as it finishes, or null for silence
     */
    public BenchRunner(BenchConfig config, CpuKernels reference, PrintWriter progress) {
        this.config = config;
        this.reference = reference;
        this.progress = progress;
    }

    /** Opens the configured backends, runs every case, closes them. */
    public BenchReport run() {
        List<BenchTarget> targets = new ArrayList<>();
        try {
            for (BackendKind k : config.backends()) {
                targets.add(Targets.open(k, config.device()));
            }
            return run(targets);
        } finally {
            for (BenchTarget t : targets) {
                t.close();
            }
        }
    }

    /** Runs every case on the given, already open, backends (the caller closes them). */
    public BenchReport run(List<BenchTarget> targets) {
        Sampler sampler = new Sampler(config.timing());
        List<BenchResult> results = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Set<String> notes = new LinkedHashSet<>();
        Map<String, Double> copyCache = new HashMap<>();
        Set<String> skipped = new HashSet<>();
        Set<String> warmed = new HashSet<>();
        long seed = config.seed();
        for (BenchCase c : config.cases()) {
            try (CaseData data = CaseData.create(c, seed++, reference)) {
                for (BenchTarget t : targets) {
                    if (!t.supports(c.dtype())) {
                        if (skipped.add(t.id() + c.dtype())) {
                            notes.add(t.id() + ": " + t.description() + " does not compute " + c.dtype().numpyName()
                                    + "; those cases were skipped");
                        }
                        continue;
                    }
                    boolean firstUse = warmed.add(t.id() + " " + c.op() + " " + c.direction() + " " + c.dtype());
                    BenchResult r = runOne(t, c, data, sampler, firstUse, copyCache, notes, failures);
                    if (r != null) {
                        results.add(r);
                        if (progress != null) {
                            progress.printf(Locale.ROOT, "%-7s %-36s %10s %9.2f GB/s %6.1f%% of copy%n",
                                    r.backend(), c.label(), TableFormat.duration(r.medianSeconds()), r.gbPerSecond(),
                                    100 * r.fractionOfCopy());
                            progress.flush();
                        }
                    }
                }
            }
        }
        List<BenchReport.TargetInfo> infos = new ArrayList<>();
        for (BenchTarget t : targets) {
            infos.add(new BenchReport.TargetInfo(t.id(), t.description(), t.kernelOnly()));
        }
        return new BenchReport(HostInfo.describe(), infos, results, failures, List.copyOf(notes));
    }

    private BenchResult runOne(BenchTarget t, BenchCase c, CaseData data, Sampler sampler, boolean firstUse,
                               Map<String, Double> copyCache, Set<String> notes, List<String> failures) {
        try (BenchTarget.Prepared p = t.prepare(data)) {
            Tensor out = p.runForValidation();
            Accuracy.Report v = Validation.check(out, data.expected(), data.scale());
            if (!v.ok()) {
                failures.add(t.id() + " " + c.label() + ": " + v.describe());
                return null;
            }
            Sampler.Timing timing = sampler.time(p, firstUse);
            double copy = copyBandwidth(t, c, sampler, copyCache, notes);
            return new BenchResult(t.id(), c, timing.medianSeconds(), copy, v.maxError(), v.tolerance(),
                    t.kernelOnly(), timing.callsPerSample());
        } catch (RuntimeException e) {
            failures.add(t.id() + " " + c.label() + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * GB/s of a copy moving the same traffic as the case (half read, half written), measured once
     * per backend and byte count in this run; NaN when the backend has no device copy.
     */
    private static double copyBandwidth(BenchTarget t, BenchCase c, Sampler sampler, Map<String, Double> cache,
                                        Set<String> notes) {
        long traffic = c.trafficBytes();
        long bytes = traffic / 2;
        boolean firstUse = cache.keySet().stream().noneMatch(k -> k.startsWith(t.id() + ":"));
        return cache.computeIfAbsent(t.id() + ":" + bytes, k -> {
            try (BenchTarget.Loaded copy = t.copy(bytes)) {
                return 2.0 * bytes / sampler.time(copy, firstUse).medianSeconds() / 1e9;
            } catch (UnsupportedOperationException e) {
                notes.add(t.id() + ": no copy baseline (" + e.getMessage() + ")");
                return Double.NaN;
            }
        });
    }
}
