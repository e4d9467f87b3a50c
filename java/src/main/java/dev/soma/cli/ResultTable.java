package dev.soma.cli;

import dev.soma.verify.VerifyResult;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/** The table {@code soma verify} prints, one line per result as it arrives, then the failures and a count. */
final class ResultTable {
    private static final String FORMAT = "%-10s %-12s %-9s %-8s %6s %11s %10s  %s";
    private final PrintWriter out;

    ResultTable(PrintWriter out) {
        this.out = out;
    }

    void header() {
        out.println(String.format(Locale.ROOT, FORMAT, "backend", "op", "direction", "dtype", "cases", "max error",
                "tolerance", "result"));
        out.flush();
    }

    void row(VerifyResult r) {
        String err = Double.isNaN(r.maxError()) ? "-" : String.format(Locale.ROOT, "%.3g", r.maxError());
        out.println(String.format(Locale.ROOT, FORMAT, r.backend(), r.op(), r.direction(),
                r.dtype() == null ? "-" : r.dtype().numpyName(), r.cases(), err,
                String.format(Locale.ROOT, "%.0e", r.tolerance()),
                switch (r.status()) {
                    case OK -> "ok";
                    case FAIL -> "FAIL";
                    case SKIPPED -> r.worst();
                }));
        out.flush();
    }

    /** Prints each failure's detail and the closing count; true when nothing failed. */
    boolean summary(List<VerifyResult> results) {
        long failed = results.stream().filter(VerifyResult::failed).count();
        long skipped = results.stream().filter(r -> r.status() == VerifyResult.Status.SKIPPED).count();
        long passed = results.size() - failed - skipped;
        if (failed > 0) {
            out.println();
            out.println("Failures:");
            for (VerifyResult r : results) {
                if (r.failed()) {
                    out.println("  " + r.backend() + " " + r.op() + " " + r.direction() + " "
                            + (r.dtype() == null ? "" : r.dtype().numpyName()) + ": " + r.worst());
                }
            }
        }
        out.println();
        out.println("verify: " + passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
        out.flush();
        return failed == 0;
    }
}
