package dev.soma.npy;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the .npy reader must do with any file whatsoever, checked on one file: either return an array
 * consistent with its header and the file's size, or throw {@link NpyFormatException} with a short
 * one-line message that starts with the file's name. Anything else (another exception, an Error such
 * as OutOfMemoryError or StackOverflowError, a read that takes seconds, or heap allocation out of
 * proportion to the file's actual size) fails with an {@link AssertionError} saying which rule broke.
 * Shared by the fuzz test and the regression tests so both hold the reader to the same rules.
 */
final class NpyReadOracle {
    /** Longest message allowed, beyond the file name: enough for any honest explanation. */
    static final int MAX_MESSAGE = 600;
    /** A read of a file of at most a few MiB takes milliseconds; seconds mean a hang. */
    static final long TIMEOUT_MS = 10_000;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** One reader thread, so that a hang is reported instead of stalling the run. */
    private static final ExecutorService READER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "npy-oracle-reader");
        t.setDaemon(true);
        return t;
    });

    private NpyReadOracle() {
    }

    /** Writes {@code bytes} to {@code file} and checks the reader on it. */
    static Outcome check(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return check(file);
    }

    /** Whether the file was read or refused; the message when refused. */
    record Outcome(boolean read, String message) {
    }

    /** Checks the reader on an existing file. */
    static Outcome check(Path file) throws IOException {
        long size = Files.size(file);
        Future<Outcome> f = READER.submit(() -> {
            try {
                return readOnce(file, size);
            } catch (HeapUseError first) {
                // The first read down a new path also loads and initialises classes, which the
                // allocation counter includes; only a second read measures the reader itself.
                return readOnce(file, size);
            }
        });
        try {
            return f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError("reading " + size + " bytes took over " + TIMEOUT_MS + " ms (a hang?)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AssertionError a) {
                throw a;
            }
            throw new AssertionError("the reader threw " + c + " instead of NpyFormatException", c);
        }
    }

    private static Outcome readOnce(Path file, long size) throws IOException {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        Outcome o;
        try (NpyArray a = NpyReader.read(file)) {
            checkConsistent(a, file, size);
            o = new Outcome(true, null);
        } catch (NpyFormatException e) {
            checkMessage(e.getMessage(), file);
            o = new Outcome(false, e.getMessage());
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        // Heap use may follow the actual file (the header is read onto the heap, small arrays are
        // copied there), never a size the header merely claims.
        long allowed = 8 * size + (4 << 20);
        if (allocated > allowed) {
            throw new HeapUseError("reading a file of " + size + " bytes allocated " + allocated
                    + " bytes on the heap (more than " + allowed + ")");
        }
        return o;
    }

    /** Heap allocation out of proportion to the file. */
    static final class HeapUseError extends AssertionError {
        private static final long serialVersionUID = 1L;

        HeapUseError(String message) {
            super(message);
        }
    }

    static void checkMessage(String m, Path file) {
        if (m == null || !m.startsWith(file + ": ")) {
            throw new AssertionError("message does not start with the file's name: " + m);
        }
        String body = m.substring(file.toString().length() + 2);
        if (body.isBlank()) {
            throw new AssertionError("empty message");
        }
        if (body.length() > MAX_MESSAGE) {
            throw new AssertionError("message of " + body.length() + " characters: "
                    + body.substring(0, 200) + "...");
        }
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)) {
                throw new AssertionError("message holds control character U+"
                        + String.format("%04X", (int) c) + " (not one clean line): " + body.replace("\n", "\\n"));
            }
        }
    }

    private static void checkConsistent(NpyArray a, Path file, long size) throws IOException {
        NpyHeader h = a.header();
        Tensor t = a.tensor();
        if (h.dataOffset() + h.dataBytes() != size) {
            throw new AssertionError("accepted a file of " + size + " bytes whose header (" + h + ") promises "
                    + h.dataBytes() + " bytes of data");
        }
        if (!Arrays.equals(t.shape(), h.shape()) || t.dtype() != h.dtype() || t.byteSize() != h.dataBytes()) {
            throw new AssertionError("tensor " + t + " does not match header " + h);
        }
        if (h.rank() > 64) {
            throw new AssertionError("accepted rank " + h.rank() + " (NumPy's limit is 64)");
        }
        long n = h.elementCount();
        if (n == 0) {
            return;
        }
        // The first and the last element sit at the same place in C and Fortran order: compare them
        // with the file's bytes, decoded independently of the reader.
        checkElement(t, h, file, 0, 0);
        checkElement(t, h, file, n - 1, n - 1);
        if (!h.fortranOrder() || h.rank() <= 1) {
            checkElement(t, h, file, n / 2, n / 2);
        }
    }

    private static void checkElement(Tensor t, NpyHeader h, Path file, long index, long filePosition)
            throws IOException {
        int width = h.dtype().byteSize();
        ByteBuffer b = ByteBuffer.allocate(width).order(h.type().order());
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            ch.read(b, h.dataOffset() + filePosition * width);
        }
        b.flip();
        double expected = h.dtype() == DType.F32 ? b.getFloat() : b.getDouble();
        double got = t.get(index);
        if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(got)) {
            throw new AssertionError("element " + index + " is " + got + ", the file holds " + expected);
        }
    }
}
