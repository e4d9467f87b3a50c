package dev.soma.npy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a fuzzer's raw bytes into the bytes of a .npy file, so that mutations land where they matter.
 * Purely random bytes almost never get past the magic and the exact data-size check, so most inputs
 * are decoded structurally: the fuzzer mutates the header text and a few knobs, and this class
 * writes the magic, the version, a header length (true, or a lie the fuzzer picks) and a data
 * section (exactly what the header promises when that is small, or a few bytes off, or arbitrary).
 *
 * <p>Layout of an input: byte 0 holds the knobs, then (structured modes) two bytes of header-text
 * length, the header text, and the rest is raw material for the data section.
 * <ul>
 *   <li>bits 0-1: format version 1, 2 or 3; value 3 means "raw": the rest of the input is the file, verbatim;</li>
 *   <li>bit 2: the header length field lies; its value is the next four bytes (little-endian);</li>
 *   <li>bits 3-4: data section: 0 exactly as promised, 1 one element short, 2 some bytes too many,
 *       3 the raw material as it is;</li>
 *   <li>bit 5: pad the header with spaces and a newline to a 64-byte boundary, as NumPy does.</li>
 * </ul>
 * The decoding is deterministic, so a crashing input and the file it stands for are interchangeable.
 */
final class NpyFuzzInput {
    /** Data sections larger than this are never synthesised: the header's claim stays a claim. */
    static final int MAX_SYNTHETIC_DATA = 1 << 20;

    private NpyFuzzInput() {
    }

    /** The .npy file bytes that {@code input} stands for. */
    static byte[] toFile(byte[] input) {
        if (input.length == 0) {
            return input;
        }
        int knobs = input[0] & 0xff;
        int mode = knobs & 3;
        if (mode == 3) {
            return Arrays.copyOfRange(input, 1, input.length);
        }
        int version = mode + 1;
        boolean lie = (knobs & 4) != 0;
        int dataMode = (knobs >> 3) & 3;
        boolean pad = (knobs & 32) != 0;
        int p = 1;
        int claimed = 0;
        if (lie) {
            claimed = p + 4 <= input.length ? ByteBuffer.wrap(input, p, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() : 0;
            p = Math.min(p + 4, input.length);
        }
        int textLen = p + 2 <= input.length ? ((input[p] & 0xff) | (input[p + 1] & 0xff) << 8) : 0;
        p = Math.min(p + 2, input.length);
        textLen = Math.min(textLen, input.length - p);
        byte[] text = Arrays.copyOfRange(input, p, p + textLen);
        byte[] material = Arrays.copyOfRange(input, p + textLen, input.length);
        int prefix = version == 1 ? 10 : 12;
        if (pad) {
            int total = prefix + text.length + 1;
            int padded = (total + NpyHeader.ALIGNMENT - 1) / NpyHeader.ALIGNMENT * NpyHeader.ALIGNMENT;
            byte[] t = Arrays.copyOf(text, padded - prefix);
            Arrays.fill(t, text.length, t.length - 1, (byte) ' ');
            t[t.length - 1] = '\n';
            text = t;
        }
        byte[] data = data(dataMode, version, text, material);
        ByteBuffer b = ByteBuffer.allocate(prefix + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) (lie ? claimed : text.length));
        } else {
            b.putInt(lie ? claimed : text.length);
        }
        return b.put(text).put(data).array();
    }

    private static byte[] data(int dataMode, int version, byte[] text, byte[] material) {
        if (dataMode == 3) {
            return material;
        }
        long promised = promisedBytes(version, text);
        if (promised < 0 || promised > MAX_SYNTHETIC_DATA) {
            return material;
        }
        long n = switch (dataMode) {
            case 0 -> promised;
            case 1 -> Math.max(0, promised - 4);
            default -> promised + 1 + (material.length % 17);
        };
        byte[] d = new byte[(int) n];
        for (int i = 0; i < d.length && material.length > 0; i++) {
            d[i] = material[i % material.length];
        }
        return d;
    }

    /** What the header text promises, as the reader would see it; -1 when it does not parse. */
    private static long promisedBytes(int version, byte[] text) {
        try {
            String s = (version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(text)).toString();
            return NpyHeader.fromDict("fuzz", s, version, 0).dataBytes();
        } catch (CharacterCodingException | NpyFormatException | ArithmeticException e) {
            return -1;
        }
    }

    /** The input that decodes to exactly {@code file} (raw mode). */
    static byte[] raw(byte[] file) {
        byte[] in = new byte[file.length + 1];
        in[0] = 3;
        System.arraycopy(file, 0, in, 1, file.length);
        return in;
    }

    /** A structured input: header text of the given version, correct length, NumPy padding, exact data. */
    static byte[] structured(int version, String dict, byte[] material) {
        byte[] text = dict.getBytes(version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        byte[] in = new byte[3 + text.length + material.length];
        in[0] = (byte) ((version - 1) | 32);
        in[1] = (byte) text.length;
        in[2] = (byte) (text.length >> 8);
        System.arraycopy(text, 0, in, 3, text.length);
        System.arraycopy(material, 0, in, 3 + text.length, material.length);
        return in;
    }
}
