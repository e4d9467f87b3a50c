package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU backend gives the same bits whatever the number of cores and on every run: each
 * {@link DeterminismCases} case (every op, forward and backward, float32 and float64, sizes that
 * split across threads, softmax along long rows) runs in child JVMs started with
 * {@code -XX:ActiveProcessorCount=1}, 2 and 16 (the kernels size their thread pool from it), and
 * once more with 16; every output must equal the first run's bit for bit (NaN payloads aside, see
 * {@link Bits}). Child JVMs, because the processor count is fixed when a JVM starts.
 */
class CpuDeterminismTest {
    /** Runs in order: the first is the one the others are compared with. */
    private static final List<String> RUNS = List.of("cpus1", "cpus2", "cpus16", "cpus16-again");
    /** A regular expression over case names, to rerun a few ({@code -Dsoma.determinism.cases=prelu.*}). */
    private static final String ONLY = System.getProperty("soma.determinism.cases", ".*");
    /** Extra options for the child JVMs, space-separated ({@code -Dsoma.determinism.childOpts=-Dsoma.cpu.svml=true} shows what SVML would change). */
    private static final String CHILD_OPTS = System.getProperty("soma.determinism.childOpts", "").trim();

    @TempDir
    Path dir;

    @Test
    void sameBitsAcrossThreadCountsAndRuns() throws Exception {
        Map<String, String> said = new LinkedHashMap<>();
        for (String run : RUNS) {
            int cpus = Integer.parseInt(run.replaceAll("\\D", ""));
            said.put(run, child(cpus, dir.resolve(run)));
        }
        assertTrue(said.get("cpus1").startsWith("cpus=1 "), said.toString());
        assertTrue(said.get("cpus16").startsWith("cpus=16 "), said.toString());
        // op -> the runs whose outputs differ from the first, with one example each.
        Map<String, Map<String, String>> byOp = new TreeMap<>();
        int files = 0;
        try (var s = Files.list(dir.resolve(RUNS.get(0)))) {
            files = (int) s.count();
        }
        for (String run : RUNS.subList(1, RUNS.size())) {
            DeterminismFiles.differences(dir.resolve(RUNS.get(0)), dir.resolve(run)).forEach((file, diff) ->
                    byOp.computeIfAbsent(DeterminismFiles.op(file), k -> new LinkedHashMap<>())
                            .putIfAbsent(run, file + ": " + diff));
        }
        TreeSet<String> ok = new TreeSet<>();
        try (var s = Files.list(dir.resolve(RUNS.get(0)))) {
            s.map(p -> DeterminismFiles.op(p.getFileName().toString())).filter(op -> !byOp.containsKey(op)).forEach(ok::add);
        }
        System.out.println("CPU determinism over " + files + " outputs x " + RUNS.size() + " runs " + RUNS
                + ": identical for " + ok + (byOp.isEmpty() ? "" : "; differing: " + byOp));
        if (!byOp.isEmpty()) {
            List<String> lines = new ArrayList<>();
            byOp.forEach((op, runs) -> runs.forEach((run, diff) -> lines.add(op + " (" + run + " vs " + RUNS.get(0) + "): " + diff)));
            fail(byOp.size() + " ops gave different bits across thread counts or runs:\n" + String.join("\n", lines));
        }
    }

    /** Runs {@link DeterminismChild} with {@code cpus} processors; returns its one line of output. */
    private static String child(int cpus, Path out) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:ActiveProcessorCount=" + cpus, "-Xmx2g", "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        if (!CHILD_OPTS.isEmpty()) {
            cmd.addAll(List.of(CHILD_OPTS.split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DeterminismChild.class.getName(), out.toString(), ONLY));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // The CPU backend never opens OpenCL, so no libjsig: drop a preload inherited from the test JVM.
        pb.environment().remove("LD_PRELOAD");
        Path log = Files.createTempFile("soma-determinism", ".log");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the determinism child with " + cpus + " cpus did not finish within 300 s");
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        assertEquals(0, p.exitValue(), () -> "child with " + cpus + " cpus failed:\n" + text);
        return text.lines().filter(l -> l.startsWith("cpus=")).findFirst().orElse(text);
    }
}
