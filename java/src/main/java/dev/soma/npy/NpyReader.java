package dev.soma.npy;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads .npy files (format 1.0, 2.0, 3.0; float32 and float64, either byte order, C or Fortran
 * order, any rank including 0-d and empty) into tensors without copying them onto the heap.
 * The header is validated in full before the data is mapped.
 */
public final class NpyReader {
    private NpyReader() {
    }

    /**
     * Opens {@code file}: validates its header, then maps its data.
     *
     * @throws NpyFormatException  when it is not a .npy array Soma can read (message names the file and the problem)
     * @throws NoSuchFileException when it does not exist
     * @throws IOException         on other read failures
     */
    public static NpyArray read(Path file) throws IOException {
        if (file == null) {
            throw new NullPointerException("file is null; pass the path of a .npy file");
        }
        String name = file.toString();
        if (Files.isDirectory(file)) {
            throw new NpyFormatException(name + ": is a directory, not a .npy file");
        }
        try (FileChannel ch = openRead(file, name)) {
            NpyHeader h = NpyHeader.read(ch, name);
            return load(ch, h);
        }
    }

    private static FileChannel openRead(Path file, String name) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(name, null, "no such file");
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException(name, null, "permission denied");
        }
    }

    private static NpyArray load(FileChannel ch, NpyHeader h) throws IOException {
        DType t = h.dtype();
        long[] shape = h.shape();
        long bytes = h.dataBytes();
        if (bytes == 0) {
            return new NpyArray(h, Tensor.allocate(t, shape), () -> { }, false);
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), bytes, arena);
            boolean nativeOrder = h.type().order() == ByteOrder.nativeOrder();
            boolean cOrder = !h.fortranOrder() || shape.length <= 1;
            boolean aligned = file.address() % t.byteSize() == 0;
            if (nativeOrder && cOrder && aligned) {
                return new NpyArray(h, Tensor.wrap(file, t, shape), arena, true);
            }
            // One conversion pass into off-heap memory; then the mapping is released.
            Tensor out = Tensor.allocateNative(t, shape);
            try {
                ValueLayout src = layout(t, h.type().order());
                if (cOrder) {
                    MemorySegment.copy(file, src, 0, out.segment(), layout(t, ByteOrder.nativeOrder()), 0,
                            h.elementCount());
                } else {
                    fortranToC(file, src, out.segment(), layout(t, ByteOrder.nativeOrder()), shape);
                }
            } catch (RuntimeException | Error e) {
                out.close();
                throw e;
            }
            arena.close();
            return new NpyArray(h, out, out, false);
        } catch (IOException | RuntimeException | Error e) {
            if (arena.scope().isAlive()) {
                arena.close();
            }
            throw e;
        }
    }

    static ValueLayout layout(DType t, ByteOrder order) {
        return (t == DType.F32 ? ValueLayout.JAVA_FLOAT_UNALIGNED : ValueLayout.JAVA_DOUBLE_UNALIGNED).withOrder(order);
    }

    /**
     * Copies a column-major array into row-major order. Walks the output sequentially (last axis
     * fastest) and keeps the source offset up to date with an odometer, so each element costs a
     * few additions; the source is read with a stride, which is the price of Fortran input.
     */
    static void fortranToC(MemorySegment src, ValueLayout srcLayout, MemorySegment dst, ValueLayout dstLayout,
                           long[] shape) {
        int rank = shape.length;
        long[] fStride = new long[rank];
        long s = 1;
        for (int a = 0; a < rank; a++) {
            fStride[a] = s;
            s *= shape[a];
        }
        long n = s;
        long[] idx = new long[rank];
        long srcIndex = 0;
        long last = shape[rank - 1];
        long lastStride = fStride[rank - 1];
        long size = srcLayout.byteSize();
        boolean f32 = srcLayout.carrier() == float.class;
        for (long out = 0; out < n; out += last) {
            long si = srcIndex;
            for (long j = 0; j < last; j++, si += lastStride) {
                if (f32) {
                    dst.set((ValueLayout.OfFloat) dstLayout, (out + j) * size,
                            src.get((ValueLayout.OfFloat) srcLayout, si * size));
                } else {
                    dst.set((ValueLayout.OfDouble) dstLayout, (out + j) * size,
                            src.get((ValueLayout.OfDouble) srcLayout, si * size));
                }
            }
            // Advance the odometer over every axis but the last.
            for (int a = rank - 2; a >= 0; a--) {
                if (++idx[a] < shape[a]) {
                    srcIndex += fStride[a];
                    break;
                }
                srcIndex -= fStride[a] * (shape[a] - 1);
                idx[a] = 0;
            }
        }
    }
}
