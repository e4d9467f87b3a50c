package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every supported variant read back exactly; Soma's own output read back and byte-checked. */
class NpyRoundTripTest {
    @TempDir
    Path dir;

    static final long[][] SHAPES = {{}, {0}, {7}, {3, 5}, {2, 0, 3}, {2, 3, 4}, {3, 1, 4, 2}};

    static Stream<Arguments> variants() {
        List<Arguments> list = new ArrayList<>();
        for (int version = 1; version <= 3; version++) {
            for (boolean f8 : new boolean[] {false, true}) {
                for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
                    for (boolean fortran : new boolean[] {false, true}) {
                        for (long[] shape : SHAPES) {
                            list.add(Arguments.of(version, f8, order, fortran, shape));
                        }
                    }
                }
            }
        }
        return list.stream();
    }

    @ParameterizedTest(name = "v{0} f8={1} {2} fortran={3} shape={4}")
    @MethodSource("variants")
    void readsEveryVariant(int version, boolean f8, ByteOrder order, boolean fortran, long[] shape) throws IOException {
        Path f = NpyTestFiles.write(dir.resolve("a.npy"), version, f8, order, fortran, shape);
        try (NpyArray a = NpyReader.read(f)) {
            Tensor t = a.tensor();
            assertEquals(f8 ? DType.F64 : DType.F32, t.dtype());
            assertArrayEquals(shape, t.shape());
            assertEquals(version, a.header().version());
            for (long i = 0; i < t.elementCount(); i++) {
                assertEquals(NpyTestFiles.value(i), t.get(i), "element " + i);
            }
            boolean needsConversion = order != ByteOrder.nativeOrder() || (fortran && shape.length > 1);
            if (t.elementCount() > 0) {
                assertEquals(!needsConversion, a.isMapped(), "mapped in place exactly when no conversion is needed");
            }
        }
    }

    @ParameterizedTest(name = "write then read {0}")
    @MethodSource("shapes")
    void writerRoundTrips(long[] shape) throws IOException {
        for (DType dt : DType.values()) {
            int n = (int) NpyTestFiles.count(shape);
            Tensor t = Tensor.allocate(dt, shape);
            for (int i = 0; i < n; i++) {
                t.set(i, i % 7 == 3 ? Double.NaN : i % 11 == 5 ? Double.NEGATIVE_INFINITY : NpyTestFiles.value(i));
            }
            Path f = dir.resolve("w-" + dt + ".npy");
            NpyWriter.write(f, t);
            assertEquals(0, (Files.size(f) - t.byteSize()) % 64, "data starts on a 64-byte boundary");
            try (NpyArray a = NpyReader.read(f)) {
                assertArrayEquals(shape, a.tensor().shape());
                assertEquals(dt, a.tensor().dtype());
                assertFalse(a.header().fortranOrder());
                for (int i = 0; i < n; i++) {
                    assertEquals(Double.doubleToLongBits(t.get(i)), Double.doubleToLongBits(a.tensor().get(i)));
                }
            }
        }
    }

    static Stream<long[]> shapes() {
        return Stream.of(SHAPES);
    }

    @Test
    void headerWrittenLikeNumPy() {
        byte[] h = NpyHeader.encode(DType.F32, new long[] {2, 3});
        String text = new String(h, 10, h.length - 10, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals(128, h.length, "NumPy pads this header to 128 bytes too");
        assertEquals(1, h[6]);
        assertTrue(text.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), text);
        assertTrue(text.endsWith("\n"));
        String oneD = new String(NpyHeader.encode(DType.F64, new long[] {5}), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(oneD.contains("'shape': (5,)"), oneD);
        String zeroD = new String(NpyHeader.encode(DType.F64, new long[] {}), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(zeroD.contains("'shape': ()"), zeroD);
    }

    @Test
    void largeFileIsMappedNotCopied() throws IOException {
        // 64 MiB: with a mapping, reading it allocates (almost) nothing on the heap.
        long[] shape = {16L << 20};
        Path f = dir.resolve("big.npy");
        try (NpyOutput out = NpyOutput.create(f, DType.F32, shape)) {
            Tensor t = out.tensor();
            assertFalse(t.isHeap());
            for (long i = 0; i < t.elementCount(); i += 4096) {
                t.set(i, i);
            }
            out.commit();
        }
        try (NpyArray a = NpyReader.read(f)) {
            assertTrue(a.isMapped());
            assertFalse(a.tensor().isHeap());
            assertEquals(4096.0 * 100, a.tensor().get(4096L * 100));
            assertEquals(0.0, a.tensor().get(4097));
        }
    }
}
