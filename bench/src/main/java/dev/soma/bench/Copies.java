package dev.soma.bench;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * The copies the CPU figures are measured against, split into one chunk per core as the kernels
 * split their work (see {@link CopyBenchmark} for which stores each uses).
 */
final class Copies {
    private Copies() {
    }

    /**
     * Copies {@code bytes} from src to dst, one chunk of whole cache lines per core, each chunk in
     * calls of at most {@code call} bytes: {@code Long.MAX_VALUE} gives one call per core (the JDK
     * stub streams calls of 2.5 MiB and more with non-temporal stores), 1 MiB gives plain stores.
     */
    static void nativeAllCores(MemorySegment src, MemorySegment dst, long bytes, long call) {
        int chunks = Runtime.getRuntime().availableProcessors();
        long per = (bytes / chunks + 63) / 64 * 64;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            long from = c * per;
            long to = Math.min(bytes, from + per);
            for (long b = from; b < to; ) {
                long len = Math.min(call, to - b);
                MemorySegment.copy(src, b, dst, b, len);
                b += len;
            }
        });
    }

    /** {@code System.arraycopy} of a float array, one chunk per core. */
    static void arrayAllCores(float[] src, float[] dst) {
        int chunks = Runtime.getRuntime().availableProcessors();
        int per = (src.length + chunks - 1) / chunks;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = c * per;
            int len = Math.min(src.length, from + per) - from;
            if (len > 0) {
                System.arraycopy(src, from, dst, from, len);
            }
        });
    }
}
