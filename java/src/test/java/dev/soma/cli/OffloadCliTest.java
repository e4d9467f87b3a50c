package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.Backends;
import dev.soma.fallback.Samples;
import dev.soma.npy.NpyArray;
import dev.soma.npy.NpyReader;
import dev.soma.npy.NpyWriter;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code soma apply} with chains, {@code --device-memory} streaming, progress and {@code --quiet}, in-process. */
class OffloadCliTest {
    @TempDir
    Path dir;

    Path input(String name, long seed, long... shape) throws IOException {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        Tensor t = Tensor.wrap(Samples.input(OpArgs.of(Op.GELU), DType.F32, n, seed), DType.F32, shape);
        Path p = dir.resolve(name);
        NpyWriter.write(p, t);
        return p;
    }

    static void assertSameFile(Path expected, Path actual, boolean exact) throws IOException {
        try (NpyArray e = NpyReader.read(expected); NpyArray a = NpyReader.read(actual)) {
            Tensor te = e.tensor();
            Tensor ta = a.tensor();
            assertTrue(te.sameShape(ta));
            for (long i = 0; i < te.elementCount(); i++) {
                int be = te.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                int ba = ta.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                // Bit for bit, except that a NaN's sign and payload are not part of the contract.
                double x = te.get(i);
                double y = ta.get(i);
                // Within an ulp: the CPU's Vector API kernels may differ by one between JIT tiers.
                boolean close = Double.isFinite(x) && Math.abs(x - y) / Math.max(Math.abs(x), 1e-5) <= 2e-6;
                if (be != ba && !(Double.isNaN(x) && Double.isNaN(y)) && (exact || !close)) {
                    throw new AssertionError("element " + i + " differs: " + te.get(i) + " vs " + ta.get(i));
                }
            }
        }
    }

    @Test
    void aChainEqualsOneOpAtATimeOnTheCpu() throws IOException {
        Path x = input("x.npy", 1, 300, 700);
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        Path chained = dir.resolve("chain.npy");
        assertEquals(0, CliRunner.run("apply", "--backend", "cpu", "--op", "gelu", "--in", x.toString(), "--out", a.toString()).code());
        assertEquals(0, CliRunner.run("apply", "--backend", "cpu", "--op", "softmax", "--axis", "0", "--in", a.toString(),
                "--out", b.toString()).code());
        CliRunner.Result r = CliRunner.run("apply", "--backend", "cpu", "--op", "gelu", "--op", "softmax", "--axis", "0",
                "--in", x.toString(), "--out", chained.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("GELU then SOFTMAX") || r.out().contains("gelu then softmax"), r.toString());
        assertSameFile(b, chained, false);
    }

    @Test
    void aParameterNoOpOfTheChainTakesIsRefused() throws IOException {
        Path x = input("x.npy", 2, 10);
        CliRunner.Result r = CliRunner.run("apply", "--op", "gelu", "--op", "tanh", "--alpha", "0.2", "--in", x.toString(),
                "--out", dir.resolve("y.npy").toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--alpha does not apply to any op of the chain"), r.toString());
        CliRunner.Result v = CliRunner.run("apply", "--op", "gelu", "--op", "tanh", "--verify", "--in", x.toString(),
                "--out", dir.resolve("y.npy").toString());
        assertEquals(2, v.code(), v.toString());
        CliRunner.Result bad = CliRunner.run("apply", "--op", "gelu", "--device-memory", "lots", "--in", x.toString(),
                "--out", dir.resolve("y.npy").toString());
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains("512M"), bad.toString());
        CliRunner.Result back = CliRunner.run("backward", "--op", "gelu", "--op", "tanh", "--in", x.toString(), "--dy",
                x.toString(), "--out", dir.resolve("y.npy").toString());
        assertEquals(2, back.code(), back.toString());
        assertTrue(back.err().contains("takes one --op"), back.toString());
    }

    @Test
    void byteSizes() {
        assertEquals(512L << 20, BackendOptions.parseBytes("512M"));
        assertEquals(2L << 30, BackendOptions.parseBytes("2g"));
        assertEquals(1536L << 20, BackendOptions.parseBytes("1.5GiB"));
        assertEquals(4096, BackendOptions.parseBytes("4096"));
        assertEquals(64L << 10, BackendOptions.parseBytes("64kB"));
    }

    @Test
    void streamedOnOpenClEqualsInMemory() throws IOException {
        Assumptions.assumeTrue(Backends.provider(BackendKind.OPENCL).probe().isAvailable(), "no OpenCL device");
        Path x = input("x.npy", 3, 500, 1000);
        Path mem = dir.resolve("mem.npy");
        Path streamed = dir.resolve("streamed.npy");
        CliRunner.Result r1 = CliRunner.run("apply", "--backend", "opencl", "--op", "silu", "--op", "log_softmax",
                "--in", x.toString(), "--out", mem.toString());
        assertEquals(0, r1.code(), r1.toString());
        CliRunner.Result r2 = CliRunner.run("apply", "--backend", "opencl", "--op", "silu", "--op", "log_softmax",
                "--device-memory", "256K", "--in", x.toString(), "--out", streamed.toString());
        assertEquals(0, r2.code(), r2.toString());
        assertSameFile(mem, streamed, true);
    }

    @Test
    void backwardStreamedOnOpenClEqualsInMemory() throws IOException {
        Assumptions.assumeTrue(Backends.provider(BackendKind.OPENCL).probe().isAvailable(), "no OpenCL device");
        Path x = input("x.npy", 5, 400, 900);
        Path dy = input("dy.npy", 6, 400, 900);
        Path mem = dir.resolve("mem.npy");
        Path streamed = dir.resolve("streamed.npy");
        for (String[] extra : new String[][] {{}, {"--device-memory", "128K"}}) {
            Path out = extra.length == 0 ? mem : streamed;
            List<String> args = new ArrayList<>(List.of("backward", "--backend", "opencl", "--op", "log_softmax", "--in",
                    x.toString(), "--dy", dy.toString(), "--out", out.toString()));
            args.addAll(List.of(extra));
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.toString());
        }
        assertSameFile(mem, streamed, true);
    }

    @Test
    void progressOnlyWhenWantedAndQuietSilencesIt() throws IOException {
        Path x = input("x.npy", 4, 100_000);
        String previous = System.getProperty("soma.progress");
        try {
            System.setProperty("soma.progress", "always");
            CliRunner.Result r = CliRunner.run("apply", "--backend", "cpu", "--op", "relu", "--in", x.toString(),
                    "--out", dir.resolve("y.npy").toString());
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.err().contains("100.0%") && r.err().contains("/s"), r.toString());
            System.clearProperty("soma.progress");
            CliRunner.Result q = CliRunner.run("apply", "--backend", "cpu", "--op", "relu", "--quiet", "--in", x.toString(),
                    "--out", dir.resolve("z.npy").toString());
            assertEquals(0, q.code(), q.toString());
            assertEquals("", q.err(), "not a terminal, or --quiet: no bar");
        } finally {
            if (previous == null) {
                System.clearProperty("soma.progress");
            } else {
                System.setProperty("soma.progress", previous);
            }
        }
        assertFalse(Files.exists(dir.resolve("y.npy.soma-tmp")));
    }

    @Test
    void progressLineReadsWell() {
        ProgressBar b = new ProgressBar(new java.io.PrintWriter(java.io.Writer.nullWriter()), 4L << 30, true);
        String line = b.line(1L << 30, 2.0);
        assertTrue(line.contains(" 25.0% 1.0 GiB / 4.0 GiB  512.0 MiB/s  ETA 0:06"), line);
    }

    @Test
    void deviceMemoryIsIgnoredOnTheCpu() {
        try (Engine e = Engine.create(BackendKind.CPU)) {
            e.setDeviceMemory(1024);
            Tensor x = Tensor.of(new float[] {-1, 0, 1});
            assertEquals(1f, e.forward(Op.RELU, x).toFloatArray()[2]);
        }
    }
}
