package dev.soma.fallback.vector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keeps heap memory out of the vector loops. C2 does not turn a Vector API load or store on a heap
 * segment ({@code MemorySegment.ofArray}, what a tensor over a Java array is) into a vector
 * instruction: the array type behind the segment is unknown to it, so the access takes the per-lane
 * Java fallback and boxes every vector. Every op ran 5 to 14 times slower on heap segments than on
 * native ones (relu 1.15 against 0.11 ns per element, gelu 2.1 against 0.49, in cache on one core).
 *
 * <p>So work that touches a heap segment runs through a small per-thread native scratch: block by
 * block, the inputs are copied in, the kernel runs on native views, and the outputs are copied back.
 * A block ({@value #BLOCK} elements per segment) stays in the core's caches, so the two extra copies
 * are cache-to-cache and main memory is still read and written once. Native segments are used in
 * place (their own slices), and a call whose segments are all native goes straight to the kernel.
 * Elementwise ops whose operands are all arrays do not come here: they run over the arrays
 * ({@link HeapArrays}); softmax, PReLU and mixes of heap and native operands do.
 *
 * <p>Results are bit-identical to the direct path: every kernel's result for an element (a row, a
 * column) depends only on that element's data, and blocks are multiples of {@link Softmax#BLOCK},
 * so PReLU's block-wise dw sums see the same blocks.
 */
final class Staging {
    /**
     * Elements per segment per block of an elementwise op: a whole number of {@link Softmax#BLOCK}s
     * and of {@link VectorKernels#ALIGN}s. In cache on one core relu took 0.12-0.16 ns per element
     * at 2048, 0.18 at 8192 and 16384, 0.19 at 512 (per-block overhead), against 0.10 on native memory.
     */
    static final long BLOCK = 2048;
    /**
     * Elements per block of row-shaped work (softmax rows, PReLU rows), at least one row: softmax
     * pipelines across the rows of a call, and at 2^26 elements (rows of 1024) 8 rows per block took
     * 26 ms against 35 ms for 2.
     */
    static final long ROW_BLOCK = 8192;
    /** Scratch bytes kept per thread and slot; a larger block (one very long row) borrows memory for the call. */
    private static final long KEEP_BYTES = 1L << 20;
    /** Columns per staged piece at least (one double vector), however long the rows. */
    private static final long MIN_COLUMNS = Lanes.D.length();

    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[3]);

    private Staging() {
    }

    /** A kernel over items [from, to) of native segments; {@code origin} is the absolute index of their item 0. */
    @FunctionalInterface
    interface Body {
        void run(MemorySegment[] segments, long origin, long from, long to);
    }

    /** A column kernel over columns [0, width) of native segments viewed as (1, len, width). */
    @FunctionalInterface
    interface ColumnBody {
        void run(MemorySegment[] segments, long width);
    }

    static boolean allNative(MemorySegment[] segments) {
        for (MemorySegment s : segments) {
            if (!s.isNative()) {
                return false;
            }
        }
        return true;
    }

    /** A native copy of a small segment (PReLU's weights), or the segment itself when native. */
    static MemorySegment nativeCopy(MemorySegment s) {
        if (s.isNative()) {
            return s;
        }
        MemorySegment copy = Arena.ofAuto().allocate(s.byteSize(), 64);
        MemorySegment.copy(s, 0, copy, 0, s.byteSize());
        return copy;
    }

    /**
     * Runs {@code body} over items [from, to), each item {@code itemElements} contiguous elements of
     * {@code elementBytes} bytes (item i at element i * itemElements) in every segment; the first
     * {@code inputs} segments are read, the others written.
     */
    static void contiguous(MemorySegment[] segments, int inputs, long elementBytes, long itemElements,
                           long from, long to, Body body) {
        if (allNative(segments)) {
            body.run(segments, 0, from, to);
            return;
        }
        long perBlock = itemElements == 1 ? BLOCK : Math.max(1, ROW_BLOCK / itemElements);
        long itemBytes = itemElements * elementBytes;
        long blockBytes = Math.min(to - from, perBlock) * itemBytes;
        try (Arena borrowed = blockBytes > KEEP_BYTES ? Arena.ofConfined() : null) {
            MemorySegment[] slots = slots(segments.length, blockBytes, borrowed);
            MemorySegment[] views = new MemorySegment[segments.length];
            for (long b = from; b < to; b += perBlock) {
                long count = Math.min(to, b + perBlock) - b;
                long offset = b * itemBytes;
                long bytes = count * itemBytes;
                for (int k = 0; k < segments.length; k++) {
                    MemorySegment s = segments[k];
                    if (s.isNative()) {
                        views[k] = s.asSlice(offset, bytes);
                    } else {
                        views[k] = slots[k].asSlice(0, bytes);
                        if (k < inputs) {
                            MemorySegment.copy(s, offset, views[k], 0, bytes);
                        }
                    }
                }
                body.run(views, b, 0, count);
                for (int k = inputs; k < segments.length; k++) {
                    if (!segments[k].isNative()) {
                        MemorySegment.copy(views[k], 0, segments[k], offset, bytes);
                    }
                }
            }
        }
    }

    /**
     * Runs {@code body} over columns [colFrom, colTo) of the flattened (outer, inner) index space of
     * (outer, len, inner) segments, gathering up to a block's worth of adjacent columns of one outer
     * slice into native (1, len, width) scratch and scattering the outputs back.
     */
    static void columns(MemorySegment[] segments, int inputs, long elementBytes, long len, long inner,
                        long colFrom, long colTo, ColumnBody body, Body direct) {
        if (allNative(segments)) {
            direct.run(segments, 0, colFrom, colTo);
            return;
        }
        long maxWidth = Math.max(MIN_COLUMNS, BLOCK / len);
        long blockBytes = len * Math.min(maxWidth, colTo - colFrom) * elementBytes;
        try (Arena borrowed = blockBytes > KEEP_BYTES ? Arena.ofConfined() : null) {
            MemorySegment[] slots = slots(segments.length, blockBytes, borrowed);
            MemorySegment[] views = new MemorySegment[segments.length];
            long c = colFrom;
            while (c < colTo) {
                long o = c / inner;
                long j = c - o * inner;
                long width = Math.min(maxWidth, Math.min(inner - j, colTo - c));
                long rowBytes = width * elementBytes;
                for (int k = 0; k < segments.length; k++) {
                    views[k] = slots[k].asSlice(0, len * rowBytes);
                    if (k < inputs) {
                        for (long r = 0; r < len; r++) {
                            MemorySegment.copy(segments[k], ((o * len + r) * inner + j) * elementBytes,
                                    views[k], r * rowBytes, rowBytes);
                        }
                    }
                }
                body.run(views, width);
                for (int k = inputs; k < segments.length; k++) {
                    for (long r = 0; r < len; r++) {
                        MemorySegment.copy(views[k], r * rowBytes,
                                segments[k], ((o * len + r) * inner + j) * elementBytes, rowBytes);
                    }
                }
                c += width;
            }
        }
    }

    /** One scratch segment per segment of the call, each at least {@code bytes}: this thread's, or borrowed. */
    private static MemorySegment[] slots(int count, long bytes, Arena borrowed) {
        MemorySegment[] slots = new MemorySegment[count];
        MemorySegment[] kept = borrowed == null ? SCRATCH.get() : null;
        for (int k = 0; k < count; k++) {
            if (borrowed != null) {
                slots[k] = borrowed.allocate(bytes, 64);
            } else {
                if (kept[k] == null || kept[k].byteSize() < bytes) {
                    // Grown to the largest block this thread has staged (at most KEEP_BYTES); freed with the thread.
                    kept[k] = Arena.ofAuto().allocate(Math.max(bytes, BLOCK * Double.BYTES), 64);
                }
                slots[k] = kept[k];
            }
        }
        return slots;
    }
}
