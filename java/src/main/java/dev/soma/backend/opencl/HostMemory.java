package dev.soma.backend.opencl;

import java.lang.foreign.MemorySegment;
import org.jocl.Pointer;

/**
 * JOCL pointers to host memory given as a {@link MemorySegment}: a heap segment's backing array
 * (JOCL pins it for the blocking call) or a native segment's address as a direct ByteBuffer.
 * Transfers that use these must be blocking.
 */
final class HostMemory {
    /** The most bytes one direct ByteBuffer view spans. */
    static final long MAX_VIEW = 1L << 30;

    private HostMemory() {
    }

    /**
     * A pointer to {@code bytes} bytes of {@code seg} from {@code offset}; for native segments
     * {@code bytes} must not exceed {@link #MAX_VIEW} (callers transfer in pieces).
     */
    static Pointer pointer(MemorySegment seg, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > seg.byteSize()) {
            throw new IndexOutOfBoundsException("host range [" + offset + ", " + (offset + bytes) + ") is outside a segment of "
                    + seg.byteSize() + " bytes");
        }
        if (seg.isNative()) {
            return Pointer.to(seg.asSlice(offset, bytes).asByteBuffer());
        }
        Object base = seg.heapBase().orElseThrow(() -> new IllegalArgumentException("segment has no memory: " + seg));
        long at = seg.address() + offset; // for a heap segment, the byte offset into its array
        Pointer p = switch (base) {
            case float[] a -> Pointer.to(a);
            case double[] a -> Pointer.to(a);
            case byte[] a -> Pointer.to(a);
            case int[] a -> Pointer.to(a);
            case long[] a -> Pointer.to(a);
            case short[] a -> Pointer.to(a);
            case char[] a -> Pointer.to(a);
            default -> throw new IllegalArgumentException("unsupported heap segment backing " + base.getClass());
        };
        return p.withByteOffset(at);
    }
}
