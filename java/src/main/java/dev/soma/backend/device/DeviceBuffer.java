package dev.soma.backend.device;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One allocation in device memory, owned by a {@link DeviceAllocator}: freed exactly once, by
 * {@link #close()}, whichever thread calls it. Subclasses hold the native handle (a {@code cl_mem}
 * or a {@code CUdeviceptr}) and free it in {@link #free()}.
 */
public abstract class DeviceBuffer implements AutoCloseable {
    private final DeviceAllocator allocator;
    private final long byteSize;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Reserves the bytes in the allocator; the subclass constructor then allocates natively and
     * must call {@link #allocationFailed()} if that throws.
     */
    protected DeviceBuffer(DeviceAllocator allocator, long byteSize) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("buffer size is negative: " + byteSize);
        }
        this.allocator = allocator;
        this.byteSize = byteSize;
        allocator.reserve(byteSize);
    }

    /** Called by the subclass once the native allocation succeeded. */
    protected final void registered() {
        allocator.registered(this);
    }

    /** Called by the subclass when its native allocation failed: gives the reservation back. */
    protected final void allocationFailed() {
        closed.set(true);
        allocator.unreserve(byteSize);
    }

    public final long byteSize() {
        return byteSize;
    }

    public final boolean isClosed() {
        return closed.get();
    }

    /** Frees the device memory; later calls do nothing. */
    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                free();
            } finally {
                allocator.released(this);
            }
        }
    }

    /** Releases the native handle; called once. */
    protected abstract void free();

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + byteSize + " bytes]";
    }
}
