package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code soma apply} given hostile files, as input or as PReLU weight: one line on stderr, exit 1,
 * nothing on stdout, no temporary file left beside the output and an existing output untouched.
 */
class CliHostileFilesTest {
    @TempDir
    Path dir;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** A version 1.0 file with this header text (unpadded) and data. */
    private static byte[] npy(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(10 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) h.length).put(h).array();
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Objects.requireNonNull(CliHostileFilesTest.class.getResourceAsStream(name), name)) {
            return in.readAllBytes();
        }
    }

    static Stream<String> hostile() {
        return Stream.of("empty", "text", "zip", "truncated-header", "header-length-lie", "object-pickle",
                "petabyte-shape", "overflowing-shape", "rank-65", "short-data", "control-characters", "nested",
                "regression-01", "regression-05");
    }

    private static byte[] bytes(String kind) throws IOException {
        String f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
        return switch (kind) {
            case "empty" -> new byte[0];
            case "text" -> "x,y\n1,2\n".getBytes(StandardCharsets.US_ASCII);
            case "zip" -> "PK\u0003\u0004....".getBytes(StandardCharsets.ISO_8859_1);
            case "truncated-header" -> java.util.Arrays.copyOf(npy(f4 + "(3,)}", 12), 30);
            case "header-length-lie" -> {
                byte[] b = npy(f4 + "(3,)}", 12);
                b[8] = (byte) 0xff;
                b[9] = (byte) 0xff;
                yield b;
            }
            case "object-pickle" -> npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", 24);
            case "petabyte-shape" -> npy(f4 + "(281474976710656,)}", 64);
            case "overflowing-shape" -> npy(f4 + "(4611686018427387903, 4611686018427387903)}", 64);
            case "rank-65" -> npy(f4 + "(" + "1, ".repeat(65) + ")}", 4);
            case "short-data" -> npy(f4 + "(1000,)}", 3996);
            case "control-characters" -> npy("{'descr': '<f4\r\n\u001b[2J', 'fortran_order': False, 'shape': (1,)}", 4);
            case "nested" -> npy("{'descr': " + "(".repeat(5000) + ", 'shape': (1,)}", 0);
            case "regression-01" -> resource("/npy/regressions/01-c1-control-in-header.npy");
            case "regression-05" -> resource("/npy/regressions/05-rank-64-overflowing-shape.npy");
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private static void assertOneLineFailure(CliRunner.Result r, Path named) {
        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out(), r.toString());
        List<String> lines = r.errLines();
        assertEquals(1, lines.size(), r.toString());
        String line = lines.get(0);
        assertTrue(line.startsWith("soma: " + named + ": "), r.toString());
        assertTrue(line.chars().noneMatch(c -> Character.isISOControl(c)), "control character in: " + line);
        assertTrue(line.length() < 800, line.length() + " characters: " + line);
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void hostileInputIsRefusedInOneLineAndTouchesNothing(String kind) throws IOException {
        Path x = Files.write(dir.resolve("x.npy"), bytes(kind));
        Path fresh = dir.resolve("fresh.npy");
        CliRunner.Result r = CliRunner.run("apply", "--op", "relu", "--backend", "cpu", "--in", x.toString(),
                "--out", fresh.toString());
        assertOneLineFailure(r, x);
        assertEquals(List.of("x.npy"), listing(), "no output and no temporary file");

        Path existing = dir.resolve("existing.npy");
        NpyWriter.write(existing, Tensor.of(new float[] {1, 2, 3}));
        byte[] before = Files.readAllBytes(existing);
        r = CliRunner.run("apply", "--op", "gelu", "--op", "softmax", "--backend", "cpu", "--in", x.toString(),
                "--out", existing.toString());
        assertOneLineFailure(r, x);
        assertArrayEquals(before, Files.readAllBytes(existing), "the existing output was changed");
        assertEquals(List.of("existing.npy", "x.npy"), listing());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void hostileWeightIsRefusedInOneLineAndTouchesNothing(String kind) throws IOException {
        Path x = dir.resolve("x.npy");
        NpyWriter.write(x, Tensor.of(new float[] {1, -2, 3, -4, 5, -6}, 2, 3));
        Path w = Files.write(dir.resolve("w.npy"), bytes(kind));
        Path existing = dir.resolve("y.npy");
        Files.writeString(existing, "an older result");
        CliRunner.Result r = CliRunner.run("apply", "--op", "prelu", "--weight", w.toString(), "--backend", "cpu",
                "--in", x.toString(), "--out", existing.toString());
        assertOneLineFailure(r, w);
        assertEquals("an older result", Files.readString(existing));
        assertEquals(List.of("w.npy", "x.npy", "y.npy"), listing());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("emptyShapes")
    void emptyArraysWithHugeDimensionsGoThroughOrFailInOneLine(String shape) throws IOException {
        // Zero elements, so the file is valid whatever the other dimensions claim; every op must
        // either write the empty result or refuse it in one line, never crash on the other dimensions.
        Path x = Files.write(dir.resolve("x.npy"), npy("{'descr': '<f4', 'fortran_order': True, 'shape': " + shape + "}", 0));
        for (String op : List.of("relu", "softmax", "log_softmax")) {
            Path y = dir.resolve("y-" + op + ".npy");
            CliRunner.Result r = CliRunner.run("apply", "--op", op, "--backend", "cpu", "--in", x.toString(),
                    "--out", y.toString());
            if (r.code() == 0) {
                assertEquals("", r.err(), r.toString());
                assertTrue(Files.exists(y), r.toString());
            } else {
                assertEquals(1, r.code(), r.toString());
                assertEquals(1, r.errLines().size(), r.toString());
                assertTrue(!r.err().contains("internal error"), r.toString());
            }
        }
    }

    static Stream<String> emptyShapes() {
        return Stream.of("(0,)", "(0, 4611686018427387903)", "(4611686018427387903, 0)",
                "(2147483648, 0, 2147483648)",
                "(0, " + "1, ".repeat(62) + "7)");
    }
}
