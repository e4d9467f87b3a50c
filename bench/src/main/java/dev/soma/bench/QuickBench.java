package dev.soma.bench;

import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A quick interleaved check for a loaded machine (not a replacement for the JMH tables): every
 * round times each (op, direction) once and a native copy once, and the best time of each is kept,
 * so that a burst of load from other processes hits every kernel alike. Validates each kernel once
 * against the reference first, as the JMH benchmark does.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.soma.bench.QuickBench \
 *     [size] [rounds] op[:backward] ...</pre>
 */
public final class QuickBench {
    private QuickBench() {
    }

    private record Case(Op op, boolean backward) {
    }

    public static void main(String[] argv) {
        long size = Long.parseLong(argv[0]);
        int rounds = Integer.parseInt(argv[1]);
        List<Case> cases = new ArrayList<>();
        for (int k = 2; k < argv.length; k++) {
            String[] p = argv[k].split(":");
            cases.add(new Case(Op.byId(p[0]), p.length > 1 && p[1].startsWith("b")));
        }
        DType t = DType.F32;
        CpuKernels kernels = CpuKernelsProvider.fastest();
        Arena arena = Arena.ofShared();
        long row = CpuOpsBenchmark.DEFAULT_ROW;
        long ch = CpuOpsBenchmark.PRELU_CHANNELS;
        MemorySegment dy = BenchData.gradient(arena, t, size, 2);
        MemorySegment out = BenchData.poisoned(arena, t, size);
        MemorySegment w = BenchData.weights(arena, t, ch, 3);
        MemorySegment dw = BenchData.poisoned(arena, t, ch);
        MemorySegment[] xs = new MemorySegment[cases.size()];
        for (int c = 0; c < cases.size(); c++) {
            Case cs = cases.get(c);
            xs[c] = BenchData.input(arena, cs.op.defaults(), t, size, 1);
            if (Boolean.getBoolean("quick.uniform")) {
                // Plain activations, uniform in [-8, 8): no NaN, infinities, denormals or huge values.
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
                for (long i = 0; i < size; i++) {
                    xs[c].setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-8, 8));
                }
            }
            run(kernels, cs, t, xs[c], dy, out, w, dw, size);
            BenchData.validate(cs.op.defaults(), t, cs.backward, xs[c], dy, w, out, size, row, ch);
        }
        // Warm-up: C2 compiles a kernel's loop after some 10^4 vector iterations; give each case a second.
        for (int c = 0; c < cases.size(); c++) {
            long stop = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < stop) {
                run(kernels, cases.get(c), t, xs[c], dy, out, w, dw, size);
            }
        }
        long[] best = new long[cases.size() + 1];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        for (int r = 0; r < rounds; r++) {
            for (int c = 0; c <= cases.size(); c++) {
                long t0 = System.nanoTime();
                if (c == cases.size()) {
                    copyAllCores(dy, out, size * 4);
                } else {
                    run(kernels, cases.get(c), t, xs[c], dy, out, w, dw, size);
                }
                best[c] = Math.min(best[c], System.nanoTime() - t0);
            }
        }
        double copyRate = size / (best[cases.size()] / 1e9);
        System.out.printf("copy (native, all cores) %.2f ms %.2f Gelem/s%n", best[cases.size()] / 1e6,
                copyRate / 1e9);
        for (int c = 0; c < cases.size(); c++) {
            Case cs = cases.get(c);
            double rate = size / (best[c] / 1e9);
            double bytes = cs.backward ? 12 : 8;
            System.out.printf("%-12s %-8s %8.2f ms %6.2f Gelem/s %6.1f GB/s%n", cs.op.id(),
                    cs.backward ? "backward" : "forward", best[c] / 1e6, rate / 1e9, rate * bytes / 1e9);
        }
    }

    private static void copyAllCores(MemorySegment src, MemorySegment dst, long bytes) {
        int chunks = Runtime.getRuntime().availableProcessors();
        long per = (bytes / chunks + 63) / 64 * 64;
        java.util.stream.IntStream.range(0, chunks).parallel().forEach(c -> {
            long from = c * per;
            long len = Math.min(bytes, from + per) - from;
            if (len > 0) {
                MemorySegment.copy(src, from, dst, from, len);
            }
        });
    }

    private static void run(CpuKernels k, Case cs, DType t, MemorySegment x, MemorySegment dy, MemorySegment out,
                            MemorySegment w, MemorySegment dw, long size) {
        OpArgs args = cs.op.defaults();
        long row = CpuOpsBenchmark.DEFAULT_ROW;
        long ch = CpuOpsBenchmark.PRELU_CHANNELS;
        if (cs.op.family() == Family.ELEMENTWISE) {
            if (cs.backward) {
                k.backward(args, t, x, dy, out, size);
            } else {
                k.forward(args, t, x, out, size);
            }
        } else if (cs.op == Op.PRELU) {
            if (cs.backward) {
                k.preluBackward(t, x, w, ch, dy, out, dw, size / (ch * row), ch, row);
            } else {
                k.preluForward(t, x, w, ch, out, size / (ch * row), ch, row);
            }
        } else if (cs.backward) {
            k.softmaxBackward(args, t, x, dy, out, size / row, row, 1);
        } else {
            k.softmaxForward(args, t, x, out, size / row, row, 1);
        }
    }
}
