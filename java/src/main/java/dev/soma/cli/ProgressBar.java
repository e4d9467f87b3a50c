package dev.soma.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * A one-line progress bar on stderr for long runs: bytes done, rate and time left, redrawn at most
 * five times a second. Shown only when stderr is a terminal and {@code --quiet} is not given
 * ({@code -Dsoma.progress=always} forces it, for tests); otherwise every call does nothing.
 */
final class ProgressBar implements LongConsumer, AutoCloseable {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final long total;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintWriter err, long totalBytes, boolean enabled) {
        this.err = err;
        this.total = Math.max(1, totalBytes);
        this.enabled = enabled;
    }

    /** Whether a bar belongs on this stderr: a terminal, not --quiet (or forced by soma.progress). */
    static boolean wanted(boolean quiet) {
        String forced = System.getProperty("soma.progress", "auto");
        if (forced.equals("always")) {
            return true;
        }
        if (quiet || forced.equals("never")) {
            return false;
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public void accept(long done) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (done < total && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        err.print("\r" + line(done, (now - start) / 1e9));
        err.flush();
        drawn = true;
    }

    /** The bar for {@code done} bytes after {@code seconds}. */
    String line(long done, double seconds) {
        double f = Math.min(1, (double) done / total);
        int filled = (int) Math.round(f * WIDTH);
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 && done < total ? duration((total - done) / rate) : (done >= total ? "done" : "--:--");
        return String.format(Locale.ROOT, "[%s%s] %5.1f%% %s / %s  %s/s  ETA %s ", "#".repeat(filled),
                ".".repeat(WIDTH - filled), 100 * f, bytes(done), bytes(total), bytes((long) rate), eta);
    }

    static String bytes(long b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    }

    static String duration(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }

    /** Ends the bar's line so later output starts on a fresh one. */
    @Override
    public void close() {
        if (drawn) {
            err.println();
            err.flush();
        }
    }
}
