package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.npy.NpyArray;
import dev.soma.npy.NpyReader;
import dev.soma.npy.NpyWriter;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.verify.ErrorMetric;
import dev.soma.verify.VerifyCases;
import dev.soma.verify.Verifier;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The commands doing their work, in-process, on the CPU backend; results checked against the reference. */
class CliCommandsTest {
    @TempDir
    Path dir;

    /** Fresh data every run; the seed is in every failure message so a failure can be repeated. */
    private static final long SEED = Long.getLong("soma.test.seed", System.nanoTime());
    private static final SplittableRandom RNG = new SplittableRandom(SEED);

    private Path write(String name, Tensor t) throws IOException {
        Path p = dir.resolve(name);
        NpyWriter.write(p, t);
        return p;
    }

    private static Tensor read(Path p) throws IOException {
        try (NpyArray a = NpyReader.read(p)) {
            return a.tensor().copy();
        }
    }

    private static CliRunner.Result ok(String... args) {
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.err(), r.toString());
        return r;
    }

    private static CliRunner.Result ok(String[] args, long seed) {
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(0, r.code(), r + "\n(-Dsoma.test.seed=" + seed + " repeats this run)");
        assertEquals("", r.err(), r.toString());
        return r;
    }

    /** Extra CLI arguments that exercise each op's parameters. */
    private static List<String> params(Op op) {
        return switch (op) {
            case LEAKY_RELU -> List.of("--alpha", "0.2");
            case ELU, CELU -> List.of("--alpha", "0.7");
            case SOFTPLUS -> List.of("--beta", "2", "--threshold", "10");
            case SOFTMAX, LOG_SOFTMAX -> List.of("--axis", "-2");
            default -> List.of();
        };
    }

    private static OpArgs args(Op op) {
        return switch (op) {
            case LEAKY_RELU -> OpArgs.of(op).withAlpha(0.2);
            case ELU, CELU -> OpArgs.of(op).withAlpha(0.7);
            case SOFTPLUS -> OpArgs.of(op).withBeta(2).withThreshold(10);
            case SOFTMAX, LOG_SOFTMAX -> OpArgs.of(op).withAxis(-2);
            default -> OpArgs.of(op);
        };
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Op.class)
    void applyAndBackwardMatchTheReference(Op op) throws IOException {
        for (DType t : DType.values()) {
            long[] shape = {3, 4, 37};
            Tensor x = VerifyCases.inputs(args(op), t, shape, RNG);
            Tensor dy = VerifyCases.uniform(t, shape, -2, 2, RNG);
            Tensor w = VerifyCases.uniform(t, new long[] {4}, -1, 1, RNG);
            Path xp = write("x.npy", x);
            Path dyp = write("dy.npy", dy);
            Path wp = write("w.npy", w);
            Path yp = dir.resolve("y.npy");
            Path dxp = dir.resolve("dx.npy");
            Path dwp = dir.resolve("dw.npy");
            List<String> common = new ArrayList<>(List.of("--op", op.id(), "--backend", "cpu", "--in", xp.toString()));
            common.addAll(params(op));
            if (op == Op.PRELU) {
                common.addAll(List.of("--weight", wp.toString()));
            }
            List<String> apply = new ArrayList<>(List.of("apply", "--verify", "--out", yp.toString()));
            apply.addAll(common);
            CliRunner.Result r = ok(apply.toArray(String[]::new), SEED);
            assertTrue(r.out().contains("verify: " + op + " forward: max error"), r.out());
            assertTrue(r.out().contains("): ok"), r.out());
            assertTrue(r.out().contains("wrote " + yp), r.out());

            List<String> backward = new ArrayList<>(List.of("backward", "--verify", "--dy", dyp.toString(), "--out", dxp.toString()));
            backward.addAll(common);
            if (op == Op.PRELU) {
                backward.addAll(List.of("--weight-grad-out", dwp.toString()));
            }
            ok(backward.toArray(String[]::new), SEED);

            try (Verifier v = new Verifier(0)) {
                Tensor y = read(yp);
                assertEquals(t, y.dtype());
                assertArrayEquals(shape, y.shape());
                Verifier.Finding f = v.compareForward("y", args(op), x, op == Op.PRELU ? w : null, y);
                assertTrue(f.error() <= ErrorMetric.tolerance(t), f.where() + " error " + f.error()
                        + " (-Dsoma.test.seed=" + SEED + " repeats this run)");
                Tensor dx = read(dxp);
                Tensor dw = op == Op.PRELU ? read(dwp) : null;
                Verifier.Finding g = v.compareBackward("dx", args(op), x, op == Op.PRELU ? w : null, dy, dx, dw);
                assertTrue(g.error() <= ErrorMetric.tolerance(t), g.where() + " error " + g.error()
                        + " (-Dsoma.test.seed=" + SEED + " repeats this run)");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"f4_be_v1_2x3.npy", "f8_le_fortran_3x4.npy", "f4_be_fortran_2x3x4.npy", "f4_le_v1_0d.npy",
        "f8_le_v1_empty_0x3.npy", "f8_be_v3_2x2x2.npy", "f4_le_v1_rank4_2x3x2x2.npy"})
    void everyFileVariantGoesThrough(String fixture) throws IOException, URISyntaxException {
        Path in = Path.of(CliCommandsTest.class.getResource("/npy/" + fixture).toURI());
        Path y = dir.resolve("y.npy");
        ok("apply", "--op", "relu", "--backend", "cpu", "--in", in.toString(), "--out", y.toString());
        Tensor x;
        try (NpyArray a = NpyReader.read(in)) {
            x = a.tensor().copy();
        }
        Tensor out = read(y);
        assertArrayEquals(x.shape(), out.shape());
        assertEquals(x.dtype(), out.dtype());
        for (long i = 0; i < x.elementCount(); i++) {
            assertEquals(Math.max(0, x.get(i)), out.get(i), "element " + i);
        }
        ok("apply", "--op", "softmax", "--backend", "cpu", "--in", in.toString(), "--out", y.toString());
    }

    @Test
    void outputMayReplaceTheInput() throws IOException {
        Path xp = write("x.npy", Tensor.of(new float[] {-1, 0, 2}));
        ok("apply", "--op", "relu6", "--backend", "cpu", "--in", xp.toString(), "--out", xp.toString());
        assertArrayEquals(new float[] {0, 0, 2}, read(xp).toFloatArray());
    }

    @Test
    void negativeAxisCountsFromTheEnd() throws IOException {
        Tensor x = VerifyCases.uniform(DType.F32, new long[] {2, 3, 5}, -3, 3, RNG);
        Path xp = write("x.npy", x);
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        ok("apply", "--op", "softmax", "--axis", "-1", "--backend", "cpu", "--in", xp.toString(), "--out", a.toString());
        ok("apply", "--op", "softmax", "--axis=2", "--backend", "cpu", "--in", xp.toString(), "--out", b.toString());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        ok("apply", "--op", "softmax", "--backend", "cpu", "--in", xp.toString(), "--out", b.toString());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the default axis is the last");
        ok("apply", "--op", "softmax", "--axis", "-3", "--backend", "cpu", "--in", xp.toString(), "--out", b.toString());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b)));
    }

    @Test
    void mismatchedInputsFailWithOneLine() throws IOException {
        Path xp = write("x.npy", Tensor.of(new float[] {1, 2, 3}));
        Path dyp = write("dy.npy", Tensor.of(new float[] {1, 2}));
        Path dy64 = write("dy64.npy", Tensor.of(new double[] {1, 2, 3}));
        Path w5 = write("w5.npy", Tensor.of(new float[] {1, 2, 3, 4, 5}));
        Path x2 = write("x2.npy", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        CliRunner.Result r = CliRunner.run("backward", "--op", "tanh", "--backend", "cpu", "--in", xp.toString(),
                "--dy", dyp.toString(), "--out", dir.resolve("dx.npy").toString());
        assertEquals(1, r.code(), r.toString());
        assertEquals(List.of("soma: dy has shape (2,) but x has (3,); pass a tensor of x's shape"), r.errLines());
        r = CliRunner.run("backward", "--op", "tanh", "--backend", "cpu", "--in", xp.toString(),
                "--dy", dy64.toString(), "--out", dir.resolve("dx.npy").toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("dy is float64 but x is float32"), r.err());
        r = CliRunner.run("apply", "--op", "prelu", "--weight", w5.toString(), "--backend", "cpu", "--in", x2.toString(),
                "--out", dir.resolve("y.npy").toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("weight has 5 elements but x (2, 3) has 3 channel(s) along axis 1"), r.err());
        assertFalse(Files.exists(dir.resolve("dx.npy")));
        assertFalse(Files.exists(dir.resolve("y.npy")));
    }

    @Test
    void devicesListsTheCpu() {
        CliRunner.Result r = ok("devices");
        assertTrue(r.out().startsWith("cpu: 1 device\n  [0] "), r.out());
        assertTrue(r.out().contains("opencl: "), r.out());
        assertTrue(r.out().contains("cuda: "), r.out());
    }

    @Test
    void verifyPrintsATableAndPasses() {
        CliRunner.Result r = ok("verify", "--backend", "cpu", "--op", "gelu", "--op", "softmax", "--op", "tanh", "--seed", "7");
        assertTrue(r.out().contains("seed 7"), r.out());
        assertTrue(r.out().matches("(?s).*cpu +gelu +forward +float32 .* ok\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*cpu +tanh +backward +float64 .* ok\n.*"), r.out());
        assertTrue(r.out().endsWith("verify: 12 passed, 0 failed\n"), r.out());
    }
}
