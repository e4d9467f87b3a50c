package dev.soma.benchmark;

import java.util.List;
import java.util.Locale;

/**
 * The machine-readable table: exactly the columns below, one row per validated result. The PyTorch
 * peer script ({@code bench/pytorch_peer.py}) writes the same columns, so the two files concatenate.
 */
public final class CsvFormat {
    /** The header, column for column. */
    public static final List<String> COLUMNS = List.of("backend", "op", "direction", "dtype", "shape", "elements",
            "median_s", "gelem_per_s", "gb_per_s", "copy_gb_per_s", "fraction_of_copy");

    private CsvFormat() {
    }

    public static String format(BenchReport report) {
        StringBuilder b = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (BenchResult r : report.results()) {
            BenchCase c = r.benchCase();
            b.append(r.backend()).append(',')
                    .append(c.op().id()).append(',')
                    .append(c.direction().id()).append(',')
                    .append(c.dtype().numpyName()).append(',')
                    .append(c.shapeText()).append(',')
                    .append(c.elements()).append(',')
                    .append(String.format(Locale.ROOT, "%.6e,%.5g,%.5g,%.5g,%.4g",
                            r.medianSeconds(), r.gelemPerSecond(), r.gbPerSecond(), r.copyGbPerSecond(),
                            r.fractionOfCopy()))
                    .append('\n');
        }
        return b.toString();
    }
}
