package dev.soma.npy;

import dev.soma.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** Writes a tensor to a .npy file (format 1.0, C order, native byte order), atomically. */
public final class NpyWriter {
    private NpyWriter() {
    }

    /**
     * Writes {@code t} to {@code file} through {@link NpyOutput}: a temporary file in the same
     * directory, renamed over {@code file} only once complete; on failure {@code file} is untouched.
     */
    public static void write(Path file, Tensor t) throws IOException {
        if (file == null || t == null) {
            throw new NullPointerException(file == null ? "file is null; pass the path to write the .npy file to"
                    : "t is null; pass the tensor to write");
        }
        try (NpyOutput out = NpyOutput.create(file, t.dtype(), t.shape())) {
            MemorySegment.copy(t.segment(), 0, out.tensor().segment(), 0, t.byteSize());
            out.commit();
        }
    }
}
