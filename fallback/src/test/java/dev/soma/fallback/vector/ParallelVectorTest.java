package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;

/** Chunking covers every element once, split boundaries are correct, and concurrent callers agree with serial. */
class ParallelVectorTest {
    private static final CpuKernels VECTOR = new VectorKernels();
    private static final CpuKernels REF = TestData.reference();

    @Test
    void plansCoverTheRangeInAlignedChunks() {
        for (long items : new long[] {0, 1, 63, 64, 65, 8191, 8193, 65535, 65537, 65536 * 2 + 17, 1 << 20, (1 << 20) + 3, (1 << 18) + 1}) {
            for (long threshold : new long[] {1, 1 << 13, VectorKernels.COSTLY_THRESHOLD, VectorKernels.CHEAP_THRESHOLD}) {
                Parallel.Plan p = Parallel.plan(items, 1, threshold, 64);
                long covered = 0;
                for (int c = 0; c < p.chunks(); c++) {
                    assertEquals(covered, p.from(c), "chunk " + c + " of " + p);
                    assertTrue(p.to(c) > p.from(c), "empty chunk " + c + " of " + p);
                    if (c < p.chunks() - 1) {
                        assertEquals(0, (p.to(c) - p.from(c)) % 64, "unaligned chunk " + c + " of " + p);
                    }
                    covered = p.to(c);
                }
                assertEquals(items, covered, "plan " + p + " for " + items);
                if (items < threshold) {
                    assertTrue(p.chunks() <= 1, "below the threshold runs on the caller: " + p);
                }
            }
        }
    }

    /** Sizes just above each threshold and with odd tails, for a cheap op and an exponential one. */
    static java.util.stream.LongStream boundarySizes() {
        long c = VectorKernels.COSTLY_THRESHOLD;
        long h = VectorKernels.CHEAP_THRESHOLD;
        return java.util.stream.LongStream.of(c - 1, c, c + 1, c + 63, 3 * c + 5, h - 1, h + 1, h + 65, 2 * h + 17,
                5 * h + 1023);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("boundarySizes")
    void splitBoundaries(long n) {
        for (Op op : new Op[] {Op.RELU, Op.GELU, Op.HARDSWISH, Op.SOFTPLUS}) {
            for (DType t : DType.values()) {
                for (boolean backward : new boolean[] {false, true}) {
                    long seed = n * 31 + op.ordinal();
                    MemorySegment x = TestData.input(op.defaults(), t, n, seed, true);
                    MemorySegment dy = TestData.gradient(t, n, seed, false);
                    MemorySegment expected = TestData.poisoned(t, n, true);
                    MemorySegment actual = TestData.poisoned(t, n, false);
                    if (backward) {
                        REF.backward(op.defaults(), t, x, dy, expected, n);
                        VECTOR.backward(op.defaults(), t, x, dy, actual, n);
                    } else {
                        REF.forward(op.defaults(), t, x, expected, n);
                        VECTOR.forward(op.defaults(), t, x, actual, n);
                    }
                    TestData.assertClose(op + " " + t + (backward ? " backward" : "") + " n=" + n, t, expected, actual, n, x);
                }
            }
        }
    }

    /** 8 threads calling at once get bit-for-bit what one call alone gets (chunking never depends on timing). */
    @Test
    void concurrentCallersMatchSerial() throws Exception {
        long n = 2 * VectorKernels.CHEAP_THRESHOLD + 77; // split for every op in the test
        DType t = DType.F32;
        MemorySegment x = TestData.input(OpArgs.of(Op.GELU), t, n, 7, true);
        MemorySegment dy = TestData.gradient(t, n, 7, true);
        long outer = 64;
        long len = n / outer;
        MemorySegment w = MemorySegment.ofArray(new float[] {0.25f, -0.5f, 0.1f, 2f});
        List<Callable<float[][]>> work = new ArrayList<>();
        Callable<float[][]> one = () -> {
            MemorySegment y = TestData.poisoned(t, n, true);
            MemorySegment g = TestData.poisoned(t, n, false);
            MemorySegment s = TestData.poisoned(t, outer * len, true);
            MemorySegment dx = TestData.poisoned(t, n, true);
            MemorySegment dw = TestData.poisoned(t, 4, true);
            VECTOR.forward(OpArgs.of(Op.GELU), t, x, y, n);
            VECTOR.backward(OpArgs.of(Op.MISH), t, x, dy, g, n);
            VECTOR.softmaxForward(OpArgs.of(Op.SOFTMAX), t, x, s, outer, len, 1);
            VECTOR.preluBackward(t, x, w, 4, dy, dx, dw, 4, 4, n / 16);
            return new float[][] {y.toArray(ValueLayout.JAVA_FLOAT), g.toArray(ValueLayout.JAVA_FLOAT),
                s.toArray(ValueLayout.JAVA_FLOAT), dx.toArray(ValueLayout.JAVA_FLOAT), dw.toArray(ValueLayout.JAVA_FLOAT)};
        };
        float[][] serial = one.call();
        for (int k = 0; k < 8; k++) {
            work.add(one);
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (Future<float[][]> f : pool.invokeAll(work)) {
                float[][] got = f.get();
                for (int j = 0; j < serial.length; j++) {
                    assertArrayEquals(serial[j], got[j], "result " + j + " differs from the serial run");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
