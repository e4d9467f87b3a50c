package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader's bounds on hostile files, each checked directly (the fuzz test samples them; these
 * pin them): rank, header size, claimed versus actual size, pickles, and one-line messages.
 */
class NpyBoundsTest {
    @TempDir
    Path dir;

    private NpyReadOracle.Outcome check(byte[] file) throws IOException {
        return NpyReadOracle.check(dir.resolve("hostile.npy"), file);
    }

    private static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + "}";
    }

    @Test
    void manyUnitAxesInFortranOrderAreRefusedNotWalked() throws IOException {
        // 60,000 axes of length 1 after 250,000 elements: the Fortran conversion used to walk every
        // axis for every element (1.5e10 steps, 39 s for this 1.2 MB file). NumPy allows 64 axes.
        String shape = "(250000, " + "1, ".repeat(59_999) + ")";
        long t0 = System.nanoTime();
        NpyReadOracle.Outcome o = check(NpyTestFiles.file(2, dict(">f4", true, shape), new byte[4 * 250_000]));
        assertFalse(o.read());
        assertTrue(o.message().contains("header 'shape' has 60000 dimensions; NumPy arrays have at most 64"), o.message());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "took " + (System.nanoTime() - t0) / 1e6 + " ms");
    }

    @Test
    void rank64IsRead() throws IOException {
        String shape = "(" + "1, ".repeat(63) + "2)";
        NpyReadOracle.Outcome o = check(NpyTestFiles.file(1, dict("<f8", true, shape), new byte[16]));
        assertTrue(o.read(), o.message());
        o = check(NpyTestFiles.file(1, dict("<f8", true, "(" + "1, ".repeat(64) + "2)"), new byte[16]));
        assertFalse(o.read());
    }

    @Test
    void claimedSizesAreCheckedAgainstTheFileBeforeAnyAllocation() throws IOException {
        // The oracle fails on heap use beyond 8x the actual file; these headers claim petabytes.
        for (String shape : new String[] {"(1099511627776,)", "(4611686018427387903,)", "(65536, 65536, 65536)",
            "(3037000499, 3037000499)", "(4611686018427387903, 4611686018427387903)", "(0, 4611686018427387903)"}) {
            for (int version = 1; version <= 3; version++) {
                NpyReadOracle.Outcome o = check(NpyTestFiles.file(version, dict("<f4", false, shape), new byte[64]));
                assertFalse(o.read(), shape);
                assertTrue(o.message().contains("header promises") || o.message().contains("64-bit size"), o.message());
            }
        }
        // Empty arrays may have any other dimensions: nothing is allocated for them.
        NpyReadOracle.Outcome o = check(NpyTestFiles.file(1, dict("<f4", true, "(0, 4611686018427387903)"), new byte[0]));
        assertTrue(o.read(), o.message());
    }

    @Test
    void headerLengthIsCappedBeforeItIsRead() throws IOException {
        byte[] big = new byte[12 + NpyHeader.MAX_HEADER_BYTES + 1];
        byte[] head = NpyTestFiles.file(2, dict("<f4", false, "(0,)"), new byte[0]);
        System.arraycopy(head, 0, big, 0, 12);
        int len = NpyHeader.MAX_HEADER_BYTES + 1;
        big[8] = (byte) len;
        big[9] = (byte) (len >> 8);
        big[10] = (byte) (len >> 16);
        big[11] = (byte) (len >> 24);
        NpyReadOracle.Outcome o = check(big);
        assertFalse(o.read());
        assertTrue(o.message().contains("exceeds the 1048576 bytes Soma accepts"), o.message());
    }

    @Test
    void objectArraysAreNeverUnpickled() throws IOException {
        // A real pickle after an object header: refused on the descr, the data is never looked at.
        byte[] pickle = "\u0080\u0004\u0095cos\nsystem\n(S'touch /tmp/pwned'\ntR.".getBytes(StandardCharsets.ISO_8859_1);
        for (String descr : new String[] {"|O", "<O", "O", "|O8"}) {
            NpyReadOracle.Outcome o = check(NpyTestFiles.file(1, dict(descr, false, "(1,)"), pickle));
            assertFalse(o.read());
            assertTrue(o.message().contains("is not supported"), o.message());
        }
        NpyReadOracle.Outcome o = check(NpyTestFiles.file(1,
                "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (1,)}", pickle));
        assertTrue(o.message().contains("a structured dtype"), o.message());
    }

    @Test
    void quotedFileTextIsEscapedAndCut() {
        assertEquals("a\\nb\\rc\\x00d\\x9c\\u2028e", HeaderText.printable("a\nb\rc\u0000d\u009c\u2028e"));
        String cut = HeaderText.printable("x".repeat(500));
        assertTrue(cut.length() <= HeaderText.MAX_QUOTE && cut.endsWith("..."), cut);
        assertTrue(HeaderText.printable("\u0001".repeat(100), 10).matches("(\\\\x01)*\\.\\.\\."));
        assertEquals("café, ü", HeaderText.printable("café, ü"));
    }
}
