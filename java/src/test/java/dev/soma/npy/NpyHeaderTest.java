package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The header parser: what it accepts, and every refusal with its message. */
class NpyHeaderTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path f = dir.resolve("in.npy");
        Files.write(f, bytes);
        return f;
    }

    private String refusal(byte[] bytes) throws IOException {
        Path f = file(bytes);
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> NpyReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        return e.getMessage();
    }

    private String refusal(String dict, int dataBytes) throws IOException {
        return refusal(NpyTestFiles.file(1, dict, new byte[dataBytes]));
    }

    @Test
    void acceptsPythonSpellings() throws IOException {
        // Double quotes, no trailing comma, extra spaces, keys in another order, Python 2's 3L.
        String dict = "{ \"shape\" : ( 2 , 3L ) , 'fortran_order':False,'descr':\"<f4\" }";
        NpyHeader h = NpyHeader.fromDict("x", dict, 1, 64);
        assertArrayEquals(new long[] {2, 3}, h.shape());
        assertEquals("<f4", h.type().descr());
        assertEquals(0, NpyHeader.fromDict("x", "{'descr': '<f8', 'fortran_order': True, 'shape': ()}", 1, 64).rank());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '#', quoteCharacter = '`', value = {
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), } # dtype '<i8' (int64) is not supported; Soma reads float32 and float64",
        "{'descr': '>u2', 'fortran_order': False, 'shape': (3,), } # dtype '>u2' (uint16)",
        "{'descr': '<c16', 'fortran_order': False, 'shape': (3,), } # dtype '<c16' (complex128)",
        "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), } # dtype '|b1' (bool)",
        "{'descr': '|f4', 'fortran_order': False, 'shape': (3,), } # dtype '|f4' (float32) is not supported",
        "{'descr': '<U5', 'fortran_order': False, 'shape': (3,), } # dtype '<U5' (str)",
        "{'descr': '|O', 'fortran_order': False, 'shape': (3,), } # dtype '|O' (object",
        "{'descr': 5, 'fortran_order': False, 'shape': (3,), } # header 'descr' is 5, not a dtype string",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), } # header 'fortran_order' is 0; expected True or False",
        "{'descr': '<f4', 'fortran_order': False, 'shape': 3, } # header 'shape' is 3; expected a tuple",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3), } # header 'shape' is 3; expected a tuple",
        "{'descr': '<f4', 'fortran_order': False, 'shape': [3], } # header 'shape' is [3]; expected a tuple",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), } # invalid dimension -3 at axis 0",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a'), } # invalid dimension 'a' at axis 1",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), } # invalid dimension 99999999999999999999",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387903, 4), } # has more elements than a 64-bit size can count",
        "{'descr': '<f4', 'fortran_order': False, } # header lacks 'shape'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1} # unexpected key 'x' in the header",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)} # duplicate key 'descr'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk # unexpected text after the end of the literal",
        "{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (3,)} # unexpected character '_'",
        "{'descr': eval('1'), 'fortran_order': False, 'shape': (3,)} # unexpected name 'eval'",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1+2,)} # expected ',' or ')'",
        "{'descr': '<f4 # unterminated string",
        "{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (3,)} # unsupported escape",
        "['descr', '<f4'] # expected a dict literal",
        "` ` # unexpected end of header",
        "{'descr': [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]], 'fortran_order': False, 'shape': (3,)} # nested deeper than 16 levels",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } # header promises 12 bytes of data ((3,) float32) but the file holds 0; the file is truncated",
    })
    void refusesBadHeaders(String dict, String expected) throws IOException {
        String m = refusal(dict, 0);
        assertTrue(m.contains(expected.strip()), m);
    }

    @Test
    void refusesExtraData() throws IOException {
        String m = refusal("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12);
        assertTrue(m.contains("header promises 8 bytes of data ((2,) float32) but the file holds 12; extra bytes"), m);
    }

    @Test
    void refusesBadMagicVersionAndLength() throws IOException {
        assertTrue(refusal("hello world, not an array".getBytes()).contains("not a .npy file"));
        assertTrue(refusal(new byte[0]).contains("not a .npy file"));
        assertTrue(refusal("PK\u0003\u0004rest of a zip".getBytes()).contains("zip archive (.npz?)"));
        byte[] v4 = NpyTestFiles.file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", new byte[0]);
        v4[6] = 4;
        assertTrue(refusal(v4).contains(".npy format version 4.0 is not supported; Soma reads versions 1.0, 2.0 and 3.0"));
        byte[] v11 = NpyTestFiles.file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", new byte[0]);
        v11[7] = 1;
        assertTrue(refusal(v11).contains("version 1.1 is not supported"));

        ByteBuffer huge = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        huge.put(NpyHeader.MAGIC).put((byte) 2).put((byte) 0).putInt(Integer.MAX_VALUE);
        assertTrue(refusal(huge.array()).contains("header length 2147483647 exceeds the 1048576 bytes Soma accepts"));

        ByteBuffer shortHeader = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        shortHeader.put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) 500);
        assertTrue(refusal(shortHeader.array()).contains("file ends inside its header"));

        byte[] badUtf8 = NpyTestFiles.file(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", new byte[0]);
        badUtf8[14] = (byte) 0xff;
        assertTrue(refusal(badUtf8).contains("header is not valid UTF-8"));
    }

    @Test
    void missingFileAndDirectory() {
        Path missing = dir.resolve("nope.npy");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> NpyReader.read(missing));
        assertEquals(missing.toString(), e.getFile());
        NpyFormatException d = assertThrows(NpyFormatException.class, () -> NpyReader.read(dir));
        assertTrue(d.getMessage().contains("is a directory"));
    }
}
