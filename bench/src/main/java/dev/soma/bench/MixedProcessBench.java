package dev.soma.bench;

import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kernels timed one after another in one process, each after 3000 warm-up calls on 2^16 elements
 * (in cache): the situation of a training job that uses many ops, where C2's inlining decisions
 * depend on everything that ran before (BENCHMARKS.md, sixth round). Prints the best of 15 runs of
 * 50 calls per kernel, in ns per element. The allocation side of the same question is
 * NoBoxingAfterEveryKernelTest. Run: {@code java --add-modules jdk.incubator.vector -cp
 * bench/target/benchmarks.jar dev.soma.bench.MixedProcessBench}.
 */
public final class MixedProcessBench {
    private static final long N = 1 << 16;

    private MixedProcessBench() {
    }

    public static void main(String[] args) {
        CpuKernels k = CpuKernelsProvider.fastest();
        Arena arena = Arena.ofShared();
        MemorySegment[] f = buffers(arena, DType.F32);
        MemorySegment[] d = buffers(arena, DType.F64);
        OpArgs sm = OpArgs.of(Op.SOFTMAX);
        OpArgs lsm = OpArgs.of(Op.LOG_SOFTMAX);
        Map<String, Runnable> cases = new LinkedHashMap<>();
        cases.put("softmax F32 forward, strided (len 16)", () -> k.softmaxForward(sm, DType.F32, f[0], f[2], N / 16 / 1024, 16, 1024));
        cases.put("softmax F32 backward, strided (len 16)", () -> k.softmaxBackward(sm, DType.F32, f[0], f[1], f[2], N / 16 / 1024, 16, 1024));
        cases.put("log_softmax F64 forward, strided (len 256)", () -> k.softmaxForward(lsm, DType.F64, d[0], d[2], N / 256 / 256, 256, 256));
        cases.put("softmax F64 backward, strided (len 256)", () -> k.softmaxBackward(sm, DType.F64, d[0], d[1], d[2], N / 256 / 256, 256, 256));
        cases.put("softmax F64 backward, rows of 1024", () -> k.softmaxBackward(sm, DType.F64, d[0], d[1], d[2], N / 1024, 1024, 1));
        cases.put("log_softmax F64 backward, rows of 1024", () -> k.softmaxBackward(lsm, DType.F64, d[0], d[1], d[2], N / 1024, 1024, 1));
        cases.put("softmax F32 forward, rows of 1024", () -> k.softmaxForward(sm, DType.F32, f[0], f[2], N / 1024, 1024, 1));
        cases.put("log_softmax F32 forward, rows of 1024", () -> k.softmaxForward(lsm, DType.F32, f[0], f[2], N / 1024, 1024, 1));
        cases.put("prelu F32 backward, (4, 64, 256)", () -> k.preluBackward(DType.F32, f[0], f[3], 64, f[1], f[2], f[4], 4, 64, N / 256));
        cases.put("prelu F64 forward, (4, 64, 256)", () -> k.preluForward(DType.F64, d[0], d[3], 64, d[2], 4, 64, N / 256));
        cases.put("prelu F32 backward, channels last", () -> k.preluBackward(DType.F32, f[0], f[3], 64, f[1], f[2], f[4], N / 64, 64, 1));
        cases.put("gelu F64 forward", () -> k.forward(OpArgs.of(Op.GELU), DType.F64, d[0], d[2], N));
        cases.put("gelu F32 backward", () -> k.backward(OpArgs.of(Op.GELU), DType.F32, f[0], f[1], f[2], N));
        cases.put("softplus F64 forward", () -> k.forward(OpArgs.of(Op.SOFTPLUS), DType.F64, d[0], d[2], N));
        cases.put("celu F32 backward", () -> k.backward(OpArgs.of(Op.CELU), DType.F32, f[0], f[1], f[2], N));
        cases.put("softplus (beta 2.5) F32 backward",
                () -> k.backward(OpArgs.of(Op.SOFTPLUS).withBeta(2.5), DType.F32, f[0], f[1], f[2], N));
        for (Map.Entry<String, Runnable> c : cases.entrySet()) {
            Runnable call = c.getValue();
            for (int i = 0; i < 3000; i++) {
                call.run();
            }
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 15; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 50; i++) {
                    call.run();
                }
                best = Math.min(best, (System.nanoTime() - t0) / (50.0 * N));
            }
            System.out.printf("%-44s %.3f ns/element%n", c.getKey(), best);
        }
    }

    /** x, dy, out (N elements), weights and their gradient (64): smooth data, no special values. */
    private static MemorySegment[] buffers(Arena arena, DType t) {
        MemorySegment x = arena.allocate(N * t.byteSize(), 64);
        MemorySegment dy = arena.allocate(N * t.byteSize(), 64);
        for (long i = 0; i < N; i++) {
            if (t == DType.F32) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (Math.sin(i) * 4));
                dy.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.cos(i));
            } else {
                x.setAtIndex(ValueLayout.JAVA_DOUBLE, i, Math.sin(i) * 4);
                dy.setAtIndex(ValueLayout.JAVA_DOUBLE, i, Math.cos(i));
            }
        }
        MemorySegment w = arena.allocate(64 * t.byteSize(), 64);
        for (long c = 0; c < 64; c++) {
            if (t == DType.F32) {
                w.setAtIndex(ValueLayout.JAVA_FLOAT, c, 0.01f * c);
            } else {
                w.setAtIndex(ValueLayout.JAVA_DOUBLE, c, 0.01 * c);
            }
        }
        return new MemorySegment[] {x, dy, arena.allocate(N * t.byteSize(), 64), w, arena.allocate(64 * t.byteSize(), 64)};
    }
}
