package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Files written by NumPy itself (src/test/resources/npy, made by make_fixtures.py there): each
 * float fixture holds arange(n) * 0.25 - 1 in logical C order.
 */
class NpyFixtureTest {

    static Path fixture(String name) {
        try {
            return Path.of(NpyFixtureTest.class.getResource("/npy/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test fixture " + name, e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "f4_le_v1_2x3.npy; F32; 2 3; 1",
        "f4_be_v1_2x3.npy; F32; 2 3; 1",
        "f8_le_v1_3x4.npy; F64; 3 4; 1",
        "f8_be_v1_3x4.npy; F64; 3 4; 1",
        "f4_le_v2_5.npy; F32; 5; 2",
        "f8_be_v3_2x2x2.npy; F64; 2 2 2; 3",
        "f4_le_v1_0d.npy; F32; ; 1",
        "f8_le_v1_empty_0x3.npy; F64; 0 3; 1",
        "f4_le_v1_rank4_2x3x2x2.npy; F32; 2 3 2 2; 1",
        "f8_le_fortran_3x4.npy; F64; 3 4; 1",
        "f4_be_fortran_2x3x4.npy; F32; 2 3 4; 1",
    })
    void readsNumPyFiles(String name, DType dtype, String dims, int version) throws IOException {
        long[] shape = dims == null ? new long[0]
                : java.util.Arrays.stream(dims.trim().split(" ")).mapToLong(Long::parseLong).toArray();
        try (NpyArray a = NpyReader.read(fixture(name))) {
            Tensor t = a.tensor();
            assertEquals(dtype, t.dtype());
            assertArrayEquals(shape, t.shape());
            assertEquals(version, a.header().version());
            assertEquals(NpyTestFiles.count(shape), t.elementCount());
            for (long i = 0; i < t.elementCount(); i++) {
                assertEquals(NpyTestFiles.value(i), t.get(i), name + " element " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "i8_le_3.npy; dtype '<i8' (int64) is not supported; Soma reads float32 and float64",
        "f2_le_3.npy; dtype '<f2' (float16) is not supported",
        "object_pickle.npy; dtype '|O' (object: Python objects, a pickle) is not supported",
        "structured.npy; (a structured dtype) is not supported",
        "truncated_2x3.npy; header promises 24 bytes of data ((2, 3) float32) but the file holds 19; the file is truncated",
    })
    void refusesWithMessage(String name, String expected) {
        Path f = fixture(name);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> NpyReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
