package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Work on heap segments runs over the arrays themselves (elementwise ops whose operands are all
 * arrays: {@link HeapArrays}) or through native scratch ({@link Staging}); either must give the very
 * bits of the same work on native segments, for every op, every mix of heap and native operands
 * (in place, slices at an offset into their arrays and read-only inputs included), sizes around the
 * block and the parallel split, long rows that borrow their scratch, strided softmax columns
 * gathered into scratch, and PReLU rows whose channel depends on the block's first row.
 */
class HeapStagingTest {
    private static final VectorKernels VECTOR = new VectorKernels();
    private static final long B = Staging.BLOCK;

    /**
     * How the operands are held: x, dy and the output each heap or native; the output being x (in
     * place); heap slices starting inside their arrays (each at its own offset); read-only heap inputs
     * (no array to reach: staged).
     */
    enum Mix {
        ALL_HEAP, HEAP_IN_NATIVE_OUT, NATIVE_IN_HEAP_OUT, HEAP_IN_PLACE, HEAP_AT_OFFSETS, READ_ONLY_HEAP_IN;

        boolean inputHeap() {
            return this != NATIVE_IN_HEAP_OUT;
        }

        boolean outputHeap() {
            return this != HEAP_IN_NATIVE_OUT;
        }
    }

    /** Offsets (in elements) into a larger array, distinct per operand, for HEAP_AT_OFFSETS. */
    private static int offsetCounter = 0;

    static Stream<Arguments> elementwise() {
        long[] sizes = {0, 1, 17, B - 1, B, B + 1, 3 * B + 5, VectorKernels.COSTLY_THRESHOLD * 3 + 7};
        Stream.Builder<Arguments> b = Stream.builder();
        for (Op op : Op.values()) {
            if (op.family() != Family.ELEMENTWISE) {
                continue;
            }
            for (DType t : DType.values()) {
                for (Mix mix : Mix.values()) {
                    for (long n : sizes) {
                        b.add(Arguments.of(op, t, mix, n));
                    }
                }
            }
        }
        // The cheap ops split across threads only from 2^18 elements.
        for (Mix mix : Mix.values()) {
            b.add(Arguments.of(Op.RELU, DType.F32, mix, VectorKernels.CHEAP_THRESHOLD * 2 + 77));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1} {2} n={3}")
    @MethodSource("elementwise")
    void elementwiseMatchesNative(Op op, DType t, Mix mix, long n) {
        OpArgs args = op.defaults();
        MemorySegment x = native_(t, n);
        Samples.fillInput(args, t, x, n, 11 + n);
        MemorySegment dy = native_(t, n);
        Samples.fillGradient(t, dy, n, 12 + n);

        MemorySegment want = native_(t, n);
        VECTOR.forward(args, t, x, want, n);
        MemorySegment xs = input(t, x, n, mix);
        MemorySegment got = mix == Mix.HEAP_IN_PLACE ? xs : output(t, n, mix);
        VECTOR.forward(args, t, xs, got, n);
        assertSameBits(op + " forward", want, got);

        MemorySegment wantDx = native_(t, n);
        VECTOR.backward(args, t, x, dy, wantDx, n);
        MemorySegment xb = input(t, x, n, mix);
        MemorySegment dyb = input(t, dy, n, mix);
        MemorySegment gotDx = mix == Mix.HEAP_IN_PLACE ? dyb : output(t, n, mix);
        VECTOR.backward(args, t, xb, dyb, gotDx, n);
        assertSameBits(op + " backward", wantDx, gotDx);
    }

    static Stream<Arguments> softmaxShapes() {
        long[][] shapes = {
            {3, 7, 1}, {5, 1000, 1}, {2, 5000, 1}, {9, 3 * B + 1, 1},
            // A row over the kept scratch (1 MiB): the block borrows memory for the call.
            {2, 300_000, 1},
            {4, 33, 9}, {2, 600, 20}, {3, 5, 700},
            // Strided columns whose gathered piece passes the kept scratch (float64: 40000 x 8 x 8 bytes).
            {1, 40_000, 9},
        };
        Stream.Builder<Arguments> b = Stream.builder();
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            for (DType t : DType.values()) {
                for (long[] s : shapes) {
                    for (Mix mix : new Mix[] {Mix.ALL_HEAP, Mix.HEAP_IN_NATIVE_OUT, Mix.NATIVE_IN_HEAP_OUT, Mix.HEAP_AT_OFFSETS,
                            Mix.READ_ONLY_HEAP_IN, Mix.HEAP_IN_PLACE}) {
                        b.add(Arguments.of(op, t, mix, s[0], s[1], s[2]));
                    }
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1} {2} ({3}, {4}, {5})")
    @MethodSource("softmaxShapes")
    void softmaxMatchesNative(Op op, DType t, Mix mix, long outer, long len, long inner) {
        OpArgs args = op.defaults();
        long n = outer * len * inner;
        MemorySegment x = native_(t, n);
        Samples.fillInput(args, t, x, n, 21 + n);
        MemorySegment dy = native_(t, n);
        Samples.fillGradient(t, dy, n, 22 + n);

        MemorySegment want = native_(t, n);
        VECTOR.softmaxForward(args, t, x, want, outer, len, inner);
        MemorySegment xin = input(t, x, n, mix);
        MemorySegment got = mix == Mix.HEAP_IN_PLACE ? xin : output(t, n, mix);
        VECTOR.softmaxForward(args, t, xin, got, outer, len, inner);
        assertSameBits(op + " forward", want, got);

        MemorySegment wantDx = native_(t, n);
        VECTOR.softmaxBackward(args, t, x, dy, wantDx, outer, len, inner);
        MemorySegment dyin = input(t, dy, n, mix);
        MemorySegment gotDx = mix == Mix.HEAP_IN_PLACE ? dyin : output(t, n, mix);
        VECTOR.softmaxBackward(args, t, input(t, x, n, mix), dyin, gotDx, outer, len, inner);
        assertSameBits(op + " backward", wantDx, gotDx);
    }

    static Stream<Arguments> preluShapes() {
        // {outer, channels, inner, weights}: one weight; channels last; rows of 700 (two per block,
        // so a block's first row is not channel 0); rows longer than a block.
        long[][] shapes = {{1, 1, 3 * B + 5, 1}, {40, 37, 1, 37}, {3, 5, 700, 5}, {2, 3, B + 9, 3}, {64, 3, 1000, 3}};
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType t : DType.values()) {
            for (long[] s : shapes) {
                for (Mix mix : new Mix[] {Mix.ALL_HEAP, Mix.HEAP_IN_NATIVE_OUT, Mix.NATIVE_IN_HEAP_OUT, Mix.HEAP_AT_OFFSETS,
                            Mix.READ_ONLY_HEAP_IN}) {
                    b.add(Arguments.of(t, mix, s[0], s[1], s[2], s[3]));
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1} ({2}, {3}, {4}) weights={5}")
    @MethodSource("preluShapes")
    void preluMatchesNative(DType t, Mix mix, long outer, long channels, long inner, long weights) {
        long n = outer * channels * inner;
        MemorySegment x = native_(t, n);
        Samples.fillInput(Op.PRELU.defaults(), t, x, n, 31 + n);
        MemorySegment dy = native_(t, n);
        Samples.fillGradient(t, dy, n, 32 + n);
        MemorySegment w = native_(t, weights);
        for (long c = 0; c < weights; c++) {
            TestData.set(t, w, c, 0.1 * (c + 1) - 0.7);
        }

        MemorySegment want = native_(t, n);
        VECTOR.preluForward(t, x, w, weights, want, outer, channels, inner);
        MemorySegment got = output(t, n, mix);
        MemorySegment wh = input(t, w, weights, mix);
        VECTOR.preluForward(t, input(t, x, n, mix), wh, weights, got, outer, channels, inner);
        assertSameBits("prelu forward", want, got);

        MemorySegment wantDx = native_(t, n);
        MemorySegment wantDw = native_(t, weights);
        VECTOR.preluBackward(t, x, w, weights, dy, wantDx, wantDw, outer, channels, inner);
        MemorySegment gotDx = output(t, n, mix);
        MemorySegment gotDw = output(t, weights, mix);
        VECTOR.preluBackward(t, input(t, x, n, mix), wh, weights, input(t, dy, n, mix), gotDx, gotDw,
                outer, channels, inner);
        assertSameBits("prelu backward dx", wantDx, gotDx);
        assertSameBits("prelu backward dw", wantDw, gotDw);
    }

    private static MemorySegment native_(DType t, long n) {
        return Arena.ofAuto().allocate(Math.max(1, n) * t.byteSize(), 64).asSlice(0, n * t.byteSize());
    }

    /** An input for the mix: a copy of {@code src}, held as the mix says. */
    private static MemorySegment input(DType t, MemorySegment src, long n, Mix mix) {
        MemorySegment s = held(t, src, n, mix.inputHeap(), mix == Mix.HEAP_AT_OFFSETS);
        return mix == Mix.READ_ONLY_HEAP_IN ? s.asReadOnly() : s;
    }

    private static MemorySegment output(DType t, long n, Mix mix) {
        return held(t, null, n, mix.outputHeap(), mix == Mix.HEAP_AT_OFFSETS);
    }

    /** A copy of {@code src} (or poison when null) on the heap (a slice inside a larger array when {@code offset}) or in native memory. */
    private static MemorySegment held(DType t, MemorySegment src, long n, boolean heap, boolean offset) {
        int at = offset ? 1 + (offsetCounter++ % 7) : 0;
        MemorySegment s = heap ? (t == DType.F32 ? MemorySegment.ofArray(new float[(int) n + at])
                : MemorySegment.ofArray(new double[(int) n + at])).asSlice(at * t.byteSize(), n * t.byteSize())
                : native_(t, n);
        if (src != null) {
            MemorySegment.copy(src, 0, s, 0, n * t.byteSize());
        } else {
            for (long i = 0; i < n; i++) {
                TestData.set(t, s, i, TestData.POISON);
            }
        }
        return s;
    }

    private static void assertSameBits(String what, MemorySegment want, MemorySegment got) {
        assertEquals(want.byteSize(), got.byteSize(), what + ": sizes");
        long at = want.mismatch(got);
        if (at >= 0) {
            fail(what + ": first differing byte " + at + " of " + want.byteSize());
        }
    }
}
