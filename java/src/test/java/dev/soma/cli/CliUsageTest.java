package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.npy.NpyWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Everything the command line refuses, and its help and version: none of it needs a kernel.
 * Each refusal is exactly one line on stderr starting "soma: ", with the right exit code, and
 * leaves an existing output untouched.
 */
class CliUsageTest {
    @TempDir
    Path dir;
    Path x;
    Path w;
    Path out;
    byte[] outBefore;

    @BeforeEach
    void files() throws IOException {
        x = dir.resolve("x.npy");
        w = dir.resolve("w.npy");
        out = dir.resolve("out.npy");
        NpyWriter.write(x, Tensor.of(new float[] {-2, -1, 0, 1, 2, 3}, 2, 3));
        NpyWriter.write(w, Tensor.of(new float[] {0.25f, 0.5f, 0.75f}));
        NpyWriter.write(out, Tensor.of(new float[] {42}));
        outBefore = Files.readAllBytes(out);
    }

    private CliRunner.Result refused(int code, String expected, String... args) throws IOException {
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(code, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), "exactly one line on stderr:\n" + r);
        String line = r.errLines().get(0);
        assertTrue(line.startsWith("soma: "), line);
        assertTrue(line.contains(expected), "expected '" + expected + "' in: " + line);
        assertFalse(r.err().contains("\tat "), "no stack trace without --debug");
        assertArrayEquals(outBefore, Files.readAllBytes(out), "an existing output is left byte-identical");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".soma-tmp")).toList(),
                    "no temporary file left");
        }
        return r;
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(
            Arguments.of("--alpha does not apply to sigmoid, which takes no parameters", List.of("apply", "--op", "sigmoid", "--alpha", "2")),
            Arguments.of("--beta does not apply to relu", List.of("apply", "--op", "relu", "--beta", "2")),
            Arguments.of("--axis does not apply to gelu", List.of("apply", "--op", "gelu", "--axis", "1")),
            Arguments.of("--safe does not apply to tanh", List.of("apply", "--op", "tanh", "--safe")),
            Arguments.of("--alpha does not apply to softplus, which takes --beta and --threshold", List.of("apply", "--op", "softplus", "--alpha", "1")),
            Arguments.of("--threshold does not apply to leaky_relu, which takes only --alpha", List.of("apply", "--op", "leaky_relu", "--threshold", "3")),
            Arguments.of("--alpha, --beta do not apply to softmax", List.of("apply", "--op", "softmax", "--alpha", "1", "--beta", "1")),
            Arguments.of("--weight does not apply to elu", List.of("apply", "--op", "elu", "--weight", "W")),
            Arguments.of("prelu needs --weight W.npy", List.of("apply", "--op", "prelu")),
            Arguments.of("celu: alpha must be non-zero", List.of("apply", "--op", "celu", "--alpha", "0")),
            Arguments.of("softplus: beta must be finite and > 0, got 0.0", List.of("apply", "--op", "softplus", "--beta", "0")),
            Arguments.of("softplus: beta must be finite and > 0, got -1.0", List.of("backward", "--op", "softplus", "--beta", "-1", "--dy", "DY")),
            Arguments.of("leaky_relu: alpha must be finite, got NaN", List.of("apply", "--op", "leaky_relu", "--alpha", "NaN")),
            Arguments.of("elu: alpha must be finite, got Infinity", List.of("apply", "--op", "elu", "--alpha", "Infinity")),
            Arguments.of("Invalid value for option '--alpha': 'two' is not a double", List.of("apply", "--op", "elu", "--alpha", "two")),
            Arguments.of("Invalid value for option '--axis': 'last' is not an int", List.of("apply", "--op", "softmax", "--axis", "last")),
            Arguments.of("unknown op 'sigmod'; expected one of sigmoid, tanh", List.of("apply", "--op", "sigmod")),
            Arguments.of("unknown backend 'gpu'; use one of auto, cpu, opencl, cuda", List.of("apply", "--op", "relu", "--backend", "gpu")),
            Arguments.of("--weight-grad-out applies only to prelu", List.of("backward", "--op", "relu", "--dy", "DY", "--weight-grad-out", "dw.npy")),
            Arguments.of("--axis 2 does not fit", List.of("apply", "--op", "softmax", "--axis", "2")),
            Arguments.of("axis -3 is out of range for a tensor of rank 2; use an axis in [-2, 1]", List.of("apply", "--op", "log_softmax", "--axis", "-3"))
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageErrors")
    void refusesWithExitCode2(String expected, List<String> args) throws IOException {
        // Complete every command line with real files, so only the tested mistake is wrong.
        List<String> full = new java.util.ArrayList<>(args.stream().map(a -> switch (a) {
            case "W" -> w.toString();
            case "DY" -> x.toString();
            default -> a;
        }).toList());
        if (full.contains("prelu") && !full.contains("--weight") && !expected.contains("needs --weight")) {
            full.addAll(List.of("--weight", w.toString()));
        }
        full.addAll(List.of("--in", x.toString(), "--out", out.toString()));
        refused(2, expected, full.toArray(String[]::new));
    }

    @Test
    void unknownOptionCommandAndMissingOptions() throws IOException {
        refused(2, "unknown option '--bogus'", "apply", "--op", "relu", "--bogus");
        refused(2, "unknown option '--aplha'", "apply", "--op", "elu", "--aplha", "1", "--in", x.toString(), "--out", out.toString());
        refused(2, "unknown command 'frobnicate'; the commands are devices, apply, backward, verify", "frobnicate");
        refused(2, "did you mean verify?", "verfy");
        refused(2, "Missing required option", "apply", "--op", "relu", "--in", x.toString());
        refused(2, "Missing required option: '--dy=DY.npy'", "backward", "--op", "relu", "--in", x.toString(), "--out", out.toString());
        refused(2, "unknown dtype 'int8'; use float32 or float64", "verify", "--dtype", "int8");
        refused(2, "(see 'soma apply --help')", "apply");
    }

    @Test
    void fileProblemsExitWith1() throws IOException {
        Path missing = dir.resolve("missing.npy");
        refused(1, missing + ": no such file", "apply", "--op", "relu", "--in", missing.toString(), "--out", out.toString());
        refused(1, missing + ": no such file", "apply", "--op", "prelu", "--weight", missing.toString(),
                "--in", x.toString(), "--out", out.toString());
        refused(1, missing + ": no such file", "backward", "--op", "relu", "--in", x.toString(), "--dy", missing.toString(),
                "--out", out.toString());
        Path notNpy = Files.writeString(dir.resolve("notes.npy"), "hello");
        refused(1, notNpy + ": not a .npy file", "apply", "--op", "relu", "--in", notNpy.toString(), "--out", out.toString());
        Path ints = dir.resolve("ints.npy");
        Files.copy(CliUsageTest.class.getResourceAsStream("/npy/i8_le_3.npy"), ints);
        refused(1, ints + ": dtype '<i8' (int64) is not supported; Soma reads float32 and float64", "apply", "--op", "relu",
                "--in", ints.toString(), "--out", out.toString());
        Path pickle = dir.resolve("pickle.npy");
        Files.copy(CliUsageTest.class.getResourceAsStream("/npy/object_pickle.npy"), pickle);
        refused(1, "dtype '|O' (object", "apply", "--op", "relu", "--in", pickle.toString(), "--out", out.toString());
        Path cut = dir.resolve("cut.npy");
        Files.copy(CliUsageTest.class.getResourceAsStream("/npy/truncated_2x3.npy"), cut);
        refused(1, "header promises 24 bytes of data ((2, 3) float32) but the file holds 19", "apply", "--op", "relu",
                "--in", cut.toString(), "--out", out.toString());
        refused(1, "directory " + dir.resolve("no/such") + " does not exist", "apply", "--op", "relu", "--backend", "cpu",
                "--in", x.toString(), "--out", dir.resolve("no/such/y.npy").toString());
    }

    @Test
    void unavailableBackendExitsWith1() throws IOException {
        // No CUDA driver on the build machines; where there is one, this test is moot.
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/dev/nvidia0")), "a CUDA device is present");
        refused(1, "cuda backend is not available", "apply", "--op", "relu", "--backend", "cuda",
                "--in", x.toString(), "--out", out.toString());
    }

    @Test
    void debugAddsTheStackTrace() {
        CliRunner.Result r = CliRunner.run("--debug", "apply", "--op", "relu", "--in", dir.resolve("nope.npy").toString(),
                "--out", out.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("soma: "), r.err());
        assertTrue(r.err().contains("\tat "), "stack trace with --debug:\n" + r.err());
    }

    @ParameterizedTest(name = "soma {0} --help")
    @ValueSource(strings = {"", "devices", "apply", "backward", "verify"})
    void helpOnEveryCommand(String command) {
        List<String> args = new java.util.ArrayList<>(command.isEmpty() ? List.of() : List.of(command));
        args.add("--help");
        CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("Usage: soma" + (command.isEmpty() ? "" : " " + command)), r.out());
        assertEquals("", r.err());
        if (command.equals("apply") || command.equals("backward")) {
            for (String opt : List.of("--op", "--alpha", "--beta", "--threshold", "--axis", "--weight", "--safe", "--backend",
                    "--device", "--in", "--out", "--verify")) {
                assertTrue(r.out().contains(opt), opt + " in help");
            }
            assertTrue(r.out().contains("leaky_relu"), "op names in help");
        }
        if (command.isEmpty()) {
            assertTrue(r.out().contains("Ops: sigmoid, tanh"), r.out());
            assertTrue(r.out().contains("2 usage error"), r.out());
        }
    }

    @Test
    void helpCommandAndVersion() {
        CliRunner.Result h = CliRunner.run("help", "apply");
        assertEquals(0, h.code());
        assertTrue(h.out().startsWith("Usage: soma apply"), h.out());
        CliRunner.Result v = CliRunner.run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().matches("(?s)soma \\d+\\.\\d+\\.\\d+.*\nJava 2\\d.*"), v.out());
    }
}
