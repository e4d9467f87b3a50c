package dev.soma;

import dev.soma.backend.BackendKind;
import java.nio.file.Path;

/**
 * The child JVM of {@link CpuDeterminismTest}: runs every {@link DeterminismCases} case once on a
 * fresh CPU engine and writes the outputs to the directory named by its first argument (the second,
 * when given, is a regular expression that picks cases by name). The parent starts
 * it with different {@code -XX:ActiveProcessorCount} values and compares the files bit for bit.
 */
public final class DeterminismChild {
    private DeterminismChild() {
    }

    public static void main(String[] args) throws Exception {
        try (Engine e = Engine.create(BackendKind.CPU)) {
            DeterminismCases.writeAll(e, DeterminismCases.all(true, 1.0), Path.of(args[0]), args.length > 1 ? args[1] : ".*");
            System.out.println("cpus=" + Runtime.getRuntime().availableProcessors() + " " + e.description());
        }
    }
}
