package dev.soma.benchmark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The human-readable table: a heading that says where and how the figures were measured, one row
 * per result, and a column with the speed-up over the CPU for the other backends' rows.
 */
public final class TableFormat {
    static final String[] HEADERS = {"backend", "op", "direction", "dtype", "shape", "median", "Gelem/s", "GB/s",
        "copy GB/s", "of copy", "vs cpu"};

    private TableFormat() {
    }

    public static String format(BenchReport report) {
        StringBuilder b = new StringBuilder();
        for (String line : heading(report)) {
            b.append(line).append('\n');
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADERS);
        for (String[] r : cells(report)) {
            rows.add(r);
        }
        int[] w = new int[HEADERS.length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                // Text columns left-aligned, numbers right-aligned.
                String cell = i < 5 ? pad(r[i], w[i], false) : pad(r[i], w[i], true);
                line.append(i == 0 ? "" : "  ").append(cell);
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        for (String line : speedupSummary(report)) {
            b.append(line).append('\n');
        }
        for (String n : report.notes()) {
            b.append("note: ").append(n).append('\n');
        }
        return b.toString();
    }

    /**
     * When GPU backends ran beside the CPU: per backend, op, direction and dtype, the speed-up over
     * the CPU at the largest size both ran (where launch overhead matters least).
     */
    static List<String> speedupSummary(BenchReport report) {
        java.util.Map<String, BenchReport.Speedup> largest = new java.util.LinkedHashMap<>();
        for (BenchReport.Speedup s : report.speedups()) {
            BenchCase c = s.other().benchCase();
            String key = s.other().backend() + " " + c.op().id() + " " + c.direction().id() + " " + c.dtype().numpyName();
            BenchReport.Speedup prev = largest.get(key);
            if (prev == null || c.elements() >= prev.other().benchCase().elements()) {
                largest.put(key, s);
            }
        }
        List<String> lines = new ArrayList<>();
        if (largest.isEmpty()) {
            return lines;
        }
        lines.add("speed-up over the cpu at the largest size:");
        int width = 0;
        for (java.util.Map.Entry<String, BenchReport.Speedup> e : largest.entrySet()) {
            width = Math.max(width, e.getKey().length() + 1 + e.getValue().other().benchCase().shapeText().length());
        }
        for (java.util.Map.Entry<String, BenchReport.Speedup> e : largest.entrySet()) {
            String label = e.getKey() + " " + e.getValue().other().benchCase().shapeText();
            lines.add("  " + pad(label, width, false) + fmt("  %8.2fx", e.getValue().speedup()));
        }
        return lines;
    }

    /** The lines above the table: machine, backends, what the columns mean. */
    static List<String> heading(BenchReport report) {
        List<String> lines = new ArrayList<>();
        lines.add("soma bench on " + report.host());
        for (BenchReport.TargetInfo t : report.targets()) {
            lines.add("  " + t.id() + ": " + t.description()
                    + (t.kernelOnly() ? " -- kernel-only: data resident on the device, no host transfers timed"
                    : " -- host memory"));
        }
        lines.add("median of timed repeats after warm-up; every row validated against the float64 reference first;");
        lines.add("GB/s counts inputs read once and the output written once; 'of copy' = GB/s / a copy of the same"
                + " bytes on the same backend, this run");
        return lines;
    }

    /** One row of cells per result, in the table's column order. */
    static List<String[]> cells(BenchReport report) {
        List<String[]> out = new ArrayList<>();
        for (BenchResult r : report.results()) {
            BenchCase c = r.benchCase();
            BenchResult cpu = r.backend().equals("cpu") ? null : report.cpuPeer(r);
            out.add(new String[] {
                r.backend(), c.op().id(), c.direction().id(), c.dtype().numpyName(), c.shapeText(),
                duration(r.medianSeconds()),
                fmt("%.3f", r.gelemPerSecond()),
                fmt("%.2f", r.gbPerSecond()),
                fmt("%.2f", r.copyGbPerSecond()),
                Double.isFinite(r.fractionOfCopy()) ? fmt("%.1f%%", 100 * r.fractionOfCopy()) : "n/a",
                cpu == null ? "" : fmt("%.2fx", cpu.medianSeconds() / r.medianSeconds())
            });
        }
        return out;
    }

    /** A time with a unit a reader takes in at a glance: "812 ns", "41.3 us", "12.7 ms". */
    static String duration(double s) {
        if (s < 1e-6) {
            return fmt("%.0f ns", s * 1e9);
        }
        if (s < 1e-3) {
            return fmt("%.1f us", s * 1e6);
        }
        if (s < 1) {
            return fmt("%.2f ms", s * 1e3);
        }
        return fmt("%.3f s", s);
    }

    private static String fmt(String f, Object... v) {
        return String.format(Locale.ROOT, f, v);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }
}
