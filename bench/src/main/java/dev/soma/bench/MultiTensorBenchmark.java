package dev.soma.bench;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The multi-tensor path: {@code tensors} host tensors of {@code elements} each (an optimizer's
 * parameters) through one {@link Engine#forwardMany}/{@link Engine#backwardMany} call ({@link #many})
 * against a loop of one {@link Engine#forward}/{@link Engine#backward} per tensor ({@link #loop}),
 * on the CPU and the GPU backends. Both return new tensors (the API's contract), so both pay the
 * same allocations. Score: time for all the tensors. Setup checks every output of both paths
 * against the float64 reference; a backend with no device here fails the trial with the reason.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "-Xms2g", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class MultiTensorBenchmark {
    @Param({"cpu", "opencl", "cuda"})
    public String backend;

    @Param({"relu", "gelu"})
    public String op;

    @Param({"forward", "backward"})
    public String direction;

    @Param({"F32"})
    public String dtype;

    @Param({"1000"})
    public int tensors;

    @Param({"4096"})
    public int elements;

    private Engine engine;
    private OpArgs args;
    private boolean backward;
    private List<Tensor> xs;
    private List<Tensor> dys;

    @Setup(Level.Trial)
    public void setup() {
        BackendKind kind = BackendKind.parse(backend);
        try {
            engine = Engine.create(kind);
        } catch (BackendUnavailableException e) {
            throw new IllegalStateException("no " + kind.id() + " backend on this machine: " + e.getMessage()
                    + "; this trial is skipped as failed. Pass -p backend=<the backends you have> to run only those", e);
        }
        args = Op.byId(op).defaults();
        backward = direction.equals("backward");
        DType t = DType.valueOf(dtype);
        xs = new ArrayList<>(tensors);
        dys = new ArrayList<>(tensors);
        for (int i = 0; i < tensors; i++) {
            Tensor x = Tensor.allocate(t, elements);
            Tensor dy = Tensor.allocate(t, elements);
            Samples.fillInput(args, t, x.segment(), elements, 10 + i);
            Samples.fillGradient(t, dy.segment(), elements, 100_000 + i);
            xs.add(x);
            dys.add(dy);
        }
        check("forwardMany/backwardMany", many());
        check("a loop of forward/backward", loop());
    }

    private void check(String path, List<Tensor> outs) {
        if (outs.size() != tensors) {
            throw new IllegalStateException(path + " returned " + outs.size() + " tensors for " + tensors);
        }
        for (int i = 0; i < tensors; i++) {
            ResultCheck.check(engine.description() + " " + path + ", tensor " + i, args, xs.get(i),
                    backward ? dys.get(i) : null, null, outs.get(i));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    /** One call for every tensor. */
    @Benchmark
    public List<Tensor> many() {
        return backward ? engine.backwardMany(args, xs, dys) : engine.forwardMany(args, xs);
    }

    /** One call per tensor. */
    @Benchmark
    public List<Tensor> loop() {
        List<Tensor> outs = new ArrayList<>(tensors);
        for (int i = 0; i < tensors; i++) {
            outs.add(backward ? engine.backward(args, xs.get(i), dys.get(i)) : engine.forward(args, xs.get(i)));
        }
        return outs;
    }
}
