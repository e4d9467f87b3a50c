package dev.soma.benchmark;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * The CPU's copy roofline: copies one segment into another, split into contiguous chunks over the
 * common fork-join pool. Small copies stay on one thread, since splitting a few kilobytes across
 * threads costs more than it saves (kernels make the same trade).
 */
final class ParallelCopy {
    /** Below this many bytes per thread a copy stays on the calling thread. */
    static final long MIN_BYTES_PER_TASK = 256 * 1024;

    private ParallelCopy() {
    }

    static void copy(MemorySegment src, MemorySegment dst, long bytes) {
        int cores = Runtime.getRuntime().availableProcessors();
        int tasks = (int) Math.max(1, Math.min(cores, bytes / MIN_BYTES_PER_TASK));
        if (tasks == 1) {
            MemorySegment.copy(src, 0, dst, 0, bytes);
            return;
        }
        // Chunk boundaries on 64-byte lines, so two threads never write one cache line.
        long chunk = ((bytes + tasks - 1) / tasks + 63) & ~63L;
        IntStream.range(0, tasks).parallel().forEach(t -> {
            long from = t * chunk;
            long len = Math.min(chunk, bytes - from);
            if (len > 0) {
                MemorySegment.copy(src, from, dst, from, len);
            }
        });
    }
}
