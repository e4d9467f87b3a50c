package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.npy.NpyWriter;
import dev.soma.op.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code soma apply} writing to a disk that is full, for real: a child process in its own user and
 * mount namespace ({@code unshare -Urm}, no root needed where unprivileged user namespaces are
 * allowed) mounts a 1 MiB tmpfs and runs the CLI in a child JVM with its output there, over an
 * existing output file. Where namespaces are not allowed, the same run under a file-size limit
 * ({@code ulimit -f}, RLIMIT_FSIZE: the kernel refuses to grow the file, EFBIG) stands in. Either
 * way: exit 1 with one line saying the disk is full and how many bytes were needed, the existing
 * output byte for byte as it was, and no temporary file left. Runs once with posix_fallocate (native
 * access on) and once with the pure-Java fallback that touches each block (native access off).
 */
class FaultFullDiskTest {
    @TempDir
    Path dir;

    /** 1 Mi floats: 4 MiB of output, four times the tmpfs. */
    static final long N = 1 << 20;

    private List<String> javaCommand(boolean nativeAccess, Path in, Path out) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:-UsePerfData", "-Xshare:auto", "--add-modules",
                "jdk.incubator.vector"));
        if (nativeAccess) {
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SomaCli.class.getName(), "apply",
                "--backend", "cpu", "--op", "relu", "--in", in.toString(), "--out", out.toString()));
        return cmd;
    }

    private static String quote(List<String> cmd) {
        StringBuilder sb = new StringBuilder();
        for (String c : cmd) {
            sb.append('\'').append(c.replace("'", "'\\''")).append("' ");
        }
        return sb.toString();
    }

    /** Runs sh -c script, returns its combined output; fails on a hang. */
    private static String sh(List<String> prefix, String script) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("sh", "-c", script));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "hung: " + out);
        return out;
    }

    private Path existingOutput() throws IOException {
        Path old = dir.resolve("old.npy");
        NpyWriter.write(old, Tensor.of(new float[] {3f, -1f, 4f, -1f, 5f}, 5));
        return old;
    }

    private Path input() throws IOException {
        Path in = dir.resolve("x.npy");
        Tensor x = Tensor.allocateNative(DType.F32, N);
        for (long i = 0; i < N; i++) {
            x.set(i, (i % 13) - 6);
        }
        NpyWriter.write(in, x);
        x.close();
        return in;
    }

    @Test
    void aFullTmpfsLeavesTheExistingOutputAndNoTemporaryFile() throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "needs Linux namespaces");
        String probe = sh(List.of("unshare", "-Urm"), "mkdir -p '" + dir.resolve("probe") + "' && mount -t tmpfs -o size=64k"
                + " soma-probe '" + dir.resolve("probe") + "' && echo MOUNTED");
        Assumptions.assumeTrue(probe.contains("MOUNTED"), "cannot mount a tmpfs in a user namespace here (" + probe.strip()
                + "); aFileSizeLimitLeavesTheExistingOutputAndNoTemporaryFile covers the full disk instead");
        Path in = input();
        Path old = existingOutput();
        for (boolean nativeAccess : new boolean[] {true, false}) {
            Path small = dir.resolve("small-" + nativeAccess);
            Path after = dir.resolve("after-" + nativeAccess);
            Files.createDirectories(small);
            Files.createDirectories(after);
            Path out = small.resolve("y.npy");
            String script = "mount -t tmpfs -o size=1m soma-full '" + small + "' || exit 3\n"
                    + "cp '" + old + "' '" + out + "'\n"
                    + quote(javaCommand(nativeAccess, in, out)) + " >/dev/null 2>'" + after.resolve("stderr.txt") + "'\n"
                    + "echo $? > '" + after.resolve("rc.txt") + "'\n"
                    + "df -k '" + small + "' > '" + after.resolve("df.txt") + "'\n"
                    + "cp -a '" + small + "/.' '" + after.resolve("disk") + "/'\n";
            Files.createDirectories(after.resolve("disk"));
            String log = sh(List.of("unshare", "-Urm"), script);
            checkRun(after, old, "tmpfs, native access " + nativeAccess + ": " + log, "no space left on device");
        }
    }

    @Test
    void aFileSizeLimitLeavesTheExistingOutputAndNoTemporaryFile() throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "needs ulimit -f");
        Path in = input();
        Path old = existingOutput();
        Path after = dir.resolve("after-limit");
        Path disk = after.resolve("disk");
        Files.createDirectories(disk);
        Path out = disk.resolve("y.npy");
        Files.copy(old, out);
        // 2048 blocks of 512 or 1024 bytes (shells differ): at most 2 MiB, half the output.
        String script = "ulimit -f 2048 && " + quote(javaCommand(true, in, out)) + " >/dev/null 2>'"
                + after.resolve("stderr.txt") + "'";
        sh(List.of(), script + "; echo $? > '" + after.resolve("rc.txt") + "'");
        checkRun(after, old, "RLIMIT_FSIZE", "file too large");
    }

    private static void checkRun(Path after, Path old, String what, String reason) throws IOException {
        String err = Files.readString(after.resolve("stderr.txt"), StandardCharsets.UTF_8);
        List<String> lines = err.lines().filter(l -> !l.contains("libjsig") && !l.contains("incubator modules")
                && !l.contains("vector")).toList();
        assertEquals("1", Files.readString(after.resolve("rc.txt")).strip(), what + ": " + err);
        assertEquals(1, lines.size(), what + ": one line on stderr: " + err);
        String line = lines.get(0);
        assertTrue(line.startsWith("soma: ") && line.contains("y.npy: " + reason) && line.contains("needs "
                + (N * 4) + " bytes"), what + ": " + line);
        assertFalse(line.contains("internal error") || line.contains("Exception"), line);
        assertArrayEquals(Files.readAllBytes(old), Files.readAllBytes(after.resolve("disk").resolve("y.npy")),
                what + ": the existing output must be untouched");
        try (Stream<Path> files = Files.list(after.resolve("disk"))) {
            List<String> left = files.map(f -> f.getFileName().toString()).filter(n -> !n.equals("y.npy")).toList();
            assertEquals(List.of(), left, what + ": temporary files left behind");
        }
    }
}
