package dev.soma.backend.device;

import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import java.lang.ref.Reference;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Page-locked host memory for asynchronous transfers ({@code cuMemAllocHost} on CUDA; on OpenCL
 * host memory the driver can copy from without an extra staging copy). Counted by the device's
 * {@link DeviceAllocator} (as pinned bytes), registered with the leak reporter, and freed exactly
 * once by {@link #close()}; {@link #segment()} after close is an {@link IllegalStateException}.
 */
public abstract class PinnedMemory implements AutoCloseable {
    private final DeviceAllocator allocator;
    private final long byteSize;
    private final AtomicBoolean closed = new AtomicBoolean();
    private LeakGuard guard;

    protected PinnedMemory(DeviceAllocator allocator, long byteSize) {
        this.allocator = allocator;
        this.byteSize = byteSize;
    }

    /** Called by the subclass once the native allocation succeeded. */
    protected final void registered(String kind) {
        allocator.pinnedAllocated(byteSize);
        guard = Leaks.track(this, kind, byteSize, getClass().getSimpleName() + "[" + byteSize + " bytes]");
    }

    /** The memory, {@link #byteSize()} bytes. */
    public final MemorySegment segment() {
        if (closed.get()) {
            throw new IllegalStateException(getClass().getSimpleName() + "[" + byteSize + " bytes] was already closed;"
                    + " keep pinned memory open until the transfers that use it have finished");
        }
        return memory();
    }

    /** The subclass's segment (valid until {@link #free()}). */
    protected abstract MemorySegment memory();

    public final long byteSize() {
        return byteSize;
    }

    public final boolean isClosed() {
        return closed.get();
    }

    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                free();
            } finally {
                allocator.pinnedFreed(byteSize);
                if (guard != null) {
                    guard.close();
                }
                // Reachable until the registration is closed, or the Cleaner could report a close
                // in progress as a leak (see DeviceBuffer.close).
                Reference.reachabilityFence(this);
            }
        }
    }

    /** Releases the native memory; called once. */
    protected abstract void free();
}
