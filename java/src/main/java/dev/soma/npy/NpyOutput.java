package dev.soma.npy;

import dev.soma.Tensor;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import dev.soma.op.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A .npy file being written, all or nothing. {@link #create} writes the header to a hidden
 * temporary file in the target's directory and maps its data section; compute straight into
 * {@link #tensor()}, then {@link #commit()} flushes and atomically renames the file over the target.
 * {@link #close()} without a commit deletes the temporary file, so a failed run leaves an existing
 * output untouched and no debris. A process killed mid-write leaves the target as it was (at worst
 * a hidden {@code .NAME.*.soma-tmp} file beside it). An output dropped without commit or close is
 * reported by the leak reporter ({@link Leaks}).
 */
public final class NpyOutput implements AutoCloseable {
    static final String TEMP_SUFFIX = ".soma-tmp";

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Tensor tensor;
    private boolean committed;
    private boolean closed;
    private final LeakGuard guard;

    private NpyOutput(Path target, Path temp, FileChannel channel, Arena arena, MemorySegment mapped, Tensor tensor) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.arena = arena;
        this.mapped = mapped;
        this.tensor = tensor;
        this.guard = Leaks.track(this, ".npy output", mapped == null ? 0 : mapped.byteSize(), "output " + target
                + " (temporary file " + temp.getFileName() + ")");
    }

    /**
     * Starts writing a C-ordered, native-order array of {@code dtype} and {@code shape} to {@code target}.
     *
     * @throws IOException when the directory is missing or not writable, or the disk is full
     */
    public static NpyOutput create(Path target, DType dtype, long... shape) throws IOException {
        if (target == null || dtype == null || shape == null) {
            throw new NullPointerException((target == null ? "target" : dtype == null ? "dtype" : "shape")
                    + " is null; pass the output's path, dtype (DType.F32 or F64) and shape");
        }
        count(shape);  // negative or overflowing dimensions are refused before any file exists
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(target.toString(), null, "directory " + dir + " does not exist; create it first");
        }
        if (Files.isDirectory(abs)) {
            throw new IOException(target + ": is a directory; give a file name for the output");
        }
        byte[] header = NpyHeader.encode(dtype, shape);
        long bytes = Math.multiplyExact(count(shape), (long) dtype.byteSize());
        Path temp = dir.resolve("." + abs.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + TEMP_SUFFIX);
        FileChannel ch = null;
        Arena arena = Arena.ofShared();
        try {
            ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ByteBuffer hb = ByteBuffer.wrap(header);
            while (hb.hasRemaining()) {
                ch.write(hb, hb.position());
            }
            // The data's disk blocks now: a full disk is an IOException here, not a SIGBUS mid-kernel.
            DiskSpace.reserve(temp, ch, header.length, bytes, target.toString());
            MemorySegment data = null;
            Tensor t;
            if (bytes == 0) {
                t = Tensor.allocate(dtype, shape);
            } else {
                data = ch.map(FileChannel.MapMode.READ_WRITE, header.length, bytes, arena);
                t = Tensor.wrap(data, dtype, shape);
            }
            return new NpyOutput(target, temp, ch, arena, data, t);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            if (ch != null) {
                ch.close();
            }
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** The output's elements, mapped onto the file: write them, then {@link #commit()}. */
    public Tensor tensor() {
        return tensor;
    }

    /** The file this output will replace. */
    public Path target() {
        return target;
    }

    /** The hidden temporary file being written (for tests). */
    Path temp() {
        return temp;
    }

    /** Flushes the data to disk and renames the file over the target in one atomic step. */
    public void commit() throws IOException {
        if (closed) {
            throw new IllegalStateException("output " + target + " was already closed");
        }
        if (mapped != null) {
            mapped.force();
        }
        channel.force(true);
        channel.close();
        arena.close();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        closed = true;
        guard.close();
        syncDirectory(temp.getParent());
    }

    /** Makes the rename itself durable where the platform allows syncing a directory (Linux does). */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Best effort: the data itself is already on disk, and the rename is atomic either way.
        }
    }

    /** Discards the output unless it was committed: the temporary file is deleted, the target untouched. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } finally {
            if (arena.scope().isAlive()) {
                arena.close();
            }
            try {
                Files.deleteIfExists(temp);
            } finally {
                guard.close();
                Reference.reachabilityFence(this);  // until the registration is closed (see LeakGuard)
            }
        }
    }

    /** True once {@link #commit()} has succeeded. */
    public boolean isCommitted() {
        return committed;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape has a negative dimension: " + d + "; dimensions are sizes, 0 or more");
            }
            try {
                n = Math.multiplyExact(n, d);
                Math.multiplyExact(n, 8L);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " has too many elements"
                        + " to address (their bytes exceed 2^63); split the data into smaller arrays");
            }
        }
        return n;
    }
}
