package dev.soma.backend.opencl;

import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.PinnedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host staging memory for OpenCL's asynchronous transfers: page-aligned native memory that stays
 * put while a non-blocking read or write uses it (CPU devices such as PoCL copy from it directly;
 * GPU drivers stage it themselves).
 */
final class OpenClPinned extends PinnedMemory {
    private static final long PAGE = 4096;
    private final Arena arena;
    private final MemorySegment segment;

    OpenClPinned(DeviceAllocator allocator, long bytes) {
        super(allocator, bytes);
        this.arena = Arena.ofShared();
        try {
            this.segment = arena.allocate(Math.max(1, bytes), PAGE).asSlice(0, bytes);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        registered("OpenCL host staging memory");
    }

    @Override
    protected MemorySegment memory() {
        return segment;
    }

    @Override
    protected void free() {
        arena.close();
    }
}
