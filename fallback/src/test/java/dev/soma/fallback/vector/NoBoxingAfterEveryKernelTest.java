package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.management.ManagementFactory;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every kernel, once compiled in a process that has run every other kernel, allocates (almost)
 * nothing per element. A long-running training process is such a process, and it is where C2's
 * inlining budget bites: JDK methods' branch and type profiles are shared by every caller, so
 * each kernel that runs makes the next compilations parse more, and a loop that passes C2's node
 * cutoff leaves a helper out of line and allocates a vector per iteration (3 to 25 times slower).
 * {@link NoBoxingTest} checks single kernels in a fresh JVM; this first runs every kernel (every
 * op, both directions, float32 and float64, native and array memory, with vector tails, rows and
 * strided softmax, PReLU) and then measures each. All offenders are reported together.
 */
class NoBoxingAfterEveryKernelTest {
    private static final CpuKernels VECTOR = new VectorKernels();
    /**
     * 16 rows of 1024, 1003 or 333 (a tail in every row): under the parallel thresholds, so on this
     * thread. PReLU: 64 channels with rows of 1024, else 37 (a tail in every channels-last row).
     */
    private static final int ROWS = 16;
    /**
     * A boxed vector per iteration costs 6.5 bytes per element (float lanes) or 13 (double lanes);
     * per-call scratch stays under 3 (PReLU's per-channel accumulators at 64 channels are the most).
     */
    private static final double MAX_BYTES_PER_ELEMENT = 4.0;

    private record Case(String name, Runnable call, long elements) {
    }

    @Test
    void everyKernelAllocatesNoVectorsAfterAllHaveRun() {
        List<Case> cases = new ArrayList<>();
        for (int len : new int[] {333, 1003, 1024}) {
            for (DType t : DType.values()) {
                for (boolean heap : new boolean[] {false, true}) {
                    for (Op op : Op.values()) {
                        for (boolean backward : new boolean[] {false, true}) {
                            cases.addAll(casesOf(op, t, heap, backward, len));
                        }
                    }
                }
            }
        }
        // Everything runs before anything is measured; rows of 333 only warm up.
        for (int round = 0; round < 3; round++) {
            for (Case c : cases) {
                for (int i = 0; i < 40; i++) {
                    c.call().run();
                }
            }
        }
        List<String> boxing = new ArrayList<>();
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (Case c : cases) {
            if (c.name().contains("len 333 ")) {
                continue;
            }
            double perElement = Double.NaN;
            long deadline = System.nanoTime() + 4_000_000_000L;
            while (System.nanoTime() < deadline) {
                for (int i = 0; i < 100; i++) {
                    c.call().run();
                }
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 10; i++) {
                    c.call().run();
                }
                perElement = (threads.getCurrentThreadAllocatedBytes() - before) / (10.0 * c.elements());
                if (perElement < MAX_BYTES_PER_ELEMENT) {
                    break;
                }
            }
            if (!(perElement < MAX_BYTES_PER_ELEMENT)) {
                boxing.add(String.format("%s: %.1f B/element", c.name(), perElement));
            }
        }
        assertTrue(boxing.isEmpty(), boxing.size() + " kernels still allocate after 4 s (a vector helper compiled out of line): "
                + String.join("; ", boxing));
    }

    private static List<Case> casesOf(Op op, DType t, boolean heap, boolean backward, int len) {
        long n = (long) ROWS * len;
        MemorySegment x = TestData.alloc(t, n, heap);
        MemorySegment dy = TestData.alloc(t, n, heap);
        MemorySegment y = TestData.alloc(t, n, heap);
        SplittableRandom rnd = new SplittableRandom(len * 31L + op.ordinal());
        for (long i = 0; i < n; i++) {
            TestData.set(t, x, i, rnd.nextGaussian() * 3);
            TestData.set(t, dy, i, rnd.nextDouble() - 0.5);
        }
        String name = op + " " + t + (backward ? " backward" : " forward") + (heap ? " arrays" : " native") + " len " + len;
        OpArgs args = OpArgs.of(op);
        return switch (op.family()) {
            case ELEMENTWISE -> {
                // Defaults, and parameters off the fast paths (negative or fractional alpha, beta not a
                // power of two): each may compile its own branches.
                List<OpArgs> variants = switch (op) {
                    case SOFTPLUS -> List.of(args, args.withBeta(2.5), args.withBeta(0.5).withThreshold(30));
                    case LEAKY_RELU, ELU, CELU -> List.of(args, args.withAlpha(-0.5), args.withAlpha(2.5));
                    default -> List.of(args);
                };
                List<Case> out = new ArrayList<>();
                for (OpArgs a : variants) {
                    out.add(new Case(name + " " + a, backward ? () -> VECTOR.backward(a, t, x, dy, y, n)
                            : () -> VECTOR.forward(a, t, x, y, n), n));
                }
                yield out;
            }
            case CHANNEL_WEIGHTED -> {
                long channels = len == 1024 ? 64 : 37;
                MemorySegment w = TestData.alloc(t, channels, heap);
                MemorySegment dw = TestData.alloc(t, channels, heap);
                for (long c = 0; c < channels; c++) {
                    TestData.set(t, w, c, 0.01 * c);
                }
                long inner = n / channels;
                long shortInner = inner / 16;
                // (1, C, inner), (16, C, inner / 16) (the forward with expanded weights) and
                // channels-last (outer, C, 1).
                yield List.of(
                        new Case(name + " channels-first", backward
                                ? () -> VECTOR.preluBackward(t, x, w, channels, dy, y, dw, 1, channels, inner)
                                : () -> VECTOR.preluForward(t, x, w, channels, y, 1, channels, inner), inner * channels),
                        new Case(name + " channels-first, 16 periods", backward
                                ? () -> VECTOR.preluBackward(t, x, w, channels, dy, y, dw, 16, channels, shortInner)
                                : () -> VECTOR.preluForward(t, x, w, channels, y, 16, channels, shortInner),
                                16 * shortInner * channels),
                        new Case(name + " channels-last", backward
                                ? () -> VECTOR.preluBackward(t, x, w, channels, dy, y, dw, inner, channels, 1)
                                : () -> VECTOR.preluForward(t, x, w, channels, y, inner, channels, 1), inner * channels));
            }
            case ROW_REDUCTION -> List.of(
                    new Case(name + " rows", backward ? () -> VECTOR.softmaxBackward(args, t, x, dy, y, ROWS, len, 1)
                            : () -> VECTOR.softmaxForward(args, t, x, y, ROWS, len, 1), n),
                    new Case(name + " strided", backward ? () -> VECTOR.softmaxBackward(args, t, x, dy, y, 1, ROWS, len)
                            : () -> VECTOR.softmaxForward(args, t, x, y, 1, ROWS, len), n),
                    // Long strided rows: sums over a pairwise tree of blocks.
                    new Case(name + " strided long rows", backward ? () -> VECTOR.softmaxBackward(args, t, x, dy, y, 1, len, ROWS)
                            : () -> VECTOR.softmaxForward(args, t, x, y, 1, len, ROWS), n));
        };
    }
}
