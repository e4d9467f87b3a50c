package dev.soma.npy;

import dev.soma.Tensor;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import java.lang.ref.Reference;

/**
 * An array read from a .npy file: its header and a C-ordered, native-order tensor of its data.
 * The tensor is either the file itself, memory-mapped read-only (the common case: a little-endian,
 * C-ordered file on a little-endian machine), or an off-heap copy converted from big-endian or
 * Fortran order. Either way the data never sits on the Java heap, so a 10 GB file needs no 10 GB heap.
 * Close it to unmap or free the data; the tensor must not be used afterwards. A mapping dropped
 * without close() is reported by the leak reporter ({@link Leaks}).
 */
public final class NpyArray implements AutoCloseable {
    private final NpyHeader header;
    private final Tensor tensor;
    private final AutoCloseable resources;
    private final boolean mapped;
    private boolean closed;
    /** Registration of the mapping (a converted copy is an off-heap tensor, registered itself); else null. */
    private final LeakGuard guard;

    NpyArray(NpyHeader header, Tensor tensor, AutoCloseable resources, boolean mapped) {
        this.header = header;
        this.tensor = tensor;
        this.resources = resources;
        this.mapped = mapped;
        this.guard = mapped ? Leaks.track(this, "mapped .npy file", tensor.byteSize(), "mapping of " + tensor) : null;
    }

    /** The header as read from the file (byte order and Fortran flag as stored there). */
    public NpyHeader header() {
        return header;
    }

    /** The data, C order, native byte order; read-only when {@link #isMapped()}. */
    public Tensor tensor() {
        return tensor;
    }

    /** True when the tensor is the file mapped in place (no conversion pass was needed). */
    public boolean isMapped() {
        return mapped;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing a .npy mapping failed: " + e.getMessage(), e);
        } finally {
            if (guard != null) {
                guard.close();
            }
            Reference.reachabilityFence(this);  // until the registration is closed (see LeakGuard)
        }
    }
}
