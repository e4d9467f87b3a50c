package dev.soma.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
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
 * report ops as a fraction of a copy.
 *
 * <p>What the copies do on x86-64 with AVX-512 (HotSpot's arraycopy stub, disassembled from
 * {@code -XX:+PrintStubCode} on JDK 25): {@code System.arraycopy} and {@code MemorySegment.copy}
 * reach the same stub; a call of 2.5 MiB or more copies with 64-byte loads, software prefetch and
 * non-temporal stores ({@code vmovntdq}), which write memory without first reading each destination
 * line (no read for ownership). Shorter calls use plain 64-byte stores. So {@link #copyAllCores},
 * {@link #copyOneThread} and {@link #copyNativeAllCores} move 8 bytes of DRAM traffic per element,
 * while a Vector API kernel, which has only plain stores, moves 12 (the output line is read first).
 * {@link #copyNativePlainStoresAllCores} is the copy with the kernels' kind of store: the same split
 * over cores, in 1 MiB calls. {@link StoreKindBenchmark} takes the gap apart further.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=4g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CopyBenchmark {
    /** Below the arraycopy stub's non-temporal threshold (2.5 MiB per call). */
    private static final long PLAIN_CALL_BYTES = 1L << 20;

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
        nativeDst.fill((byte) 0);
        copyNativePlainStoresAllCores();
        if (nativeDst.getAtIndex(ValueLayout.JAVA_FLOAT, size - 1) != src[size - 1]) {
            throw new IllegalStateException("native copy in 1 MiB calls is wrong");
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
        Copies.nativeAllCores(nativeSrc, nativeDst, (long) size * Float.BYTES, Long.MAX_VALUE);
        return nativeDst;
    }

    /**
     * As {@link #copyNativeAllCores}, in 1 MiB calls: below the stub's 2.5 MiB threshold, so plain
     * stores, the store the kernels have: same bytes, same kind of store, same cores. (Measured on the
     * loaded 2-core machine it ran level with a Vector API copy loop and with relu, and 0.67 to 0.91
     * of the streaming copy; see StoreKindBenchmark.)
     */
    @Benchmark
    public Object copyNativePlainStoresAllCores() {
        Copies.nativeAllCores(nativeSrc, nativeDst, (long) size * Float.BYTES, PLAIN_CALL_BYTES);
        return nativeDst;
    }

    /** One chunk per core, as the kernels split their work. */
    @Benchmark
    public float[] copyAllCores() {
        Copies.arrayAllCores(src, dst);
        return dst;
    }
}
