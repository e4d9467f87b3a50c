package dev.soma.backend.cuda;

import dev.soma.backend.device.PinnedMemory;
import java.lang.foreign.MemorySegment;
import jcuda.Pointer;

/** Page-locked host memory from cuMemAllocHost, counted by the runtime's allocator, freed once. */
final class CudaPinned extends PinnedMemory {
    private final CudaRuntime runtime;
    private final Pointer pointer;
    private final MemorySegment segment;

    CudaPinned(CudaRuntime runtime, long bytes) {
        super(runtime.allocator(), bytes);
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pinned staging buffers are at most 2 GiB, asked for " + bytes + " bytes");
        }
        this.runtime = runtime;
        Pointer p = runtime.nativeAllocateHost(bytes);
        try {
            this.segment = MemorySegment.ofBuffer(p.getByteBuffer(0, Math.max(1, bytes))).asSlice(0, bytes);
        } catch (RuntimeException | Error e) {
            runtime.nativeFreeHost(p); // not registered yet: nothing else would ever free it
            throw e;
        }
        this.pointer = p;
        registered("CUDA pinned host memory");
    }

    @Override
    protected MemorySegment memory() {
        return segment;
    }

    @Override
    protected void free() {
        runtime.nativeFreeHost(pointer);
    }
}
