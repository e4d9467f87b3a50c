package dev.soma.npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes .npy files of every variant, independently of {@link NpyWriter}, for the reader's tests. */
final class NpyTestFiles {
    private NpyTestFiles() {
    }

    /** The value every test file holds at flat C index {@code i}: distinct, exact in float32. */
    static double value(long i) {
        return i * 0.25 - 1;
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Raw file bytes: magic, version, header length, the given header text (padded), then data. */
    static byte[] file(int version, String dict, byte[] data) {
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - total) + "\n";
        byte[] hb = header.getBytes(version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(prefix + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) hb.length);
        } else {
            b.putInt(hb.length);
        }
        return b.put(hb).put(data).array();
    }

    /**
     * A file of {@code shape} holding {@link #value} in logical C order, stored as asked:
     * float32 or float64 ({@code f8}), byte order, Fortran or C memory order, format version.
     */
    static Path write(Path file, int version, boolean f8, ByteOrder order, boolean fortran, long... shape)
            throws IOException {
        int size = f8 ? 8 : 4;
        int n = (int) count(shape);
        ByteBuffer data = ByteBuffer.allocate(n * size).order(order);
        for (int k = 0; k < n; k++) {
            // Storage position k holds the logical element whose C index is cIndex(k).
            long c = fortran ? fortranPositionToCIndex(k, shape) : k;
            if (f8) {
                data.putDouble(value(c));
            } else {
                data.putFloat((float) value(c));
            }
        }
        String descr = (order == ByteOrder.LITTLE_ENDIAN ? "<" : ">") + (f8 ? "f8" : "f4");
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False")
                + ", 'shape': " + NpyHeader.shapeString(shape) + ", }";
        Files.write(file, file(version, dict, data.array()));
        return file;
    }

    /** The C index of the element stored at position {@code k} of a Fortran-ordered array. */
    static long fortranPositionToCIndex(long k, long[] shape) {
        long c = 0;
        long rest = k;
        long[] idx = new long[shape.length];
        for (int a = 0; a < shape.length; a++) {
            idx[a] = rest % shape[a];
            rest /= shape[a];
        }
        for (int a = 0; a < shape.length; a++) {
            c = c * shape[a] + idx[a];
        }
        return c;
    }
}
