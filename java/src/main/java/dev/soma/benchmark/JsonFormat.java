package dev.soma.benchmark;

import java.util.List;
import java.util.Locale;

/**
 * The full record of a run as JSON: the machine, the backends, every result with the CSV's fields
 * plus how it was validated (max error, tolerance) and timed (kernel-only, calls per sample),
 * the speed-ups, failures and notes. Written by hand: a few dozen lines do not justify a library.
 */
public final class JsonFormat {
    private JsonFormat() {
    }

    public static String format(BenchReport report) {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"host\": ").append(str(report.host())).append(",\n");
        b.append("  \"backends\": [");
        List<BenchReport.TargetInfo> ts = report.targets();
        for (int i = 0; i < ts.size(); i++) {
            BenchReport.TargetInfo t = ts.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("    {\"backend\": ").append(str(t.id()))
                    .append(", \"description\": ").append(str(t.description()))
                    .append(", \"timing\": ").append(str(t.kernelOnly() ? "kernel-only" : "host")).append('}');
        }
        b.append(ts.isEmpty() ? "],\n" : "\n  ],\n");
        b.append("  \"results\": [");
        List<BenchResult> rs = report.results();
        for (int i = 0; i < rs.size(); i++) {
            BenchResult r = rs.get(i);
            BenchCase c = r.benchCase();
            b.append(i == 0 ? "\n" : ",\n").append("    {")
                    .append("\"backend\": ").append(str(r.backend()))
                    .append(", \"op\": ").append(str(c.op().id()))
                    .append(", \"direction\": ").append(str(c.direction().id()))
                    .append(", \"dtype\": ").append(str(c.dtype().numpyName()))
                    .append(", \"shape\": ").append(str(c.shapeText()))
                    .append(", \"elements\": ").append(c.elements())
                    .append(", \"median_s\": ").append(num(r.medianSeconds()))
                    .append(", \"gelem_per_s\": ").append(num(r.gelemPerSecond()))
                    .append(", \"gb_per_s\": ").append(num(r.gbPerSecond()))
                    .append(", \"copy_gb_per_s\": ").append(num(r.copyGbPerSecond()))
                    .append(", \"fraction_of_copy\": ").append(num(r.fractionOfCopy()))
                    .append(", \"validated\": true")
                    .append(", \"max_error\": ").append(num(r.maxError()))
                    .append(", \"tolerance\": ").append(num(r.tolerance()))
                    .append(", \"kernel_only\": ").append(r.kernelOnly())
                    .append(", \"calls_per_sample\": ").append(r.callsPerSample())
                    .append('}');
        }
        b.append(rs.isEmpty() ? "],\n" : "\n  ],\n");
        b.append("  \"speedups\": [");
        List<BenchReport.Speedup> ss = report.speedups();
        for (int i = 0; i < ss.size(); i++) {
            BenchReport.Speedup s = ss.get(i);
            BenchCase c = s.other().benchCase();
            b.append(i == 0 ? "\n" : ",\n").append("    {\"backend\": ").append(str(s.other().backend()))
                    .append(", \"op\": ").append(str(c.op().id()))
                    .append(", \"direction\": ").append(str(c.direction().id()))
                    .append(", \"dtype\": ").append(str(c.dtype().numpyName()))
                    .append(", \"shape\": ").append(str(c.shapeText()))
                    .append(", \"speedup_vs_cpu\": ").append(num(s.speedup())).append('}');
        }
        b.append(ss.isEmpty() ? "],\n" : "\n  ],\n");
        b.append("  \"failures\": ").append(strings(report.failures())).append(",\n");
        b.append("  \"notes\": ").append(strings(report.notes())).append('\n');
        return b.append("}\n").toString();
    }

    private static String strings(List<String> xs) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < xs.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(str(xs.get(i)));
        }
        return b.append(']').toString();
    }

    /** A JSON number; JSON has no NaN or infinity, so those become null. */
    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
