package dev.soma.backend.device;

import java.lang.ref.Reference;

/**
 * One allocation in device memory, owned by a {@link DeviceAllocator}: freed exactly once, by
 * {@link #close()}, whichever thread calls it (or by its runtime's close if it was never closed).
 * Subclasses hold the native handle (a {@code cl_mem} or a {@code CUdeviceptr}) and hand the
 * allocator a way to free it in {@link #registered}. Registered with the leak reporter
 * ({@link dev.soma.leak.Leaks}): a buffer dropped without close() is reported, never freed by it.
 */
public abstract class DeviceBuffer implements AutoCloseable {
    private final DeviceAllocator allocator;
    private final long byteSize;
    /** Set once the native allocation succeeded; null while constructing or after a failed allocation. */
    private volatile DeviceAllocation allocation;

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

    /**
     * Called by the subclass once the native allocation succeeded.
     *
     * @param kind    what it is, for leak reports ("OpenCL buffer")
     * @param release frees the native handle, once; it must not reference this buffer (it may run
     *                after the buffer became unreachable, when the runtime closes), so build it
     *                from the handle alone
     */
    protected final void registered(String kind, Runnable release) {
        allocation = allocator.registered(this, kind, byteSize, release);
    }

    /** Called by the subclass when its native allocation failed: gives the reservation back. */
    protected final void allocationFailed() {
        allocator.unreserve(byteSize);
    }

    public final long byteSize() {
        return byteSize;
    }

    public final boolean isClosed() {
        DeviceAllocation a = allocation;
        return a == null || a.isFreed();
    }

    /**
     * Throws when this buffer was closed: runtimes call it before handing the native handle to a
     * kernel or a copy, so a use after close is an {@link IllegalStateException}, never a driver crash.
     */
    public final void requireOpen() {
        if (isClosed()) {
            throw new IllegalStateException(this + " was already closed (freed); keep device buffers open until the"
                    + " last kernel or copy that uses them");
        }
    }

    /** Frees the device memory; later calls do nothing. */
    @Override
    public final void close() {
        DeviceAllocation a = allocation;
        if (a != null) {
            try {
                a.free();
            } finally {
                // Past the read of its field this buffer is otherwise unused, so compiled code may
                // treat it as unreachable while the release runs (the OpenCL release waits for the
                // runtime's lock, behind other threads' launches): a collection then would let the
                // leak reporter's Cleaner report this buffer, which is being closed, as dropped
                // without close(). The fence keeps it reachable until its registration is closed.
                Reference.reachabilityFence(this);
            }
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + byteSize + " bytes]";
    }
}
