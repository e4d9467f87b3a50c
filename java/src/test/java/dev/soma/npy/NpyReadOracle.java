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
        NpyArray a;
        try {
            a = NpyReader.read(file);
        } catch (NpyFormatException e) {
            checkHeapUse(before, size);
            checkMessage(e.getMessage(), file);
            return new Outcome(false, e.getMessage());
        }
        try (a) {
            checkHeapUse(before, size);
            checkConsistent(a, file, size);
            return new Outcome(true, null);
        }
    }

    /**
     * Heap use may follow the actual file (the header is read onto the heap, small arrays are copied
     * there), never a size the header merely claims.
     */
    private static void checkHeapUse(long before, long size) {
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        long allowed = 8 * size + (4 << 20);
        if (allocated > allowed) {
            throw new HeapUseError("reading a file of " + size + " bytes allocated " + allocated
                    + " bytes on the heap (more than " + allowed + ")");
        }
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
        // Every element against the file's bytes, decoded here independently of the reader: storage
        // position k holds C index k, or in Fortran order the index whose reversed digits are k.
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(file)).order(h.type().order());
        long[] shape = h.shape();
        boolean fortran = h.fortranOrder() && shape.length > 1;
        int width = h.dtype().byteSize();
        for (long k = 0, n = h.elementCount(); k < n; k++) {
            int at = (int) (h.dataOffset() + k * width);
            double expected = h.dtype() == DType.F32 ? data.getFloat(at) : data.getDouble(at);
            long c = fortran ? NpyTestFiles.fortranPositionToCIndex(k, shape) : k;
            double got = t.get(c);
            if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(got)) {
                throw new AssertionError("element " + c + " is " + got + ", the file holds " + expected + " (" + h + ")");
            }
        }
    }
}
