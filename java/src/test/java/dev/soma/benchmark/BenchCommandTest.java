package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code soma bench} end to end on the real CPU kernels, on a tiny configuration: what it prints
 * parses, every case is there (so every case was validated: a case that fails validation is never
 * printed and makes the command exit 1), the figures are self-consistent and plausible, and the
 * report's files are what they claim to be.
 */
class BenchCommandTest {
    private static final String[] TINY = {"--backend=cpu", "--ops=relu,gelu,softmax,log_softmax",
        "--sizes=1000,2^14", "--rows=33,1024", "--row-elements=2^14", "--direction=forward,backward",
        "--repeats=3", "--warmup=1", "--sample-ms=1"};

    private static String[] with(String... extra) {
        String[] all = new String[TINY.length + extra.length];
        System.arraycopy(TINY, 0, all, 0, TINY.length);
        System.arraycopy(extra, 0, all, TINY.length, extra.length);
        return all;
    }

    @Test
    void csvAndReportOnATinyConfiguration(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        BenchCommandUsageTest.Run r = BenchCommandUsageTest.run(with("--format=csv", "--report=" + report));
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());

        List<String> lines = r.out().lines().toList();
        assertEquals("backend,op,direction,dtype,shape,elements,median_s,gelem_per_s,gb_per_s,copy_gb_per_s,"
                + "fraction_of_copy", lines.get(0));
        Set<String> seen = new HashSet<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(11, f.length, line);
            assertEquals("cpu", f[0]);
            assertEquals("float32", f[3]);
            long elements = Long.parseLong(f[5]);
            long product = 1;
            for (String d : f[4].split("x")) {
                product *= Long.parseLong(d);
            }
            assertEquals(product, elements, "elements = product of the shape: " + line);
            double median = Double.parseDouble(f[6]);
            double gelem = Double.parseDouble(f[7]);
            double gbs = Double.parseDouble(f[8]);
            double copy = Double.parseDouble(f[9]);
            double fraction = Double.parseDouble(f[10]);
            assertTrue(median > 0 && median < 1, "median " + line);
            assertEquals(elements / median / 1e9, gelem, 1e-3 * gelem + 1e-4, line);
            int accesses = f[2].equals("forward") ? 2 : 3;
            assertEquals(elements * 4.0 * accesses / median / 1e9, gbs, 1e-3 * gbs + 1e-3, line);
            assertTrue(copy > 0 && Double.isFinite(copy), "copy bandwidth " + line);
            assertEquals(gbs / copy, fraction, 1e-3 * fraction + 1e-4, line);
            // Above 0: the op did move bytes. Below 3: an op cannot beat a copy of the same bytes by
            // much. Small cases run from cache, where the op and the copy are both cache-bound and
            // call overhead (thread hand-off, dispatch) can favour either, hence headroom above 1;
            // a figure past 3x would mean a timing or byte-accounting bug (or skipped work).
            assertTrue(fraction > 0 && fraction < 3, "fraction of copy " + line);
            assertTrue(seen.add(f[1] + " " + f[2] + " " + f[4]), "duplicate row " + line);
        }
        Set<String> expected = new HashSet<>();
        for (String dir1 : new String[] {"forward", "backward"}) {
            for (String op : new String[] {"relu", "gelu"}) {
                expected.add(op + " " + dir1 + " 1000");
                expected.add(op + " " + dir1 + " 16384");
            }
            for (String op : new String[] {"softmax", "log_softmax"}) {
                expected.add(op + " " + dir1 + " 496x33");
                expected.add(op + " " + dir1 + " 16x1024");
            }
        }
        assertEquals(expected, seen, "every case validated and timed");

        // The report: the same CSV, JSON that parses and records the validation, charts, an index.
        assertEquals(r.out(), Files.readString(report.resolve("results.csv")));
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) MiniJson.parse(Files.readString(report.resolve("results.json")));
        assertEquals(List.of(), json.get("failures"));
        List<?> results = (List<?>) json.get("results");
        assertEquals(expected.size(), results.size());
        for (Object o : results) {
            Map<?, ?> row = (Map<?, ?>) o;
            assertEquals(Boolean.TRUE, row.get("validated"));
            assertTrue((Double) row.get("max_error") <= (Double) row.get("tolerance"), row.toString());
            assertEquals(Boolean.FALSE, row.get("kernel_only"));
        }
        String html = Files.readString(report.resolve("index.html"));
        assertTrue(html.contains("href=\"results.csv\""));
        int charts = 0;
        for (String op : new String[] {"relu", "gelu", "softmax", "log_softmax"}) {
            for (String d : new String[] {"forward", "backward"}) {
                String base = "chart-" + op + "-" + d + "-float32";
                ReportFiles.assertPng(report.resolve(base + ".png"));
                ReportFiles.assertSvg(report.resolve(base + ".svg"));
                assertTrue(html.contains("src=\"" + base + ".png\""), base);
                assertTrue(html.contains("href=\"" + base + ".svg\""), base);
                charts++;
            }
        }
        assertEquals(8, charts);
        ReportFiles.assertNoTemporaryFiles(report);
    }

    @Test
    void tableAndJsonFormats() {
        BenchCommandUsageTest.Run table = BenchCommandUsageTest.run("--backend=cpu", "--ops=sigmoid", "--sizes=4097",
                "--direction=backward", "--dtype=f64", "--repeats=1", "--warmup=0", "--sample-ms=1");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().startsWith("soma bench on "), table.out());
        assertTrue(table.out().contains("validated against the float64 reference"), table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("cpu") && l.contains("sigmoid")
                && l.contains("backward") && l.contains("float64") && l.contains("4097")), table.out());

        BenchCommandUsageTest.Run json = BenchCommandUsageTest.run("--backend=cpu", "--ops=tanh", "--sizes=64",
                "--direction=forward", "--format=json", "--repeats=1", "--warmup=0", "--sample-ms=1");
        assertEquals(0, json.exit(), json.err());
        Map<?, ?> doc = (Map<?, ?>) MiniJson.parse(json.out());
        assertEquals(1, ((List<?>) doc.get("results")).size());
        assertEquals("host", ((Map<?, ?>) ((List<?>) doc.get("backends")).get(0)).get("timing"));
    }
}
