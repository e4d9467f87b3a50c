package dev.soma.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ceiling for an elementwise op: copying a float array (4 bytes read and 4 written per element),
 * on one thread and split over every core. Run in the same JMH run as {@link CpuOpsBenchmark} and
 * report ops as a fraction of the faster copy.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=4g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CopyBenchmark {
    @Param({"67108864"})
    public int size;

    private float[] src;
    private float[] dst;
    private MemorySegment nativeSrc;
    private MemorySegment nativeDst;

    @Setup(Level.Trial)
    public void setup() {
        src = new float[size];
        dst = new float[size];
        for (int i = 0; i < size; i++) {
            src[i] = i * 0.5f;
        }
        nativeSrc = Arena.ofAuto().allocate((long) size * Float.BYTES, 64);
        nativeDst = Arena.ofAuto().allocate((long) size * Float.BYTES, 64);
        MemorySegment.copy(MemorySegment.ofArray(src), 0, nativeSrc, 0, (long) size * Float.BYTES);
        copyNativeAllCores();
        if (nativeDst.getAtIndex(ValueLayout.JAVA_FLOAT, size - 1) != src[size - 1]) {
            throw new IllegalStateException("native copy is wrong");
        }
        copyAllCores();
        for (int i = 0; i < size; i += 4099) {
            if (dst[i] != src[i]) {
                throw new IllegalStateException("copy is wrong at " + i);
            }
        }
    }

    @Benchmark
    public float[] copyOneThread() {
        System.arraycopy(src, 0, dst, 0, size);
        return dst;
    }

    /** Native memory (as the kernels' benchmark uses), one chunk per core. */
    @Benchmark
    public Object copyNativeAllCores() {
        long bytes = (long) size * Float.BYTES;
        int chunks = Runtime.getRuntime().availableProcessors();
        long per = (bytes / chunks + 63) / 64 * 64;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            long from = c * per;
            long len = Math.min(bytes, from + per) - from;
            if (len > 0) {
                MemorySegment.copy(nativeSrc, from, nativeDst, from, len);
            }
        });
        return nativeDst;
    }

    /** One chunk per core, as the kernels split their work. */
    @Benchmark
    public float[] copyAllCores() {
        int chunks = Runtime.getRuntime().availableProcessors();
        int per = (size + chunks - 1) / chunks;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = c * per;
            int len = Math.min(size, from + per) - from;
            if (len > 0) {
                System.arraycopy(src, from, dst, from, len);
            }
        });
        return dst;
    }
}
