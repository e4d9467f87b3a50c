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
 * so that a burst of load from other processes hits every kernel alike. Three copies run each round
 * (see CopyBenchmark for what they do); each op is printed as a fraction of each (best against best),
 * and as the median and range over rounds of its fraction of the streaming copy and of arraycopy
 * timed in the same round, separately for the rounds whose copy ran within 20 % of the run's best copy and for the
 * others (this machine's copy switches between two speeds over minutes). Validates each kernel once
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
        // -Dquick.memory=heap for tensors over Java arrays (staged through native scratch by the kernels).
        String memory = System.getProperty("quick.memory", "native");
        MemorySegment dy = BenchData.held(BenchData.gradient(arena, t, size, 2), t, memory);
        MemorySegment out = BenchData.held(BenchData.poisoned(arena, t, size), t, memory);
        MemorySegment w = BenchData.weights(arena, t, ch, 3);
        MemorySegment dw = BenchData.poisoned(arena, t, ch);
        MemorySegment[] xs = new MemorySegment[cases.size()];
        for (int c = 0; c < cases.size(); c++) {
            Case cs = cases.get(c);
            // -Dquick.data=mixed for the validation mix; plain activations by default (CpuOpsBenchmark's data).
            try (Arena staging = Arena.ofConfined()) {
                // Heap runs copy the input to a Java array and free the native original at once.
                xs[c] = BenchData.held(BenchData.input(memory.equals("native") ? arena : staging, cs.op.defaults(), t,
                        size, 1, System.getProperty("quick.data", "activations")), t, memory);
            }
            run(kernels, cs, t, xs[c], dy, out, w, dw, size);
            BenchData.validate(cs.op.defaults(), t, cs.backward, xs[c], dy, w, out, size, row, ch);
        }
        // Warm-up: C2 compiles a kernel's loop after some 10^4 vector iterations; give each case a
        // second (more on a loaded machine, where the compiler threads wait for a core too).
        long warm = Long.getLong("quick.warmupMs", 1000) * 1_000_000L;
        for (int c = 0; c < cases.size(); c++) {
            long stop = System.nanoTime() + warm;
            while (System.nanoTime() < stop) {
                run(kernels, cases.get(c), t, xs[c], dy, out, w, dw, size);
            }
        }
        // The copies (see CopyBenchmark): native with non-temporal stores (one call per core), native
        // in 1 MiB calls (plain stores, the kernels' kind), and heap float[] arraycopy per core.
        float[] heapSrc = new float[(int) Math.min(size, Integer.MAX_VALUE - 8)];
        float[] heapDst = new float[heapSrc.length];
        String[] copies = {"copy native, streaming stores", "copy native, plain stores", "arraycopy float[]"};
        int nc = cases.size();
        long[] best = new long[nc + copies.length];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        long[][] times = new long[rounds][best.length];
        for (int r = 0; r < rounds; r++) {
            for (int c = 0; c < best.length; c++) {
                long t0 = System.nanoTime();
                if (c == nc) {
                    Copies.nativeAllCores(dy, out, size * 4, Long.MAX_VALUE);
                } else if (c == nc + 1) {
                    Copies.nativeAllCores(dy, out, size * 4, 1L << 20);
                } else if (c == nc + 2) {
                    Copies.arrayAllCores(heapSrc, heapDst);
                } else {
                    run(kernels, cases.get(c), t, xs[c], dy, out, w, dw, size);
                }
                times[r][c] = System.nanoTime() - t0;
                best[c] = Math.min(best[c], times[r][c]);
            }
        }
        for (int k = 0; k < copies.length; k++) {
            System.out.printf("%-30s %8.2f ms %6.2f Gelem/s %6.1f GB/s%n", copies[k], best[nc + k] / 1e6,
                    size / (double) best[nc + k], size * 8.0 / best[nc + k]);
        }
        for (int c = 0; c < nc; c++) {
            Case cs = cases.get(c);
            double rate = size / (best[c] / 1e9);
            double bytes = cs.backward ? 12 : 8;
            // Fraction of each copy's bytes per second (this op's bytes: 8 forward, 12 backward).
            StringBuilder fr = new StringBuilder();
            for (int k = 0; k < copies.length; k++) {
                fr.append(String.format(" %5.2f", rate * bytes / (size * 8e9 / best[nc + k])));
            }
            // The same fraction of the streaming copy and of arraycopy (the plain array
            // copy), round by round (op and copies timed within the same second): its median and
            // range hold when the machine's memory speed drifts during the run, which moves the
            // copies and the memory-bound ops but not the compute-bound ones. The rounds are split
            // by the memory level their streaming copy ran at (this machine's copy takes either
            // about 6.4 or about 10 ms at 2^26 and switches over minutes): rounds whose copy was
            // within 20 % of the run's best copy, and the others.
            List<Double> nearBest = new ArrayList<>();
            List<Double> others = new ArrayList<>();
            List<Double> arrayNearBest = new ArrayList<>();
            List<Double> arrayOthers = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                boolean near = times[r][nc] <= 1.2 * best[nc];
                (near ? nearBest : others).add(bytes / 8 * times[r][nc] / (double) times[r][c]);
                (near ? arrayNearBest : arrayOthers).add(bytes / 8 * times[r][nc + 2] / (double) times[r][c]);
            }
            System.out.printf("%-12s %-8s %8.2f ms %6.2f Gelem/s %6.1f GB/s  of copies:%s  per round, copy near its"
                    + " best / others: of streaming %s / %s, of arraycopy %s / %s%n",
                    cs.op.id(), cs.backward ? "backward" : "forward", best[c] / 1e6, rate / 1e9, rate * bytes / 1e9, fr,
                    median(nearBest), median(others), median(arrayNearBest), median(arrayOthers));
        }
    }

    /** "median [min, max] (n rounds)", or "-" for none. */
    private static String median(List<Double> v) {
        if (v.isEmpty()) {
            return "-";
        }
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return String.format("%.2f [%.2f, %.2f] (%d)", s.get(s.size() / 2), s.get(0), s.get(s.size() - 1), s.size());
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
