package dev.soma.cli;

import dev.soma.Engine;
import dev.soma.backend.BackendKind;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.verify.Verifier;
import dev.soma.verify.VerifyResult;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code soma verify}: every op, both directions, both dtypes, on every device, against the reference. */
@Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Checks every op against the float64 scalar reference and prints a table of max errors.",
            "Each op runs forward and backward, in float32 and float64, on fresh random data plus extremal values "
                + "(NaN, +-inf, +-0, denormals, overflow edges) at sizes that hit every vector tail, on every "
                + "available device. Exits 1 on any failure."},
        footer = {"", "Examples:", "  soma verify", "  soma verify --backend opencl --op softmax --op gelu --dtype float32"})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "B", converter = BackendOptions.KindConverter.class, defaultValue = "auto",
            description = "cpu, opencl or cuda; default: every available backend and device.")
    BackendKind kind;

    @Option(names = "--device", paramLabel = "D", description = "Device index or part of its name (see 'soma devices').")
    String device;

    @Option(names = "--op", paramLabel = "OP", converter = OpOptions.OpConverter.class,
            description = "Only this op (repeatable). Default: all.")
    List<Op> ops = new ArrayList<>();

    @Option(names = "--dtype", paramLabel = "T", converter = DTypeConverter.class,
            description = "float32 or float64 only. Default: both.")
    DType dtype;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed, to repeat a run (printed at the start).")
    Long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Targets all = Targets.probe();
        List<Targets.Target> targets = all.select(kind, device);
        if (targets.isEmpty()) {
            String why = all.probes().stream().filter(p -> kind == BackendKind.AUTO || p.kind() == kind)
                    .filter(p -> !p.available()).map(p -> p.kind().id() + ": " + p.reason())
                    .reduce((a, b) -> a + "; " + b).orElse("no such device");
            throw new dev.soma.backend.BackendUnavailableException("nothing to verify: no device matches --backend "
                    + kind.id() + (device == null ? "" : " --device " + device) + " (" + why + ")");
        }
        long s = seed != null ? seed : System.nanoTime();
        List<Op> opList = ops.isEmpty() ? Arrays.asList(Op.values()) : ops;
        List<DType> dtypes = dtype == null ? List.of(DType.F32, DType.F64) : List.of(dtype);
        out.println(String.format(Locale.ROOT, "soma verify: %d ops x forward/backward x %s on %s, against the float64 "
                + "scalar reference (seed %d; --seed %d repeats this run)", opList.size(),
                dtypes.stream().map(DType::numpyName).reduce((a, b) -> a + "/" + b).orElse(""),
                targets.stream().map(Targets.Target::label).reduce((a, b) -> a + ", " + b).orElse(""), s, s));
        ResultTable table = new ResultTable(out);
        table.header();
        List<VerifyResult> results = new ArrayList<>();
        try (Verifier v = new Verifier(s)) {
            for (Targets.Target t : targets) {
                try (Engine engine = t.open()) {
                    results.addAll(v.verify(engine, t.label(), opList, dtypes, table::row));
                } catch (RuntimeException e) {
                    out.println(t.label() + ": could not run: " + ErrorReport.describe(e));
                    results.add(new VerifyResult(t.label(), null, "-", null, 0, 0, Double.NaN, Double.NaN,
                            ErrorReport.describe(e), VerifyResult.Status.FAIL));
                }
            }
        }
        return table.summary(results) ? 0 : 1;
    }

    /** Parses float32/float64 (also f32, f4, f64, f8). */
    static final class DTypeConverter implements picocli.CommandLine.ITypeConverter<DType> {
        @Override
        public DType convert(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "float32", "f32", "f4", "float" -> DType.F32;
                case "float64", "f64", "f8", "double" -> DType.F64;
                default -> throw new picocli.CommandLine.TypeConversionException(
                        "unknown dtype '" + value + "'; use float32 or float64");
            };
        }
    }
}
