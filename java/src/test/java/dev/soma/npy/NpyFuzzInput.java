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

    /**
     * A decoded input: the file, and the header the file's text parses to (null in raw mode, or
     * when the text does not parse), which the fuzz test uses for feedback on shapes.
     */
    record Decoded(byte[] file, NpyHeader header) {
    }

    /** The .npy file bytes that {@code input} stands for. */
    static byte[] toFile(byte[] input) {
        return decode(input).file();
    }

    static Decoded decode(byte[] input) {
        if (input.length == 0) {
            return new Decoded(input, null);
        }
        int knobs = input[0] & 0xff;
        int mode = knobs & 3;
        if (mode == 3) {
            return new Decoded(Arrays.copyOfRange(input, 1, input.length), null);
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
        NpyHeader header = parse(version, text);
        byte[] data = data(dataMode, header, material);
        ByteBuffer b = ByteBuffer.allocate(prefix + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) (lie ? claimed : text.length));
        } else {
            b.putInt(lie ? claimed : text.length);
        }
        return new Decoded(b.put(text).put(data).array(), header);
    }

    /**
     * The data section. Synthesised sections hold element k = k + 1 (all distinct, so that any
     * misplaced element shows), with the fuzzer's material laid over the start (so that it can
     * still place NaN payloads, infinities and the like).
     */
    private static byte[] data(int dataMode, NpyHeader header, byte[] material) {
        long promised = promisedBytes(header);
        if (dataMode == 3 || promised < 0 || promised > MAX_SYNTHETIC_DATA) {
            return material;
        }
        long n = switch (dataMode) {
            case 0 -> promised;
            case 1 -> Math.max(0, promised - 4);
            default -> promised + 1 + (material.length % 17);
        };
        ByteBuffer d = ByteBuffer.allocate((int) n).order(header.type().order());
        int width = header.dtype().byteSize();
        for (int k = 0; (k + 1) * width <= d.capacity(); k++) {
            if (width == 4) {
                d.putFloat(k * 4, k + 1);
            } else {
                d.putDouble(k * 8, k + 1);
            }
        }
        d.put(0, material, 0, Math.min(material.length, d.capacity()));
        return d.array();
    }

    private static long promisedBytes(NpyHeader header) {
        if (header == null) {
            return -1;
        }
        try {
            return header.dataBytes();
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** The header as the reader would see this text; null when it does not parse. */
    private static NpyHeader parse(int version, byte[] text) {
        try {
            String s = (version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(text)).toString();
            return NpyHeader.fromDict("fuzz", s, version, 0);
        } catch (CharacterCodingException | NpyFormatException e) {
            return null;
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
