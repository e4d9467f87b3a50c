package dev.soma.bench;

import dev.soma.Engine;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceRuntime;
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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The GPU baseline: a device-to-device copy of {@code size} float32 elements
 * ({@link DeviceRuntime#copy}: reads and writes {@code 4 size} bytes, the ceiling of a
 * kernel-only elementwise op) and the host-to-device and device-to-host transfers (the ceiling of
 * an end-to-end call), at the sizes of {@link DeviceOpsBenchmark}. Host memory is ordinary native
 * memory (not pinned), as the Engine's callers pass it. Score: time of one copy ({@value
 * DeviceOpsBenchmark#CALLS} per invocation, then a wait). Setup checks that each direction moves
 * the bytes unchanged; a backend with no device fails the trial with the reason.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xms1g", "-Xmx1g", "-XX:MaxDirectMemorySize=4g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@OperationsPerInvocation(DeviceOpsBenchmark.CALLS)
public class DeviceCopyBenchmark {
    @Param({"opencl", "cuda"})
    public String backend;

    @Param({"4096", "65536", "1048576", "16777216", "67108864"})
    public long size;

    private Engine engine;
    private DeviceRuntime rt;
    private Arena arena;
    private MemorySegment host;
    private MemorySegment hostOut;
    private DeviceBuffer src;
    private DeviceBuffer dst;
    private long bytes;

    @Setup(Level.Trial)
    public void setup() {
        engine = DeviceOpTrial.openDevice(backend);
        rt = ((DeviceBackend) engine.backend()).runtime();
        bytes = size * Float.BYTES;
        arena = Arena.ofShared();
        host = arena.allocate(bytes, 64);
        hostOut = arena.allocate(bytes, 64);
        for (long i = 0; i < size; i++) {
            host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f - 3f);
        }
        src = rt.allocate(bytes);
        dst = rt.allocate(bytes);
        hostToDevice();
        deviceToDevice();
        hostOut.fill((byte) 0x7f);
        rt.download(dst, 0, hostOut, bytes);
        requireSame("host -> device -> device -> host");
        hostOut.fill((byte) 0x7f);
        deviceToHost();
        requireSame("host -> device -> host");
    }

    private void requireSame(String path) {
        long at = host.mismatch(hostOut);
        if (at >= 0) {
            throw new IllegalStateException(rt.description() + ": the copy " + path + " changed byte " + at + " of "
                    + bytes + "; this benchmark refuses to time a broken copy");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        try {
            if (src != null) {
                src.close();
            }
            if (dst != null) {
                dst.close();
            }
            if (arena != null) {
                arena.close();
            }
        } finally {
            if (engine != null) {
                engine.close();
            }
        }
    }

    /** Device memory to device memory: reads and writes {@code 4 size} bytes each. */
    @Benchmark
    public void deviceToDevice() {
        for (int i = 0; i < DeviceOpsBenchmark.CALLS; i++) {
            rt.copy(src, dst, bytes);
        }
        rt.synchronize();
    }

    @Benchmark
    public void hostToDevice() {
        for (int i = 0; i < DeviceOpsBenchmark.CALLS; i++) {
            rt.upload(host, src, 0, bytes);
        }
        rt.synchronize();
    }

    @Benchmark
    public void deviceToHost() {
        for (int i = 0; i < DeviceOpsBenchmark.CALLS; i++) {
            rt.download(src, 0, hostOut, bytes);
        }
    }
}
