package dev.soma.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Where the gap between a memory-bound kernel and "a copy" comes from: the same bytes moved over
 * native memory, split in one chunk per core, with the two kinds of store the JDK uses.
 *
 * <p>HotSpot's arraycopy stub (which {@code System.arraycopy} and {@code MemorySegment.copy} both
 * reach on x86-64 with AVX-512) copies 2.5 MiB or more per call with non-temporal stores
 * ({@code vmovntdq}: no read for ownership of the destination line), and smaller calls with plain
 * 64-byte stores. A Vector API kernel has only plain stores, so each output line is first read from
 * memory: 12 bytes of DRAM traffic per float element instead of 8.
 * <ul>
 *   <li>{@code copyStreaming}: one {@code MemorySegment.copy} per core (non-temporal stores);</li>
 *   <li>{@code copyPlainStores}: the same copy cut into 1 MiB calls (the stub's plain-store loop);</li>
 *   <li>{@code copyVectorLoop}: a FloatVector load/store loop, the kernels' loop with the op removed;</li>
 *   <li>{@code reluVectorLoop}: relu in that loop (what the product's relu does);</li>
 *   <li>{@code reluThroughScratch}: relu into a per-thread 3 MiB scratch (cache), then one
 *       non-temporal copy of the scratch to the output per block.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class StoreKindBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Above the stub's 2.5 MiB streaming threshold; fits L3 twice over with room to spare. */
    private static final long SCRATCH_FLOATS = 3L << 18;
    private static final long PLAIN_CALL_BYTES = 1L << 20;

    @Param({"67108864"})
    public long size;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private MemorySegment src;
    private MemorySegment dst;
    private MemorySegment[] scratch;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        src = arena.allocate(size * Float.BYTES, 64);
        dst = arena.allocate(size * Float.BYTES, 64);
        for (long i = 0; i < size; i++) {
            src.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (i & 1) == 0 ? i * 0.5f : -i * 0.25f);
        }
        dst.fill((byte) 0x7f);
        scratch = new MemorySegment[threads];
        for (int t = 0; t < threads; t++) {
            scratch[t] = arena.allocate(SCRATCH_FLOATS * Float.BYTES, 64);
            scratch[t].fill((byte) 0);
        }
        reluThroughScratch();
        check(true);
        copyPlainStores();
        check(false);
    }

    private void check(boolean relu) {
        for (long i = 0; i < size; i += 4099) {
            float v = src.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
            float want = relu ? Math.max(v, 0f) : v;
            if (dst.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i) != want) {
                throw new IllegalStateException("wrong result at " + i);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @FunctionalInterface
    private interface Part {
        void run(int t, long from, long to);
    }

    /** One chunk of whole cache lines per thread. */
    private void split(Part part) {
        long per = (size / threads + 15) / 16 * 16;
        IntStream.range(0, threads).parallel().forEach(t -> {
            long from = t * per;
            long to = Math.min(size, from + per);
            if (from < to) {
                part.run(t, from, to);
            }
        });
    }

    @Benchmark
    public Object copyStreaming() {
        split((t, from, to) -> MemorySegment.copy(src, from * 4, dst, from * 4, (to - from) * 4));
        return dst;
    }

    @Benchmark
    public Object copyPlainStores() {
        split((t, from, to) -> {
            for (long b = from * 4; b < to * 4; b += PLAIN_CALL_BYTES) {
                MemorySegment.copy(src, b, dst, b, Math.min(PLAIN_CALL_BYTES, to * 4 - b));
            }
        });
        return dst;
    }

    @Benchmark
    public Object copyVectorLoop() {
        split((t, from, to) -> vectorCopy(src, dst, from, to));
        return dst;
    }

    @Benchmark
    public Object reluVectorLoop() {
        split((t, from, to) -> relu(src, from, dst, from, to - from));
        return dst;
    }

    @Benchmark
    public Object reluThroughScratch() {
        split((t, from, to) -> {
            MemorySegment s = scratch[t];
            for (long b = from; b < to; b += SCRATCH_FLOATS) {
                long n = Math.min(SCRATCH_FLOATS, to - b);
                relu(src, b, s, 0, n);
                MemorySegment.copy(s, 0, dst, b * 4, n * 4);
            }
        });
        return dst;
    }

    private static void vectorCopy(MemorySegment x, MemorySegment y, long from, long to) {
        long i = from;
        for (long stop = from + F.loopBound(to - from); i < stop; i += F.length()) {
            FloatVector.fromMemorySegment(F, x, i * 4, NO).intoMemorySegment(y, i * 4, NO);
        }
        for (; i < to; i++) {
            y.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i));
        }
    }

    /** y[yFrom + k] = relu(x[xFrom + k]) for k < n. */
    private static void relu(MemorySegment x, long xFrom, MemorySegment y, long yFrom, long n) {
        long k = 0;
        for (long stop = F.loopBound(n); k < stop; k += F.length()) {
            FloatVector v = FloatVector.fromMemorySegment(F, x, (xFrom + k) * 4, NO);
            v.blend(0f, v.compare(VectorOperators.LT, 0f)).intoMemorySegment(y, (yFrom + k) * 4, NO);
        }
        for (; k < n; k++) {
            float v = x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, xFrom + k);
            y.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, yFrom + k, v < 0f ? 0f : v);
        }
    }

    /**
     * Interleaved best-of rounds for a loaded machine: {@code java --add-modules jdk.incubator.vector
     * -cp bench/target/benchmarks.jar dev.soma.bench.StoreKindBenchmark [rounds]}.
     */
    public static void main(String[] argv) {
        int rounds = argv.length > 0 ? Integer.parseInt(argv[0]) : 20;
        StoreKindBenchmark b = new StoreKindBenchmark();
        b.size = 1L << 26;
        b.threads = Runtime.getRuntime().availableProcessors();
        b.setup();
        String[] names = {"copyStreaming", "copyPlainStores", "copyVectorLoop", "reluVectorLoop", "reluThroughScratch"};
        Runnable[] runs = {b::copyStreaming, b::copyPlainStores, b::copyVectorLoop, b::reluVectorLoop, b::reluThroughScratch};
        for (Runnable r : runs) {
            long stop = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < stop) {
                r.run();
            }
        }
        long[] best = new long[runs.length];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        for (int k = 0; k < rounds; k++) {
            for (int c = 0; c < runs.length; c++) {
                long t0 = System.nanoTime();
                runs[c].run();
                best[c] = Math.min(best[c], System.nanoTime() - t0);
            }
        }
        for (int c = 0; c < runs.length; c++) {
            double gbs = b.size * 8.0 / best[c];
            System.out.printf("%-20s %7.2f ms %6.2f Gelem/s %6.1f GB/s (8 B/elem) %5.2f of copyStreaming%n", names[c],
                    best[c] / 1e6, b.size / (double) best[c], gbs, best[0] / (double) best[c]);
        }
        b.tearDown();
    }
}
