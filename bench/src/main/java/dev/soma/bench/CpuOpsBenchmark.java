package dev.soma.bench;

import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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
 * Every op, forward and backward, float32 and float64, on the scalar reference and the vector path,
 * over native memory. One invocation processes {@code size} elements: elements per second is
 * {@code size / time}. PReLU runs as (size / 65536, 64 channels, 1024); softmax as rows of 1024.
 *
 * <p>Each trial first validates the kernels' output against the scalar reference (windows at the
 * start, middle and end of the full-size run) and refuses to time wrong results.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx4g", "-XX:MaxDirectMemorySize=4g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CpuOpsBenchmark {
    /** PReLU's inner size (elements per channel per batch entry). */
    static final long PRELU_INNER = 1024;
    /** The softmax row length of the published table (and QuickBench); equal to {@link #row}'s default. */
    static final long DEFAULT_ROW = 1024;
    static final long PRELU_CHANNELS = 64;

    @Param({"sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "celu", "selu", "gelu", "gelu_tanh", "silu",
        "softplus", "mish", "relu6", "hardsigmoid", "hardswish", "softmax", "log_softmax"})
    public String op;

    @Param({"forward", "backward"})
    public String direction;

    @Param({"F32", "F64"})
    public String dtype;

    @Param({"vector", "scalar"})
    public String impl;

    /** 2^26 elements (256 MiB per float32 array, far beyond cache); 4096 (in L1) for call overhead. */
    @Param({"67108864"})
    public long size;

    /**
     * Softmax and log_softmax row length: 1024 by default; the sweep is
     * {@code -p row=32,128,512,1024,4096,16384,65536} (each must divide {@code size}).
     */
    @Param({"1024"})
    public long row;

    /**
     * Input data: "activations" (uniform over the op's range, the published tables) or "mixed" (the
     * validation mix of special values and extreme magnitudes: x86 cores take a microcode assist for
     * every instruction that produces a subnormal, which makes some ops 2-3x slower on it).
     */
    @Param({"activations"})
    public String data;

    /**
     * Where the tensors live: "native" (off-heap segments, the published tables) or "heap" (over
     * Java arrays, as {@code Tensor.of(float[])} makes them; staged through native scratch).
     */
    @Param({"native"})
    public String memory;

    private Arena arena;
    private CpuKernels kernels;
    private OpArgs args;
    private DType t;
    private boolean backward;
    private MemorySegment x;
    private MemorySegment dy;
    private MemorySegment out;
    private MemorySegment w;
    private MemorySegment dw;
    /** The arraycopy's arrays: the op's bytes as floats (none past a Java array's length). */
    private float[] heapSrc;
    private float[] heapDst;

    @Setup(Level.Trial)
    public void setup() {
        Op o = Op.byId(op);
        args = o.defaults();
        t = DType.valueOf(dtype);
        backward = direction.equals("backward");
        kernels = impl.equals("vector") ? CpuKernelsProvider.fastest() : CpuKernelsProvider.reference();
        if (!kernels.name().equals(impl)) {
            throw new IllegalStateException("asked for the " + impl + " kernels but got " + kernels.name()
                    + "; run the benchmark JVM with --add-modules jdk.incubator.vector");
        }
        long unit = o.family() == Family.ELEMENTWISE ? 1 : o == Op.PRELU ? PRELU_CHANNELS * PRELU_INNER : row;
        if (size % unit != 0) {
            throw new IllegalArgumentException(op + " needs a size that is a multiple of " + unit + ", got " + size);
        }
        arena = Arena.ofShared();
        x = BenchData.held(BenchData.input(arena, args, t, size, 1, data), t, memory);
        dy = BenchData.held(BenchData.gradient(arena, t, size, 2), t, memory);
        out = BenchData.held(BenchData.poisoned(arena, t, size), t, memory);
        w = BenchData.weights(arena, t, PRELU_CHANNELS, 3);
        dw = BenchData.poisoned(arena, t, PRELU_CHANNELS);
        long floats = size * t.byteSize() / Float.BYTES;
        if (floats <= Integer.MAX_VALUE - 8) {
            heapSrc = new float[(int) floats];
            heapDst = new float[(int) floats];
            Arrays.fill(heapSrc, 0.5f);
            Arrays.fill(heapDst, 0.25f);
        }
        run();
        if (!impl.equals("scalar")) {
            BenchData.validate(args, t, backward, x, dy, w, out, size, o == Op.PRELU ? PRELU_INNER : row, PRELU_CHANNELS);
        }
    }

    /** Start of the current iteration and the op's invocations in it (see {@link #pairWithCopy}). */
    private long iterationStart;
    private long invocations;

    @Setup(Level.Iteration)
    public void startIteration() {
        invocations = 0;
        iterationStart = System.nanoTime();
    }

    /**
     * After every iteration, outside the timed region: the iteration's mean time per call, then two
     * copies of the same bytes, each three times in a row and averaged: the streaming native copy
     * (one call per core) and {@code System.arraycopy} of a float array (one call per chunk over the
     * cores: the plain array copy). {@code bench/tools/cpu_table.py} turns each line into
     * the op's fraction of each copy. Why paired: this machine's memory speed moves between two
     * levels (a 2^26-float copy in about 6.4 or about 10 ms) over minutes, and JMH runs each
     * benchmark in its own fork, one after the other; against a copy from another fork relu once
     * came out at 1.24 of the copy and relu6, as fast, at 0.80, and even a copy from the same fork
     * can straddle a switch.
     */
    @TearDown(Level.Iteration)
    public void pairWithCopy() {
        double opMs = (System.nanoTime() - iterationStart) / 1e6 / Math.max(1, invocations);
        long bytes = size * t.byteSize();
        long t0 = System.nanoTime();
        for (int k = 0; k < 3; k++) {
            Copies.nativeAllCores(x, out, bytes, Long.MAX_VALUE);
        }
        double copyMs = (System.nanoTime() - t0) / 3e6;
        String array = "";
        if (heapSrc != null) {
            long t1 = System.nanoTime();
            for (int k = 0; k < 3; k++) {
                Copies.arrayAllCores(heapSrc, heapDst);
            }
            array = String.format(", arraycopy %.3f ms", (System.nanoTime() - t1) / 3e6);
        }
        System.out.printf("%nsoma: iteration: op %.3f ms, copy %.3f ms%s%n", opMs, copyMs, array);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void run() {
        invocations++;
        switch (args.op().family()) {
            case ELEMENTWISE -> {
                if (backward) {
                    kernels.backward(args, t, x, dy, out, size);
                } else {
                    kernels.forward(args, t, x, out, size);
                }
            }
            case CHANNEL_WEIGHTED -> {
                long outer = size / (PRELU_CHANNELS * PRELU_INNER);
                if (backward) {
                    kernels.preluBackward(t, x, w, PRELU_CHANNELS, dy, out, dw, outer, PRELU_CHANNELS, PRELU_INNER);
                } else {
                    kernels.preluForward(t, x, w, PRELU_CHANNELS, out, outer, PRELU_CHANNELS, PRELU_INNER);
                }
            }
            case ROW_REDUCTION -> {
                if (backward) {
                    kernels.softmaxBackward(args, t, x, dy, out, size / row, row, 1);
                } else {
                    kernels.softmaxForward(args, t, x, out, size / row, row, 1);
                }
            }
        }
    }
}
