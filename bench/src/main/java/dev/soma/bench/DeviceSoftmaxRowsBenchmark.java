package dev.soma.bench;

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
 * Softmax and log-softmax on the GPU backends at row lengths from 32 to 65536 (the rows a kernel
 * handles with one thread per row, one work-group per row, and several groups per row), over a
 * fixed total of {@code size} elements ({@code size / row} rows). Same modes, validation and
 * failure rules as {@link DeviceOpsBenchmark}; a separate class so that the row lengths do not
 * multiply the elementwise ops' runs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=8g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@OperationsPerInvocation(DeviceOpsBenchmark.CALLS)
public class DeviceSoftmaxRowsBenchmark {
    @Param({"opencl", "cuda"})
    public String backend;

    @Param({"softmax", "log_softmax"})
    public String op;

    @Param({"forward", "backward"})
    public String direction;

    @Param({"F32", "F64"})
    public String dtype;

    @Param({"32", "128", "512", "1024", "4096", "16384", "32768", "65536"})
    public long row;

    /** Total elements: 2^24 (64 MiB of float32, beyond any cache). */
    @Param({"16777216"})
    public long size;

    @Param({"kernel", "e2e"})
    public String mode;

    private DeviceOpTrial trial;

    @Setup(Level.Trial)
    public void setup() {
        trial = new DeviceOpTrial(backend, op, direction, dtype, size, row, mode);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (trial != null) {
            trial.close();
        }
    }

    @Benchmark
    public void run() {
        trial.run(DeviceOpsBenchmark.CALLS);
    }
}
