package dev.soma.benchmark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code soma bench --report DIR}: writes {@code results.csv}, {@code results.json}, one chart per
 * op, direction and dtype as PNG and SVG ({@code chart-<op>-<direction>-<dtype>.png/.svg}), and an
 * {@code index.html} that shows the charts and the table. Every file goes through a temporary file
 * and a rename.
 */
public final class ReportWriter {
    private ReportWriter() {
    }

    /** The charts written: their base names (no extension) and titles, in report order. */
    public record Chart(String baseName, String title) {
    }

    /**
     * Writes the report into {@code dir}, creating it when missing.
     *
     * @return the charts written
     */
    public static List<Chart> write(BenchReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("results.csv"), CsvFormat.format(report));
        AtomicFiles.writeString(dir.resolve("results.json"), JsonFormat.format(report));
        List<Chart> charts = new ArrayList<>();
        for (Map.Entry<String, List<BenchResult>> e : groups(report).entrySet()) {
            BenchCase c = e.getValue().get(0).benchCase();
            String base = "chart-" + e.getKey();
            String title = c.op().id() + " " + c.direction().id() + ", " + c.dtype().numpyName();
            ThroughputChart chart = ThroughputChart.of(title, e.getValue());
            chart.writePng(dir.resolve(base + ".png"));
            chart.writeSvg(dir.resolve(base + ".svg"));
            charts.add(new Chart(base, title));
        }
        AtomicFiles.writeString(dir.resolve("index.html"), HtmlPage.render(report, charts));
        return charts;
    }

    /** Results grouped by "op-direction-dtype", in run order. */
    static Map<String, List<BenchResult>> groups(BenchReport report) {
        Map<String, List<BenchResult>> groups = new LinkedHashMap<>();
        for (BenchResult r : report.results()) {
            BenchCase c = r.benchCase();
            String key = c.op().id() + "-" + c.direction().id() + "-" + c.dtype().numpyName();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
        }
        return groups;
    }
}
