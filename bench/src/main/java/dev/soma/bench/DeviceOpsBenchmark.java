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
 * Every op, forward and backward, float32 and float64, on the GPU backends, from 2^12 elements
 * (cache-resident) to 2^26 (DRAM-resident), kernel-only ({@code mode=kernel}: data resident on the
 * device) and end to end ({@code mode=e2e}: host tensors through the {@code Engine}, transfers
 * included). Softmax runs rows of 1024 here (row lengths from 32 to 65536 are
 * {@link DeviceSoftmaxRowsBenchmark}'s); PReLU runs as (N, 64 channels, min(1024, size / 64)).
 *
 * <p>The score is the time of one call: each invocation makes {@value #CALLS} calls and then waits
 * for the device, so launch latency overlaps as it does in a real queue. Each trial first runs the
 * op at full size and checks three windows of the output against the float64 reference
 * ({@link OpCase#validate}); a wrong result fails the trial instead of being timed. A backend with
 * no device here, or float64 on an OpenCL device without cl_khr_fp64, also fails the trial with
 * the reason; JMH goes on with the next parameters (pass {@code -p backend=opencl} on a machine
 * without CUDA to avoid the failures). The GPU baseline is {@link DeviceCopyBenchmark}, run in the
 * same JMH run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=8g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@OperationsPerInvocation(DeviceOpsBenchmark.CALLS)
public class DeviceOpsBenchmark {
    /** Calls per invocation, before one wait for the device. */
    static final int CALLS = 8;
    static final long ROW = 1024;

    @Param({"opencl", "cuda"})
    public String backend;

    @Param({"sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "celu", "selu", "gelu", "gelu_tanh", "silu",
        "softplus", "mish", "relu6", "hardsigmoid", "hardswish", "softmax", "log_softmax"})
    public String op;

    @Param({"forward", "backward"})
    public String direction;

    @Param({"F32", "F64"})
    public String dtype;

    /** 2^12 (cache-resident) to 2^26 (DRAM-resident) elements. */
    @Param({"4096", "65536", "1048576", "16777216", "67108864"})
    public long size;

    @Param({"kernel", "e2e"})
    public String mode;

    private DeviceOpTrial trial;

    @Setup(Level.Trial)
    public void setup() {
        trial = new DeviceOpTrial(backend, op, direction, dtype, size, Math.min(ROW, size), mode);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (trial != null) {
            trial.close();
        }
    }

    @Benchmark
    public void run() {
        trial.run(CALLS);
    }
}
