package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.npy.NpyWriter;
import dev.soma.op.DType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C (SIGINT) to a child {@code soma apply} or {@code soma backward} in the middle of a stream: the JVM exits cleanly
 * (130, no stack trace), the output file from an earlier run is byte for byte as it was, and no
 * temporary file remains.
 */
class CancelIT {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"apply", "backward"})
    void sigintMidStreamLeavesTheExistingOutputAndNoTemporaryFile(String command) throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "needs kill -INT");
        SomaJarIT.findJar();
        // 64 Mi floats through a 64 KiB device budget: thousands of chunks, seconds of work.
        Tensor x = Tensor.allocateNative(DType.F32, 64L << 20);
        for (long i = 0; i < x.elementCount(); i += 4099) {
            x.set(i, i % 7 - 3);
        }
        Path in = dir.resolve("x.npy");
        NpyWriter.write(in, x);
        x.close();
        Path out = dir.resolve("y.npy");
        // An output from an earlier run: a cancelled run must leave it exactly as it was.
        NpyWriter.write(out, Tensor.of(new float[] {2f, 7f, 1f, 8f, 2f, 8f}, 2, 3));
        byte[] before = Files.readAllBytes(out);
        List<String> cmd = new ArrayList<>(List.of(SomaJarIT.java, "-Xmx1g", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", SomaJarIT.jar.toString(), command, "--backend", "opencl",
                "--device-memory", "64K", "--in", in.toString(), "--out", out.toString()));
        cmd.addAll(command.equals("apply") ? List.of("--op", "gelu", "--op", "tanh") : List.of("--op", "tanh", "--dy", in.toString()));
        Path err = dir.resolve("err.txt");
        Process p = SomaJarIT.childJvm(cmd).redirectError(err.toFile()).redirectOutput(dir.resolve("out.txt").toFile()).start();
        boolean started = false;
        for (int i = 0; i < 600 && p.isAlive() && !started; i++) {
            Thread.sleep(50);
            try (var files = Files.list(dir)) {
                started = files.anyMatch(f -> f.getFileName().toString().endsWith(".soma-tmp"));
            }
        }
        if (!started) {
            p.waitFor(60, TimeUnit.SECONDS);
            String e = Files.readString(err, StandardCharsets.UTF_8);
            Assumptions.assumeTrue(!e.contains("OpenCL") || Boolean.getBoolean("soma.requireOpenCL"), "no OpenCL: " + e);
            throw new AssertionError("soma " + command + " never started writing: exit " + p.exitValue() + ", " + e);
        }
        Thread.sleep(700);  // well into the stream
        assertTrue(p.isAlive(), "the run finished before it could be interrupted; make the input larger");
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "soma " + command + " did not exit after SIGINT");
        String e = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(130, p.exitValue(), e);
        assertFalse(e.contains("Exception") || e.contains("\tat "), "no stack trace on Ctrl-C: " + e);
        assertArrayEquals(before, Files.readAllBytes(out), "the existing output must be untouched by a cancelled run");
        try (var files = Files.list(dir)) {
            List<String> left = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".soma-tmp")).toList();
            assertTrue(left.isEmpty(), "temporary files left: " + left);
        }
    }
}
