package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.npy.NpyWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way to misuse the command line that CliUsageTest does not already try, from one table:
 * each must exit non-zero with the expected code, print exactly one line on stderr that starts
 * with "soma" and contains the expected text, print no stack trace, leave an existing output
 * byte-identical and leave no temporary or half-written file. The README's guarantees quote the
 * count printed here (plus CliUsageTest's and BenchCommandUsageTest's).
 */
class CliRefusalTest {
    @TempDir
    Path dir;

    /** A command line that must be refused, its exit code, and a piece of its one line. */
    record Refusal(int code, String expected, String... args) {
    }

    static List<Refusal> table() {
        List<Refusal> t = new ArrayList<>();
        // ---- usage errors: exit 2
        t.add(new Refusal(2, "--verify checks one op", "apply", "--op", "gelu", "--op", "tanh", "--verify", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "this command takes one --op, got 2", "backward", "--op", "gelu", "--op", "tanh", "--in", "X",
                "--dy", "DY", "--out", "OUT"));
        t.add(new Refusal(2, "--weight-grad-out and --out are the same file", "backward", "--op", "prelu", "--weight", "W3",
                "--in", "X", "--dy", "DY", "--out", "OUT", "--weight-grad-out", "OUT"));
        t.add(new Refusal(2, "unknown op 'gelu rm -rf'", "apply", "--op", "gelu\nrm -rf", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "unknown op '?[31mred'", "apply", "--op", "\u001b[31mred", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "unknown op ''", "apply", "--op", "", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "elu: alpha must be finite, got Infinity", "apply", "--op", "elu", "--alpha", "1e400", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "leaky_relu: alpha must be finite, got -Infinity", "apply", "--op", "leaky_relu", "--alpha", "-Infinity",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "softplus: threshold must be finite, got NaN", "apply", "--op", "softplus", "--threshold", "NaN",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "softplus: beta must be finite and > 0, got Infinity", "apply", "--op", "softplus", "--beta", "Infinity",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "'inf' is not a double", "apply", "--op", "softplus", "--beta", "inf", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "celu: alpha must be non-zero", "backward", "--op", "celu", "--alpha", "-0", "--in", "X", "--dy", "DY",
                "--out", "OUT"));
        t.add(new Refusal(2, "'99999999999' is not an int", "apply", "--op", "softmax", "--axis", "99999999999", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "--axis 1 does not fit", "apply", "--op", "softmax", "--axis", "1", "--in", "X0", "--out", "OUT"));
        t.add(new Refusal(2, "--axis 3 does not fit", "apply", "--op", "gelu", "--op", "softmax", "--axis", "3", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "--axis -3 does not fit", "backward", "--op", "log_softmax", "--axis", "-3", "--in", "X", "--dy", "DY",
                "--out", "OUT"));
        t.add(new Refusal(2, "size '0' must be at least 1 byte", "apply", "--op", "relu", "--device-memory", "0", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "'lots' is not a size", "apply", "--op", "relu", "--device-memory", "lots", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "size '-5M' must be at least 1 byte", "apply", "--op", "relu", "--device-memory", "-5M", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "size '1e30T' is beyond any device", "apply", "--op", "relu", "--device-memory", "1e30T", "--in", "X",
                "--out", "OUT"));
        t.add(new Refusal(2, "'NaN' is not a size", "apply", "--op", "relu", "--device-memory", "NaN", "--in", "X",
                "--out", "OUT"));
        t.add(new Refusal(2, "unexpected argument 'extra'", "apply", "--op", "relu", "--in", "X", "--out", "OUT", "extra"));
        t.add(new Refusal(2, "should be specified only once", "apply", "--op", "prelu", "--weight", "W3", "--weight", "W3",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "should be specified only once", "apply", "--op", "relu", "--in", "X", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "Missing required parameter for option '--alpha'", "apply", "--op", "elu", "--in", "X", "--out", "OUT",
                "--alpha"));
        t.add(new Refusal(2, "Missing required option: '--op=OP'", "apply", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(2, "unknown option '--bogus'", "devices", "--bogus"));
        t.add(new Refusal(2, "unexpected argument 'extra'", "devices", "extra"));
        t.add(new Refusal(2, "unknown option '--bogus'", "--bogus"));
        t.add(new Refusal(2, "Unknown subcommand 'nosuch'", "help", "nosuch"));
        t.add(new Refusal(2, "Missing required parameter for option '--op'", "verify", "--op"));
        t.add(new Refusal(2, "unknown option '--bogus'", "bench", "--bogus"));
        t.add(new Refusal(2, "Missing required parameter for option '--sizes'", "bench", "--sizes"));
        t.add(new Refusal(2, "unknown op 'sigmod'", "verify", "--op", "sigmod"));
        t.add(new Refusal(2, "unknown backend 'gpu'", "verify", "--backend", "gpu"));
        t.add(new Refusal(2, "Invalid value for option '--seed'", "verify", "--seed", "x"));
        t.add(new Refusal(2, "unknown dtype 'f16'", "verify", "--dtype", "f16"));
        t.add(new Refusal(2, "--format: unknown format 'xml'", "bench", "--backend", "cpu", "--format", "xml"));
        t.add(new Refusal(2, "--backend: name the backends to time", "bench", "--backend", "auto"));
        t.add(new Refusal(2, "--sizes: '-4' is not a size", "bench", "--backend", "cpu", "--sizes", "-4"));

        // ---- failures: exit 1, a problem with the data, the files or the machine
        t.add(new Refusal(1, "weight has 2 elements but x (2, 3) has 3 channel(s) along axis 1; pass 1 or 3 weights", "apply",
                "--op", "prelu", "--weight", "W2", "--backend", "cpu", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "weight must be 1-D, got shape (1, 3)", "apply", "--op", "prelu", "--weight", "W2D", "--backend", "cpu",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "weight is float64 but x is float32", "apply", "--op", "prelu", "--weight", "W64", "--backend", "cpu",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "weight is float32 but x is float64", "apply", "--op", "prelu", "--weight", "W3", "--backend", "cpu",
                "--in", "X64", "--out", "OUT"));
        t.add(new Refusal(1, "weight has 3 elements but x () has 1 channel(s) along axis 1; pass 1 weight", "apply", "--op", "prelu", "--weight", "W3",
                "--backend", "cpu", "--in", "X0", "--out", "OUT"));
        t.add(new Refusal(1, "weight has 2 elements", "apply", "--op", "gelu", "--op", "prelu", "--weight", "W2", "--backend", "cpu",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "weight has 2 elements", "backward", "--op", "prelu", "--weight", "W2", "--backend", "cpu",
                "--in", "X", "--dy", "DY", "--out", "OUT", "--weight-grad-out", "DW"));
        t.add(new Refusal(1, "dy has shape (3, 2) but x has (2, 3); pass a tensor of x's shape", "backward", "--op", "gelu",
                "--backend", "cpu", "--in", "X", "--dy", "DY32", "--out", "OUT"));
        t.add(new Refusal(1, "dy is float64 but x is float32", "backward", "--op", "softmax", "--backend", "cpu",
                "--in", "X", "--dy", "DY64", "--out", "OUT"));
        t.add(new Refusal(1, "dy has shape (3, 2) but x has (2, 3)", "backward", "--op", "prelu", "--weight", "W3", "--backend", "cpu",
                "--in", "X", "--dy", "DY32", "--out", "OUT", "--weight-grad-out", "DW"));
        t.add(new Refusal(1, "is a directory, not a .npy file", "apply", "--op", "relu", "--backend", "cpu", "--in", "DIR", "--out", "OUT"));
        t.add(new Refusal(1, "is a directory, not a .npy file", "apply", "--op", "prelu", "--weight", "DIR", "--backend", "cpu",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "is a directory; give a file name for the output", "apply", "--op", "relu", "--backend", "cpu",
                "--in", "X", "--out", "DIR"));
        t.add(new Refusal(1, "does not exist; create it first", "backward", "--op", "prelu", "--weight", "W3", "--backend", "cpu",
                "--in", "X", "--dy", "DY", "--out", "OUT", "--weight-grad-out", "NODIR"));
        t.add(new Refusal(1, "malformed header", "apply", "--op", "relu", "--backend", "cpu", "--in", "NEWLINE_HEADER", "--out", "OUT"));
        t.add(new Refusal(1, "bad name.npy: no such file", "apply", "--op", "relu", "--backend", "cpu", "--in", "NEWLINE_NAME",
                "--out", "OUT"));
        t.add(new Refusal(1, "empty.npy: ", "apply", "--op", "relu", "--backend", "cpu", "--in", "EMPTY", "--out", "OUT"));
        t.add(new Refusal(1, "(float16) is not supported", "apply", "--op", "relu", "--backend", "cpu", "--in", "F16", "--out", "OUT"));
        t.add(new Refusal(1, "dtype '<i8' (int64) is not supported", "apply", "--op", "prelu", "--weight", "I64", "--backend", "cpu",
                "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "dtype '|O' (object", "backward", "--op", "tanh", "--backend", "cpu", "--in", "X", "--dy", "PICKLE",
                "--out", "OUT"));
        t.add(new Refusal(1, "structured dtype", "backward", "--op", "tanh", "--backend", "cpu", "--in", "STRUCT", "--dy", "DY",
                "--out", "OUT"));
        t.add(new Refusal(1, "the CPU backend has one device, 0; got --device 7", "apply", "--op", "relu", "--backend", "cpu",
                "--device", "7", "--in", "X", "--out", "OUT"));
        t.add(new Refusal(1, "nothing to verify: no device matches --backend cpu --device 9", "verify", "--backend", "cpu",
                "--device", "9"));
        return t;
    }

    private Map<String, Path> files() throws IOException {
        Path x = write("x.npy", Tensor.of(new float[] {-2, -1, 0, 1, 2, 3}, 2, 3));
        Path newlineHeader = dir.resolve("newline_header.npy");
        Files.write(newlineHeader, npyWithHeader("{'descr':\n eval('<f4'), 'fortran_order': False, 'shape': (2,), }"));
        Path empty = Files.write(dir.resolve("empty.npy"), new byte[0]);
        Path noDir = dir.resolve("no-such-dir").resolve("dw.npy");
        return Map.ofEntries(
                Map.entry("X", x),
                Map.entry("X64", write("x64.npy", Tensor.of(new double[] {-2, -1, 0, 1, 2, 3}, 2, 3))),
                Map.entry("X0", write("x0.npy", scalar(1.5))),
                Map.entry("W3", write("w3.npy", Tensor.of(new float[] {0.25f, 0.5f, 0.75f}))),
                Map.entry("W2", write("w2.npy", Tensor.of(new float[] {0.25f, 0.5f}))),
                Map.entry("W2D", write("w2d.npy", Tensor.of(new float[] {0.25f, 0.5f, 0.75f}, 1, 3))),
                Map.entry("W64", write("w64.npy", Tensor.of(new double[] {0.25, 0.5, 0.75}))),
                Map.entry("DY", write("dy.npy", Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 2, 3))),
                Map.entry("DY32", write("dy32.npy", Tensor.of(new float[] {1, 1, 1, 1, 1, 1}, 3, 2))),
                Map.entry("DY64", write("dy64.npy", Tensor.of(new double[] {1, 1, 1, 1, 1, 1}, 2, 3))),
                Map.entry("OUT", write("out.npy", Tensor.of(new float[] {42}))),
                Map.entry("DW", dir.resolve("dw.npy")),
                Map.entry("DIR", Files.createDirectories(dir.resolve("a-folder.npy"))),
                Map.entry("NODIR", noDir),
                Map.entry("NEWLINE_HEADER", newlineHeader),
                Map.entry("NEWLINE_NAME", dir.resolve("bad\nname.npy")),
                Map.entry("EMPTY", empty),
                Map.entry("F16", resource("f2_le_3.npy")),
                Map.entry("I64", resource("i8_le_3.npy")),
                Map.entry("PICKLE", resource("object_pickle.npy")),
                Map.entry("STRUCT", resource("structured.npy")));
    }

    private static Tensor scalar(double v) {
        Tensor t = Tensor.allocate(dev.soma.op.DType.F32);
        t.set(0, v);
        return t;
    }

    private Path write(String name, Tensor t) throws IOException {
        Path p = dir.resolve(name);
        NpyWriter.write(p, t);
        return p;
    }

    private Path resource(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = CliRefusalTest.class.getResourceAsStream("/npy/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** A version 1.0 .npy file with this header text (padded to 64 bytes) and 8 bytes of data. */
    static byte[] npyWithHeader(String dict) {
        int len = dict.length() + 1;
        int padded = (10 + len + 63) / 64 * 64 - 10;
        String header = dict + " ".repeat(padded - len) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + padded + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) padded);
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }

    /** Runs one refusal in a fresh set of files and checks how it was refused. */
    private void refuse(Refusal r) throws IOException {
        Map<String, Path> files = files();
        Map<Path, byte[]> before = new java.util.HashMap<>();
        for (Path p : files.values()) {
            if (Files.isRegularFile(p)) {
                before.put(p, Files.readAllBytes(p));
            }
        }
        String[] args = Arrays.stream(r.args()).map(a -> files.containsKey(a) ? files.get(a).toString() : a).toArray(String[]::new);
        String what = String.join(" ", r.args());
        CliRunner.Result res = CliRunner.run(args);
        assertEquals(r.code(), res.code(), what + "\n" + res);
        assertEquals(1, res.errLines().size(), what + ": exactly one line on stderr\n" + res);
        String line = res.errLines().get(0);
        System.out.println("  exit " + res.code() + ": " + line);
        assertTrue(line.startsWith("soma"), what + ": " + line);
        assertTrue(line.contains(r.expected()), what + ": expected '" + r.expected() + "' in: " + line);
        assertFalse(res.err().contains("\tat ") || res.err().contains("Exception"), what + ": no stack trace, no class names: " + res.err());
        assertEquals("", res.out(), what + ": nothing on stdout");
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), Files.readAllBytes(e.getKey()), what + ": " + e.getKey() + " changed");
        }
        assertFalse(Files.exists(files.get("DW")), what + ": no dL/dw written");
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> temps = s.filter(p -> p.getFileName().toString().endsWith(".soma-tmp")).toList();
            assertEquals(List.of(), temps, what + ": no temporary file left");
        }
    }

    @Test
    void everyCliRefusalIsOneLineAndANonZeroExit() {
        List<Refusal> table = table();
        List<Executable> checks = new ArrayList<>();
        for (Refusal r : table) {
            checks.add(() -> {
                clean();
                refuse(r);
            });
        }
        assertAll(checks.stream());
        System.out.println("CliRefusalTest: " + table.size() + " bad command lines tried, " + table.size()
                + " refused with one line and a non-zero exit");
        assertTrue(table.size() >= 50, "the table shrank to " + table.size());
        dev.soma.ReadmeFigure.check("`CliRefusalTest` \\((\\d+) command lines\\)", table.size());
    }

    /** Each row starts from an empty folder. */
    private void clean() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}
