package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.npy.NpyHeader;
import dev.soma.op.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A file of 2^31 + 1000 float32 elements (8 GiB) through {@code soma apply} in a child JVM with a
 * heap of 1 GiB, on the CPU and on OpenCL (streamed: the tensor exceeds PoCL's largest buffer):
 * values checked at the start, on both sides of element 2^31, at the end and every 2^20-th element
 * between. Opt-in (it writes 16 GiB): {@code -Dsoma.hugeTest=true} or SOMA_HUGE_TEST=1; CI runs it
 * once. Each backend's time is printed.
 */
class HugeFileIT {
    static final long N = (1L << 31) + 1000;
    static Path dir;
    static Path input;

    /** Element i of the input: exact in float32, both signs, and different on either side of 2^31. */
    static float valueAt(long i) {
        return (float) ((i % 1_000_003) - 500_001);
    }

    static float expected(long i) {
        float x = valueAt(i);
        return x > 0 ? x : 0.5f * x;  // leaky_relu with alpha 0.5: exact
    }

    static boolean enabled() {
        String env = System.getenv("SOMA_HUGE_TEST");
        return Boolean.getBoolean("soma.hugeTest") || (env != null && env.matches("1|true|yes"));
    }

    @BeforeAll
    static void writeInput() throws IOException {
        Assumptions.assumeTrue(enabled(), "HugeFileIT is opt-in (16 GiB of disk): -Dsoma.hugeTest=true or SOMA_HUGE_TEST=1");
        SomaJarIT.findJar();
        dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "soma-huge");
        long free = Files.getFileStore(dir).getUsableSpace();
        Assumptions.assumeTrue(free > 20L << 30, "HugeFileIT needs 20 GiB free in " + dir + ", has " + (free >> 30) + " GiB");
        input = dir.resolve("x.npy");
        long t0 = System.nanoTime();
        byte[] header = NpyHeader.encode(DType.F32, new long[] {N});
        try (FileChannel ch = FileChannel.open(input, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE); Arena arena = Arena.ofConfined()) {
            ch.write(ByteBuffer.wrap(header), 0);
            MemorySegment data = ch.map(FileChannel.MapMode.READ_WRITE, header.length, N * 4, arena);
            for (long i = 0; i < N; i++) {
                data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, valueAt(i));
            }
            data.force();
        }
        System.out.printf(Locale.ROOT, "HugeFileIT: wrote %d elements in %.1f s%n", N, (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void removeFiles() throws IOException {
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void throughSomaApplyWithA1GiBHeap(String backend) throws Exception {
        Path out = dir.resolve("y-" + backend + ".npy");
        List<String> cmd = new ArrayList<>(List.of(SomaJarIT.java, "-Xmx1g", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", SomaJarIT.jar.toString(), "apply", "--backend", backend,
                "--op", "leaky_relu", "--alpha", "0.5", "--in", input.toString(), "--out", out.toString()));
        if (backend.equals("opencl")) {
            cmd.addAll(List.of("--device-memory", "512M"));
        }
        SomaJarIT.Run r = SomaJarIT.run(cmd, 1200);
        if (backend.equals("opencl") && r.code() == 1 && String.join("\n", r.err()).contains("OpenCL")
                && !Boolean.getBoolean("soma.requireOpenCL")) {
            Assumptions.abort("no OpenCL device: " + r.err());
        }
        assertEquals(0, r.code(), r.toString());
        System.out.printf(Locale.ROOT, "HugeFileIT: %s took %.1f s (%.2f GB/s in+out)%n", backend, r.seconds(),
                N * 8 / r.seconds() / 1e9);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long offset = NpyHeader.encode(DType.F32, new long[] {N}).length;
            assertEquals(offset + N * 4, ch.size());
            MemorySegment y = ch.map(FileChannel.MapMode.READ_ONLY, offset, N * 4, arena);
            List<long[]> ranges = List.of(new long[] {0, 1000}, new long[] {(1L << 31) - 1000, (1L << 31) + 1000},
                    new long[] {N - 1000, N});
            for (long[] range : ranges) {
                for (long i = range[0]; i < range[1]; i++) {
                    check(y, i);
                }
            }
            for (long i = 0; i < N; i += 1 << 20) {
                check(y, i);
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static void check(MemorySegment y, long i) {
        float got = y.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        if (Float.floatToIntBits(got) != Float.floatToIntBits(expected(i))) {
            throw new AssertionError("element " + i + ": expected " + expected(i) + ", got " + got);
        }
    }
}
