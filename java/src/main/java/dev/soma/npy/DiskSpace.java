package dev.soma.npy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Gives a file its disk blocks before Soma writes it through a memory mapping. A write into a
 * mapped page the file system cannot back (a full disk, a quota) is not an error code but a SIGBUS
 * in the middle of a kernel; reserving the blocks first turns a full disk into an
 * {@link IOException} before any work starts. Uses {@code posix_fallocate} (one call) where the C
 * library has it and native access is enabled, else writes one zero byte into each block, which
 * makes every file system allocate it.
 */
final class DiskSpace {
    /** The block size the fallback touches: no file system Soma targets has smaller blocks. */
    private static final int BLOCK = 4096;
    private static final int O_WRONLY = 1;
    private static final int ENOSPC = 28;
    private static final int EFBIG = 27;
    private static final int EDQUOT = 122;
    private static final Native NATIVE = Native.find().orElse(null);

    private DiskSpace() {
    }

    /** Allocates bytes {@code [offset, offset + length)} of {@code file} (open as {@code ch}). */
    static void reserve(Path file, FileChannel ch, long offset, long length, String shown) throws IOException {
        if (length <= 0) {
            return;
        }
        int err = NATIVE == null ? -1 : NATIVE.fallocate(file, offset, length);
        if (err == 0) {
            return;
        }
        if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
            throw noSpace(file, length, shown, err == EFBIG ? "file too large for this file system or process limit"
                    : "no space left on device");
        }
        // No posix_fallocate here (or it failed for another reason): touch each block instead.
        ByteBuffer zero = ByteBuffer.allocate(1);
        long end = offset + length;
        try {
            for (long pos = offset; pos < end; pos = (pos / BLOCK + 1) * BLOCK) {
                ch.write(zero.clear(), pos);
            }
            ch.write(zero.clear(), end - 1);
        } catch (IOException e) {
            String m = e.getMessage() == null ? "no space left on device" : e.getMessage().toLowerCase(Locale.ROOT);
            throw noSpace(file, length, shown, m);
        }
    }

    private static IOException noSpace(Path file, long length, String shown, String reason) {
        return new FileSystemException(shown, null, reason + ": the output needs " + length + " bytes in "
                + file.toAbsolutePath().getParent() + "; free some space or write elsewhere");
    }

    /** {@code open}, {@code posix_fallocate} and {@code close} from the C library, when reachable. */
    private record Native(MethodHandle open, MethodHandle fallocate, MethodHandle close) {
        static Optional<Native> find() {
            try {
                if (!DiskSpace.class.getModule().isNativeAccessEnabled()) {
                    return Optional.empty();  // restricted calls would print a warning; the fallback is silent
                }
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Optional<MemorySegment> open = libc.find("open");
                Optional<MemorySegment> fallocate = libc.find("posix_fallocate");
                Optional<MemorySegment> close = libc.find("close");
                if (open.isEmpty() || fallocate.isEmpty() || close.isEmpty()) {
                    return Optional.empty();
                }
                return Optional.of(new Native(
                        linker.downcallHandle(open.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2)),
                        linker.downcallHandle(fallocate.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)),
                        linker.downcallHandle(close.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT))));
            } catch (RuntimeException | LinkageError e) {
                return Optional.empty();
            }
        }

        /** posix_fallocate's result (0, or an errno value); -1 when the file could not be opened. */
        int fallocate(Path file, long offset, long length) {
            try (Arena arena = Arena.ofConfined()) {
                int fd = (int) open.invokeExact(arena.allocateFrom(file.toAbsolutePath().toString()), O_WRONLY, 0);
                if (fd < 0) {
                    return -1;
                }
                try {
                    return (int) fallocate.invokeExact(fd, offset, length);
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
            } catch (Throwable t) {
                return -1;
            }
        }
    }
}
