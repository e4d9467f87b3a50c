package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.npy.NpyArray;
import dev.soma.npy.NpyReader;
import dev.soma.npy.NpyWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as users run it: {@code java -jar soma.jar ...} in a child process (and once
 * through bin/soma), checking stdout, stderr and exit codes. Runs in the integration-test phase,
 * after {@code package} built the jar.
 */
class SomaJarIT {
    static Path jar;
    static String java;

    @TempDir
    Path dir;

    @BeforeAll
    static void findJar() {
        jar = Path.of(System.getProperty("soma.jar", "target/soma.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "the package phase should have built " + jar);
        java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    record Run(int code, String out, List<String> err, double seconds) {
        @Override
        public String toString() {
            return "exit " + code + " after " + seconds + " s\n--- stdout\n" + out + "--- stderr\n" + String.join("\n", err);
        }
    }

    /**
     * A process builder for a child JVM that preloads the JDK's libjsig, as bin/soma does: OpenCL
     * drivers such as PoCL replace the JVM's SIGSEGV/SIGFPE/SIGBUS handlers, and without signal
     * chaining the JVM can die with a bare segmentation fault (seen in the main job).
     */
    static ProcessBuilder childJvm(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Path jsig = Path.of(java).toAbsolutePath().getParent().resolveSibling("lib").resolve("libjsig.so");
        if (Files.isRegularFile(jsig)) {
            // Replaces any inherited preload: the child's own JDK's libjsig, and only it.
            pb.environment().put("LD_PRELOAD", jsig.toString());
        }
        return pb;
    }

    static Run run(List<String> command, long timeoutSeconds, String... env) throws IOException, InterruptedException {
        ProcessBuilder pb = childJvm(command);
        for (int i = 0; i + 1 < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        Path outFile = Files.createTempFile("soma-it", ".out");
        Path errFile = Files.createTempFile("soma-it", ".err");
        pb.redirectOutput(outFile.toFile()).redirectError(errFile.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s");
        }
        double s = (System.nanoTime() - t0) / 1e9;
        String out = Files.readString(outFile, StandardCharsets.UTF_8);
        List<String> err = Files.readAllLines(errFile, StandardCharsets.UTF_8);
        Files.deleteIfExists(outFile);
        Files.deleteIfExists(errFile);
        return new Run(p.exitValue(), out, err, s);
    }

    static Run soma(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString()));
        cmd.addAll(Arrays.asList(args));
        Run r = run(cmd, 300);
        // The JVM's own notice about the incubator module is not Soma's output (bin/soma filters it out).
        return new Run(r.code(), r.out(), r.err().stream()
                .filter(l -> !l.equals("WARNING: Using incubator modules: jdk.incubator.vector")).toList(), r.seconds());
    }

    @Test
    void versionAndHelp() throws Exception {
        Run v = soma("--version");
        assertEquals(0, v.code(), v.toString());
        assertTrue(v.out().startsWith("soma "), v.toString());
        Run h = soma("apply", "--help");
        assertEquals(0, h.code(), h.toString());
        assertTrue(h.out().startsWith("Usage: soma apply"), h.toString());
    }

    @Test
    void exitCodes() throws Exception {
        Run usage = soma("apply", "--op", "sigmoid", "--alpha", "1", "--in", "x.npy", "--out", "y.npy");
        assertEquals(2, usage.code(), usage.toString());
        assertEquals(List.of("soma: --alpha does not apply to sigmoid, which takes no parameters (see 'soma apply --help')"),
                usage.err());
        Run missing = soma("apply", "--op", "relu", "--in", dir.resolve("nope.npy").toString(), "--out", "y.npy");
        assertEquals(1, missing.code(), missing.toString());
        assertEquals(List.of("soma: " + dir.resolve("nope.npy") + ": no such file"), missing.err());
        Run unknown = soma("--frobnicate");
        assertEquals(2, unknown.code(), unknown.toString());
        assertEquals(1, unknown.err().size(), unknown.toString());
    }

    @Test
    void devices() throws Exception {
        Run d = soma("devices");
        assertEquals(0, d.code(), d.toString());
        assertTrue(d.out().startsWith("cpu: 1 device"), d.toString());
        assertTrue(d.out().contains("\ncuda: "), d.toString());
        assertTrue(d.out().contains("\nopencl: "), d.toString());
    }

    @Test
    void applyAndBackwardThroughTheJar() throws Exception {
        Path x = dir.resolve("x.npy");
        Path dy = dir.resolve("dy.npy");
        Path y = dir.resolve("y.npy");
        Path dx = dir.resolve("dx.npy");
        NpyWriter.write(x, Tensor.of(new float[] {-8, -1, 0, 0.5f, 3, Float.NaN, Float.POSITIVE_INFINITY}));
        NpyWriter.write(dy, Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1}));
        Run a = soma("apply", "--op", "relu", "--in", x.toString(), "--out", y.toString(), "--verify", "--backend", "cpu");
        assertEquals(0, a.code(), a.toString());
        assertTrue(a.out().contains("): ok"), a.toString());
        try (NpyArray r = NpyReader.read(y)) {
            assertArrayEquals(new float[] {0, 0, 0, 0.5f, 3, Float.NaN, Float.POSITIVE_INFINITY}, r.tensor().toFloatArray());
        }
        Run b = soma("backward", "--op", "relu", "--in", x.toString(), "--dy", dy.toString(), "--out", dx.toString(),
                "--backend", "cpu");
        assertEquals(0, b.code(), b.toString());
        try (NpyArray r = NpyReader.read(dx)) {
            assertArrayEquals(new float[] {0, 0, 0, 1, 1, Float.NaN, 1}, r.tensor().toFloatArray());
        }
    }

    @Test
    void largeFilesNeedNoHeap() throws Exception {
        // 256 MiB in, 256 MiB out, through a JVM allowed 32 MiB of heap: inputs are mapped, outputs
        // are written through a mapping, nothing is copied onto the heap.
        long n = 64L << 20;
        Path big = dir.resolve("big.npy");
        try (dev.soma.npy.NpyOutput o = dev.soma.npy.NpyOutput.create(big, dev.soma.op.DType.F32, n)) {
            MemorySegment seg = o.tensor().segment();
            for (long i = 0; i < n; i++) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i & 1) == 0 ? -1.5f : 2.5f);
            }
            o.commit();
        }
        Path out = dir.resolve("big-out.npy");
        List<String> cmd = List.of(java, "-Xmx32m", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(),
                "apply", "--op", "relu", "--backend", "cpu", "--in", big.toString(), "--out", out.toString());
        Run r = run(cmd, 300);
        assertEquals(0, r.code(), r.toString());
        assertEquals(Files.size(big), Files.size(out));
        try (NpyArray a = NpyReader.read(out)) {
            Tensor t = a.tensor();
            for (long i : new long[] {0, 1, n / 2, n / 2 + 1, n - 2, n - 1}) {
                assertEquals((i & 1) == 0 ? 0.0 : 2.5, t.get(i), "element " + i);
            }
        }
        Files.delete(big);
        Files.delete(out);
    }

    @Test
    void mainJobChecksEveryOpWithinAMinute() throws Exception {
        Run m = soma();
        assertEquals(0, m.code(), m.toString());
        assertTrue(m.out().contains("cpu: 1 device"), m.toString());
        assertTrue(m.out().contains("host copy bandwidth"), m.toString());
        for (dev.soma.op.Op op : dev.soma.op.Op.values()) {
            assertTrue(m.out().contains("\n" + op.id() + " "), op + " missing:\n" + m);
        }
        assertTrue(m.out().matches("(?s).*all \\d+ results match the reference.*"), m.toString());
        assertEquals(List.of(), m.err(), m.toString());
        // The brief: under a minute on two cores. Other builds share this machine, so allow some slack.
        assertTrue(m.seconds() < 90, "main job took " + m.seconds() + " s");
    }

    @Test
    void launcherRunsTheJar() throws Exception {
        Path launcher = Path.of("..", "bin", "soma").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(launcher), launcher + " should be executable");
        // SOMA_NO_BUILD: never start Maven from inside this Maven build.
        Run v = run(List.of(launcher.toString(), "--version"), 120, "SOMA_NO_BUILD", "1",
                "JAVA_HOME", Path.of(java).getParent().getParent().toString());
        assertEquals(0, v.code(), v.toString());
        assertTrue(v.out().startsWith("soma "), v.toString());
        assertEquals(List.of(), v.err(), "the launcher keeps stderr free of JVM notices");
        Run bad = run(List.of(launcher.toString(), "apply", "--op", "nope"), 120, "SOMA_NO_BUILD", "1",
                "JAVA_HOME", Path.of(java).getParent().getParent().toString());
        assertEquals(2, bad.code(), bad.toString());
        assertEquals(1, bad.err().size(), bad.toString());
    }
}
