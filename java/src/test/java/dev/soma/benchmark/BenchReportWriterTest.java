package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.op.DType;
import dev.soma.op.Op;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report on made-up results: two backends, a softmax chart, a missing copy baseline. */
class BenchReportWriterTest {

    private static BenchReport sample() {
        List<BenchResult> rs = new ArrayList<>();
        for (long n : new long[] {4096, 65536, 1 << 20}) {
            BenchCase c = new BenchCase(Op.GELU, Direction.FORWARD, DType.F32, new long[] {n});
            rs.add(new BenchResult("cpu", c, n * 1e-9, 20, 2e-7, 1e-6, false, 10));
            rs.add(new BenchResult("opencl", c, n * 2e-10, 200, 1e-7, 1e-6, true, 100));
        }
        for (long len : new long[] {128, 1024}) {
            BenchCase c = new BenchCase(Op.SOFTMAX, Direction.BACKWARD, DType.F32, new long[] {4096 / len, len});
            rs.add(new BenchResult("cpu", c, 4096e-9, 20, 0, 1e-6, false, 10));
            rs.add(new BenchResult("cuda", c, 4096e-11, Double.NaN, 0, 1e-6, true, 1000));
        }
        return new BenchReport("test host <&>", List.of(
                new BenchReport.TargetInfo("cpu", "CPU (test)", false),
                new BenchReport.TargetInfo("opencl", "fake OpenCL", true),
                new BenchReport.TargetInfo("cuda", "fake CUDA", true)), rs, List.of(), List.of("cuda: no copy baseline"));
    }

    @Test
    void writesValidChartsTablesAndAnIndexThatLinksThem(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("new/report");   // created when missing
        List<ReportWriter.Chart> charts = ReportWriter.write(sample(), out);
        assertEquals(List.of("chart-gelu-forward-float32", "chart-softmax-backward-float32"),
                charts.stream().map(ReportWriter.Chart::baseName).toList());
        String html = Files.readString(out.resolve("index.html"));
        for (ReportWriter.Chart c : charts) {
            ReportFiles.assertPng(out.resolve(c.baseName() + ".png"));
            ReportFiles.assertSvg(out.resolve(c.baseName() + ".svg"));
            assertTrue(html.contains("src=\"" + c.baseName() + ".png\""), c.baseName());
            assertTrue(html.contains("href=\"" + c.baseName() + ".svg\""), c.baseName());
        }
        assertTrue(html.contains("test host &lt;&amp;&gt;"), "heading escaped");
        assertTrue(html.contains("kernel-only"));
        assertTrue(html.contains("<td class=\"n\">5.00x</td>"), "opencl speed-up over the cpu in the table");
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(String.join(",", CsvFormat.COLUMNS), csv.get(0));
        assertEquals(11, csv.size());
        String json = Files.readString(out.resolve("results.json"));
        assertTrue(json.contains("\"copy_gb_per_s\": null"), "NaN is not JSON: it becomes null");
        assertTrue(json.contains("\"speedup_vs_cpu\": 100.000"), json);
        ReportFiles.assertNoTemporaryFiles(out);
    }

    @Test
    void rewritingAReportReplacesItsFiles(@TempDir Path dir) throws Exception {
        ReportWriter.write(sample(), dir);
        ReportWriter.write(sample(), dir);
        ReportFiles.assertPng(dir.resolve("chart-gelu-forward-float32.png"));
        ReportFiles.assertNoTemporaryFiles(dir);
    }

    @Test
    void tableShowsSpeedupsAndMissingCopyAsNotAvailable() {
        String table = TableFormat.format(sample());
        assertTrue(table.contains("5.00x"), table);
        assertTrue(table.contains("n/a"), table);
        assertTrue(table.contains("note: cuda: no copy baseline"), table);
        assertTrue(table.contains("speed-up over the cpu at the largest size:"), table);
        assertTrue(table.lines().anyMatch(l -> l.contains("opencl gelu forward float32 1048576") && l.endsWith("5.00x")),
                table);
        assertTrue(table.lines().anyMatch(l -> l.contains("cuda softmax backward float32 4x1024") && l.endsWith("100.00x")),
                table);
    }
}
