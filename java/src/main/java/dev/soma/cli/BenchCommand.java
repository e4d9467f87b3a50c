package dev.soma.cli;

import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.benchmark.BenchConfig;
import dev.soma.benchmark.BenchReport;
import dev.soma.benchmark.BenchRunner;
import dev.soma.benchmark.CsvFormat;
import dev.soma.benchmark.Direction;
import dev.soma.benchmark.JsonFormat;
import dev.soma.benchmark.ReportWriter;
import dev.soma.benchmark.Sizes;
import dev.soma.benchmark.TableFormat;
import dev.soma.benchmark.Targets;
import dev.soma.benchmark.TimingPlan;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code soma bench}: times Soma's ops on each backend without JMH. Every case is validated against
 * the float64 reference before it is timed; each figure is the median of repeats after warm-up and
 * is reported against a copy of the same bytes on the same backend, measured in the same run.
 *
 * <p>Exit status: 0 when every case validated and ran; 1 when a case failed (validation or a backend
 * error; the validated rows are still printed); 2 for a usage error. Errors are one line on stderr.
 */
@Command(name = "bench", sortOptions = false,
        description = {"Time Soma's ops on each backend: validated, warmed up, median of repeats,",
            "reported against the copy bandwidth of the same backend and, for GPUs, as a speed-up over the CPU."})
public final class BenchCommand implements Callable<Integer> {
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "B[,B...]",
            description = "Backends: cpu, opencl, cuda (default: every backend available here).")
    String backends;

    @Option(names = "--device", paramLabel = "D", description = "GPU device index or name substring (default: the backend's first GPU).")
    String device;

    @Option(names = "--ops", paramLabel = "OP[,OP...]", description = "Ops to time (default: all but prelu).")
    String ops;

    @Option(names = "--sizes", paramLabel = "N[,N...]",
            description = "Element counts for elementwise ops: 4096, 2^12, 64K, 1M (default: 2^12,2^14,...,2^24).")
    String sizes;

    @Option(names = "--rows", paramLabel = "LEN[,LEN...]",
            description = "Row lengths for softmax and log_softmax, each with enough rows for ~2^22 elements"
                    + " (default: 128,1024,8192,32768).")
    String rows;

    @Option(names = "--row-elements", paramLabel = "N",
            description = "Elements per softmax case: rows = N / row length, at least 1 (default: 2^22).")
    String rowElements;

    @Option(names = "--dtype", paramLabel = "f32|f64", description = "Element type(s) (default: f32).")
    String dtype = "f32";

    @Option(names = "--direction", paramLabel = "forward|backward", description = "Pass(es) to time (default: both).")
    String direction = "forward,backward";

    @Option(names = "--format", paramLabel = "table|csv|json", description = "Output on stdout (default: table).")
    String format = "table";

    @Option(names = "--report", paramLabel = "DIR",
            description = "Also write results.csv, results.json, charts (PNG and SVG) and index.html into DIR.")
    Path report;

    @Option(names = "--repeats", paramLabel = "N", description = "Timed samples per case; the median is reported (default: 11).")
    String repeats = "11";

    @Option(names = "--warmup", paramLabel = "N", description = "Untimed warm-up samples per case, at least; warm-up goes on while the code still"
                    + " gets faster (JIT). 0: none (default: 5).")
    String warmup = "5";

    @Option(names = "--sample-ms", paramLabel = "MS",
            description = "Each sample repeats the call to last about this long (default: 5).")
    String sampleMs = "5";

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the random inputs (default: 42).")
    String seed = "42";

    @Option(names = "--progress", description = "Print one line per case on stderr as it finishes.")
    boolean progress;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchConfig config;
        String fmt;
        try {
            fmt = parseFormat(format);
            config = config();
        } catch (IllegalArgumentException e) {
            err.println("soma bench: " + oneLine(e));
            err.flush();
            return EXIT_USAGE;
        }
        BenchReport result;
        try {
            result = new BenchRunner(config, CpuKernelsProvider.reference(),
                    progress ? err : null).run();
        } catch (BackendUnavailableException e) {
            err.println("soma bench: " + oneLine(e));
            err.flush();
            return EXIT_FAILED;
        } catch (RuntimeException | OutOfMemoryError e) {
            err.println("soma bench: failed: " + oneLine(e));
            err.flush();
            return EXIT_FAILED;
        }
        out.print(switch (fmt) {
            case "csv" -> CsvFormat.format(result);
            case "json" -> JsonFormat.format(result);
            default -> TableFormat.format(result);
        });
        out.flush();
        if (report != null) {
            try {
                ReportWriter.write(result, report);
            } catch (IOException | RuntimeException e) {
                err.println("soma bench: cannot write the report into " + report + ": " + oneLine(e));
                err.flush();
                return EXIT_FAILED;
            }
        }
        if (!result.failures().isEmpty()) {
            err.println("soma bench: " + result.failures().size() + " case(s) failed and were not timed: "
                    + String.join("; ", result.failures()));
            err.flush();
            return EXIT_FAILED;
        }
        return 0;
    }

    /** The run described by the options; throws IllegalArgumentException with a one-line message. */
    BenchConfig config() {
        int nRepeats = parseInt("--repeats", repeats, 1);
        int nWarmup = parseInt("--warmup", warmup, 0);
        int ms = parseInt("--sample-ms", sampleMs, 1);
        long s;
        try {
            s = Long.parseLong(seed.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seed: '" + seed + "' is not an integer");
        }
        // At least ten sample lengths of warm-up, unless --warmup 0 asks for none.
        // The first case of each kernel warms up for at least 200 (1 s by default): the JIT needs
        // hundreds of calls before Vector API code runs compiled.
        long minWarmup = nWarmup == 0 ? 0 : 10L * ms * 1_000_000L;
        TimingPlan plan = new TimingPlan(nWarmup, minWarmup, 20 * minWarmup, nRepeats, ms * 1_000_000L);
        return new BenchConfig(parseBackends(), device, parseOps(),
                sizes == null ? BenchConfig.DEFAULT_SIZES : Sizes.parseList("--sizes", sizes),
                rows == null ? BenchConfig.DEFAULT_ROWS : Sizes.parseList("--rows", rows),
                rowElements == null ? BenchConfig.DEFAULT_ROW_ELEMENTS : Sizes.parse("--row-elements", rowElements),
                parseDTypes(), parseDirections(), plan, s);
    }

    private List<BackendKind> parseBackends() {
        if (backends == null) {
            return Targets.available();
        }
        List<BackendKind> kinds = new ArrayList<>();
        for (String b : split("--backend", backends)) {
            BackendKind k = BackendKind.parse(b);
            if (k == BackendKind.AUTO) {
                throw new IllegalArgumentException("--backend: name the backends to time (cpu, opencl, cuda), not auto");
            }
            if (!kinds.contains(k)) {
                kinds.add(k);
            }
        }
        return kinds;
    }

    private List<Op> parseOps() {
        if (ops == null) {
            return BenchConfig.benchmarkableOps();
        }
        List<Op> list = new ArrayList<>();
        for (String o : split("--ops", ops)) {
            Op op = Op.byId(o);
            if (!list.contains(op)) {
                list.add(op);
            }
        }
        return list;
    }

    private List<DType> parseDTypes() {
        List<DType> list = new ArrayList<>();
        for (String d : split("--dtype", dtype)) {
            DType t = switch (d.toLowerCase(Locale.ROOT)) {
                case "f32", "float32", "float" -> DType.F32;
                case "f64", "float64", "double" -> DType.F64;
                default -> throw new IllegalArgumentException("--dtype: unknown type '" + d + "'; use f32 or f64");
            };
            if (!list.contains(t)) {
                list.add(t);
            }
        }
        return list;
    }

    private List<Direction> parseDirections() {
        List<Direction> list = new ArrayList<>();
        for (String d : split("--direction", direction)) {
            Direction dir = Direction.parse(d);
            if (!list.contains(dir)) {
                list.add(dir);
            }
        }
        return list;
    }

    private static String parseFormat(String f) {
        String k = f.trim().toLowerCase(Locale.ROOT);
        if (!List.of("table", "csv", "json").contains(k)) {
            throw new IllegalArgumentException("--format: unknown format '" + f + "'; use table, csv or json");
        }
        return k;
    }

    private static int parseInt(String option, String text, int min) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v >= min) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(option + ": '" + text + "' is not an integer >= " + min);
    }

    private static List<String> split(String option, String list) {
        List<String> parts = new ArrayList<>();
        for (String p : list.split(",", -1)) {
            if (p.isBlank()) {
                throw new IllegalArgumentException(option + ": empty entry in '" + list + "'; separate values with single commas");
            }
            parts.add(p.trim());
        }
        return parts;
    }

    private static String oneLine(Throwable e) {
        return ErrorReport.oneLine(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
}
