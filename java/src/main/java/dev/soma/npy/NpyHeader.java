package dev.soma.npy;

import dev.soma.op.DType;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The header of a .npy file (NumPy's format, versions 1.0, 2.0 and 3.0): magic, version, header
 * length, then a Python dict literal with {@code descr}, {@code fortran_order} and {@code shape}.
 * Reading validates everything before any data is touched: the version, a bounded header length,
 * the dict's exact keys, the dtype, the shape (non-negative, product without overflow) and that
 * the file holds exactly the promised number of data bytes.
 *
 * @param version      the format's major version, 1, 2 or 3
 * @param type         element type and byte order
 * @param fortranOrder true when the data is column-major
 * @param shape        the dimensions (empty for a 0-d array)
 * @param dataOffset   where the data starts in the file
 */
public record NpyHeader(int version, NpyDType type, boolean fortranOrder, long[] shape, long dataOffset) {
    /** "\x93NUMPY". */
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /**
     * The longest header Soma reads. NumPy itself refuses headers over 10,000 bytes unless told
     * otherwise; real headers are a few hundred bytes, so this only stops a corrupt length field
     * from making us allocate gigabytes.
     */
    static final int MAX_HEADER_BYTES = 1 << 20;
    /**
     * The highest rank Soma reads: NumPy's own limit (NPY_MAXDIMS, 64 since NumPy 2). It also bounds
     * the per-element work of the Fortran-order conversion, which walks every axis.
     */
    static final int MAX_RANK = 64;
    /** NumPy pads the header so the data starts on this boundary. */
    static final int ALIGNMENT = 64;

    public NpyHeader {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public DType dtype() {
        return type.dtype();
    }

    public int rank() {
        return shape.length;
    }

    /** Product of the shape (1 for a 0-d array); never overflows, checked on construction from a file. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long dataBytes() {
        return Math.multiplyExact(elementCount(), (long) type.dtype().byteSize());
    }

    /** The header as Python would print the dict, for messages and {@code soma} output. */
    public String describe() {
        return "{'descr': '" + type.descr() + "', 'fortran_order': " + (fortranOrder ? "True" : "False")
                + ", 'shape': " + shapeString(shape) + "}";
    }

    /**
     * Reads and validates the header of the .npy file open on {@code ch}.
     *
     * @param name the file's name, which starts every message
     * @throws NpyFormatException when the file is not a .npy array Soma can read
     */
    public static NpyHeader read(FileChannel ch, String name) throws IOException {
        long size = ch.size();
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre, 0);
        pre.flip();
        int got = pre.remaining();
        byte[] head = new byte[got];
        pre.get(head);
        if (got >= 2 && head[0] == 'P' && head[1] == 'K') {
            throw new NpyFormatException(name + ": this is a zip archive (.npz?), not a .npy file; "
                    + "extract one array (np.load(f)['name']) and save it with np.save");
        }
        if (got < 10 || !Arrays.equals(Arrays.copyOf(head, 6), MAGIC)) {
            throw new NpyFormatException(name + ": not a .npy file (it does not start with NumPy's magic "
                    + "\\x93NUMPY); write arrays with numpy.save");
        }
        int major = head[6] & 0xff;
        int minor = head[7] & 0xff;
        if (!(minor == 0 && major >= 1 && major <= 3)) {
            throw new NpyFormatException(name + ": .npy format version " + major + "." + minor
                    + " is not supported; Soma reads versions 1.0, 2.0 and 3.0");
        }
        ByteBuffer lb = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int prefix;
        if (major == 1) {
            headerLen = lb.getShort(8) & 0xffff;
            prefix = 10;
        } else {
            if (got < 12) {
                throw truncatedHeader(name, size);
            }
            headerLen = lb.getInt(8) & 0xffffffffL;
            prefix = 12;
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new NpyFormatException(name + ": header length " + headerLen + " exceeds the "
                    + MAX_HEADER_BYTES + " bytes Soma accepts; the file is corrupt or was not written by NumPy");
        }
        long dataOffset = prefix + headerLen;
        if (dataOffset > size) {
            throw new NpyFormatException(name + ": file ends inside its header (the header claims "
                    + headerLen + " bytes, the file has " + size + " in all); the file is truncated");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, prefix);
        hb.flip();
        String text;
        try {
            var decoder = (major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            text = decoder.decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw new NpyFormatException(name + ": header is not valid UTF-8 (format 3.0); the file is corrupt");
        }
        NpyHeader h = fromDict(name, text, major, dataOffset);
        long promised;
        try {
            promised = h.dataBytes();
        } catch (ArithmeticException e) {
            throw new NpyFormatException(name + ": shape " + HeaderText.printable(shapeString(h.shape))
                    + " has more elements than a 64-bit size can count; the header is corrupt");
        }
        long held = size - dataOffset;
        if (promised != held) {
            String extra = held > promised
                    ? "; extra bytes after the array (several arrays saved into one file?) are not read by Soma"
                    : "; the file is truncated";
            throw new NpyFormatException(name + ": header promises " + promised + " bytes of data ("
                    + HeaderText.printable(shapeString(h.shape)) + " " + h.dtype().numpyName() + ") but the file holds "
                    + held + extra);
        }
        return h;
    }

    /** Interprets the header's dict literal; package-private for the parser's tests. */
    static NpyHeader fromDict(String name, String text, int version, long dataOffset) throws NpyFormatException {
        Object parsed;
        try {
            parsed = PyLiteralParser.parse(text);
        } catch (IllegalArgumentException e) {
            throw new NpyFormatException(name + ": malformed header (" + e.getMessage() + "): " + snippet(text));
        }
        if (!(parsed instanceof Map<?, ?> dict)) {
            throw new NpyFormatException(name + ": malformed header (expected a dict literal): " + snippet(text));
        }
        for (Object k : dict.keySet()) {
            if (!List.of("descr", "fortran_order", "shape").contains(k)) {
                throw new NpyFormatException(name + ": unexpected key " + PyLiteralParser.repr(k)
                        + " in the header; a .npy header has exactly 'descr', 'fortran_order' and 'shape'");
            }
        }
        for (String k : List.of("descr", "fortran_order", "shape")) {
            if (!dict.containsKey(k)) {
                throw new NpyFormatException(name + ": header lacks '" + k + "': " + snippet(text));
            }
        }
        Object descr = dict.get("descr");
        NpyDType type;
        if (descr instanceof String s) {
            type = NpyDType.parse(name, s);
        } else if (descr instanceof PyLiteralParser.PyList list) {
            throw NpyDType.unsupported(name, snippet(list.toString()) + " (a structured dtype)");
        } else {
            throw new NpyFormatException(name + ": header 'descr' is " + PyLiteralParser.repr(descr)
                    + ", not a dtype string");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new NpyFormatException(name + ": header 'fortran_order' is "
                    + PyLiteralParser.repr(dict.get("fortran_order")) + "; expected True or False");
        }
        if (!(dict.get("shape") instanceof PyLiteralParser.Tuple tuple)) {
            throw new NpyFormatException(name + ": header 'shape' is " + PyLiteralParser.repr(dict.get("shape"))
                    + "; expected a tuple of non-negative integers");
        }
        if (tuple.items().size() > MAX_RANK) {
            throw new NpyFormatException(name + ": header 'shape' has " + tuple.items().size() + " dimensions; "
                    + "NumPy arrays have at most " + MAX_RANK + ", so the header is corrupt");
        }
        long[] shape = new long[tuple.items().size()];
        for (int i = 0; i < shape.length; i++) {
            Object d = tuple.items().get(i);
            if (!(d instanceof BigInteger b) || b.signum() < 0 || b.bitLength() > 62) {
                throw new NpyFormatException(name + ": header 'shape' " + PyLiteralParser.repr(tuple)
                        + " has an invalid dimension " + PyLiteralParser.repr(d) + " at axis " + i
                        + "; dimensions are non-negative integers");
            }
            shape[i] = b.longValueExact();
        }
        return new NpyHeader(version, type, fortran, shape, dataOffset);
    }

    /**
     * The bytes of a version 1.0 header (2.0 if it would not fit) for a C-ordered array in this
     * machine's byte order, padded with spaces so the data starts on a 64-byte boundary.
     */
    public static byte[] encode(DType dtype, long[] shape) {
        NpyDType t = new NpyDType(dtype, ByteOrder.nativeOrder());
        String dict = "{'descr': '" + t.descr() + "', 'fortran_order': False, 'shape': " + shapeString(shape) + ", }";
        int version = dict.length() + 1 + 10 > 0xffff ? 2 : 1;
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        int padded = (total + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        int headerLen = padded - prefix;
        String header = dict + " ".repeat(headerLen - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) headerLen);
        } else {
            b.putInt(headerLen);
        }
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }

    /** Python's tuple syntax: "()", "(3,)", "(2, 3)". */
    static String shapeString(long[] s) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) {
            b.append(i == 0 ? "" : ", ").append(s[i]);
        }
        return b.append(s.length == 1 ? ",)" : ")").toString();
    }

    private static NpyFormatException truncatedHeader(String name, long size) {
        return new NpyFormatException(name + ": file ends inside its header (" + size + " bytes in all); the file is truncated");
    }

    /** The start of the header text, one line, for messages. */
    private static String snippet(String text) {
        return HeaderText.printable(text.strip(), 120);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        long p = at;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                return;
            }
            p += n;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyHeader h && version == h.version && type.equals(h.type)
                && fortranOrder == h.fortranOrder && Arrays.equals(shape, h.shape) && dataOffset == h.dataOffset;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + type.hashCode();
    }

    @Override
    public String toString() {
        return "NpyHeader[v" + version + " " + describe() + " at " + dataOffset + "]";
    }
}
