package dev.soma.backend.device;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Page-locked host memory for asynchronous transfers ({@code cuMemAllocHost} on CUDA; on OpenCL
 * host memory the driver can copy from without an extra staging copy). Counted by the device's
 * {@link DeviceAllocator} (as pinned bytes) and freed exactly once by {@link #close()}.
 */
public abstract class PinnedMemory implements AutoCloseable {
    private final DeviceAllocator allocator;
    private final long byteSize;
    private final AtomicBoolean closed = new AtomicBoolean();

    protected PinnedMemory(DeviceAllocator allocator, long byteSize) {
        this.allocator = allocator;
        this.byteSize = byteSize;
    }

    /** Called by the subclass once the native allocation succeeded. */
    protected final void registered() {
        allocator.pinnedAllocated(byteSize);
    }

    /** The memory, {@link #byteSize()} bytes. */
    public abstract MemorySegment segment();

    public final long byteSize() {
        return byteSize;
    }

    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                free();
            } finally {
                allocator.pinnedFreed(byteSize);
            }
        }
    }

    /** Releases the native memory; called once. */
    protected abstract void free();
}
