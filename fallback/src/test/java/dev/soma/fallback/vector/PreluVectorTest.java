package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** PReLU forward, backward (dx and dw) with one weight and one per channel, every layout path, in place. */
class PreluVectorTest {
    private static final CpuKernels VECTOR = new VectorKernels();
    private static final CpuKernels REF = TestData.reference();

    /**
     * (outer, channels, inner, weights): one weight, rows with a weight, channels-last, parallel
     * sizes; forwards with expanded weights (Prelu.expandsWeights: rows under 128 elements, at
     * least 16 periods of at most 2^16 elements), with a vector tail in each period, on one thread
     * and in parallel, at the largest period, and just outside the rule (15 periods; a period of
     * 2^16 + 16; rows of 128); rows of whole vectors in windows (Prelu.runsInWindows): windows
     * that rows do not fill (48 elements: 3 float32 vectors), float64 only (136), the longest rows
     * (16384), in parallel with windows cut by chunks (64 x 9 rows of 256); the row loop with and
     * without a tail per row, in parallel.
     */
    static Stream<Arguments> shapes() {
        long[][] shapes = {
            {1, 1, 0, 1}, {1, 1, 1, 1}, {2, 3, 17, 1}, {2, 3, 17, 3}, {5, 1, 1000, 1}, {64, 16, 1, 16},
            {3, 33, 1, 33}, {4, 7, 4097, 7}, {4, 7, 4097, 1}, {1, 1, 1 << 20, 1}, {3, 2, 15, 2},
            {1000, 37, 1, 37}, {2, 64, 1025, 64},
            {16, 3, 17, 3}, {40, 64, 49, 64}, {512, 16, 49, 16}, {16, 512, 127, 512}, {15, 3, 17, 3},
            {16, 4097, 16, 4097}, {16, 4, 128, 4}, {16, 64, 1024, 64}, {300, 3, 133, 3},
            {2, 3000, 48, 3000}, {3, 5, 136, 5}, {2, 3, 16384, 3}, {2, 3, 16400, 3}, {64, 9, 256, 9}};
        List<Arguments> out = new ArrayList<>();
        for (long[] s : shapes) {
            for (DType t : DType.values()) {
                for (boolean backward : new boolean[] {false, true}) {
                    for (boolean inPlace : new boolean[] {false, true}) {
                        out.add(Arguments.of(t, backward, inPlace, s[0], s[1], s[2], s[3]));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} backward={1} inPlace={2} ({3}, {4}, {5}) weights={6}")
    @MethodSource("shapes")
    void matchesReference(DType t, boolean backward, boolean inPlace, long outer, long channels, long inner,
                          long weights) {
        long n = outer * channels * inner;
        long seed = System.nanoTime();
        boolean heap = (seed & 1) == 0;
        MemorySegment x = TestData.input(OpArgs.of(Op.PRELU), t, n, seed, heap);
        MemorySegment dy = TestData.gradient(t, n, seed, !heap);
        MemorySegment w = TestData.alloc(t, weights, heap);
        SplittableRandom r = new SplittableRandom(seed);
        double[] special = {0.0, 0.25, -0.5, 1.0, 3.0};
        for (int c = 0; c < weights; c++) {
            TestData.set(t, w, c, c < special.length ? special[c] : r.nextDouble(-1, 1));
        }
        String what = t + (backward ? " backward" : " forward") + " (" + outer + ", " + channels + ", " + inner
                + ") weights=" + weights + (inPlace ? " in place" : "") + " seed=" + seed;
        MemorySegment expected = TestData.poisoned(t, n, true);
        if (!backward) {
            REF.preluForward(t, x, w, weights, expected, outer, channels, inner);
            MemorySegment xIn = inPlace ? TestData.copy(t, x, n, heap) : x;
            MemorySegment y = inPlace ? xIn : TestData.poisoned(t, n, heap);
            VECTOR.preluForward(t, xIn, w, weights, y, outer, channels, inner);
            TestData.assertClose(what, t, expected, y, n, x);
            return;
        }
        MemorySegment dwExpected = TestData.poisoned(t, weights, true);
        REF.preluBackward(t, x, w, weights, dy, expected, dwExpected, outer, channels, inner);
        MemorySegment dyIn = inPlace ? TestData.copy(t, dy, n, heap) : dy;
        MemorySegment dx = inPlace ? dyIn : TestData.poisoned(t, n, heap);
        MemorySegment dw = TestData.poisoned(t, weights, heap);
        VECTOR.preluBackward(t, x, w, weights, dyIn, dx, dw, outer, channels, inner);
        TestData.assertClose(what + " dx", t, expected, dx, n, x);
        assertSumsClose(what + " dw", t, x, dy, dwExpected, dw, weights, channels, inner, n);
    }

    /**
     * Upstream gradients with every special value (the shapes' gradients are finite): +-inf, NaN,
     * +-0, the extremes and a subnormal. dL/dw's terms are x dy where x <= 0 and 0 elsewhere,
     * whatever dy is there: over finite x, the specials go where x > 0 (dL/dw must stay finite: a
     * windowed float32 sum once made 0 * inf = NaN of them), and in the first channel also where
     * x <= 0 (dL/dw inf or NaN, as in the reference) when there are several. Every layout: one weight with a tail,
     * windows, the row loop, channels-last, expanded weights.
     */
    @ParameterizedTest(name = "{0} ({1}, {2}, {3}) weights={4}")
    @MethodSource("extremeGradientShapes")
    void extremeGradientsMatchReference(DType t, long outer, long channels, long inner, long weights) {
        long n = outer * channels * inner;
        long seed = System.nanoTime();
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment x = TestData.alloc(t, n, false);
        MemorySegment dy = TestData.alloc(t, n, false);
        double[] special = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 0.0, -0.0,
            t == DType.F32 ? Float.MAX_VALUE : Double.MAX_VALUE, t == DType.F32 ? -Float.MAX_VALUE : -Double.MAX_VALUE,
            t == DType.F32 ? Float.MIN_VALUE : Double.MIN_VALUE};
        for (long i = 0; i < n; i++) {
            double v = r.nextInt(16) == 0 ? 0.0 : r.nextDouble(-3, 3);
            boolean firstChannel = weights > 1 && (i / inner) % channels == 0;
            TestData.set(t, x, i, v);
            TestData.set(t, dy, i, r.nextInt(3) == 0 && (v > 0 || firstChannel)
                    ? special[r.nextInt(special.length)] : r.nextDouble(-2, 2));
        }
        MemorySegment w = TestData.alloc(t, weights, false);
        for (int c = 0; c < weights; c++) {
            TestData.set(t, w, c, c == 1 ? 0.0 : r.nextDouble(-1, 1));
        }
        String what = t + " (" + outer + ", " + channels + ", " + inner + ") weights=" + weights + " seed=" + seed;
        MemorySegment expected = TestData.poisoned(t, n, true);
        MemorySegment dwExpected = TestData.poisoned(t, weights, true);
        REF.preluBackward(t, x, w, weights, dy, expected, dwExpected, outer, channels, inner);
        for (int c = weights > 1 ? 1 : 0; c < weights; c++) {
            if (!Double.isFinite(TestData.get(t, dwExpected, c))) {
                fail(what + ": the reference's dw[" + c + "] is not finite; the test's data is wrong");
            }
        }
        MemorySegment dx = TestData.poisoned(t, n, false);
        MemorySegment dw = TestData.poisoned(t, weights, false);
        VECTOR.preluBackward(t, x, w, weights, dy, dx, dw, outer, channels, inner);
        TestData.assertClose(what + " dx", t, expected, dx, n, x);
        assertSumsClose(what + " dw", t, x, dy, dwExpected, dw, weights, channels, inner, n);
    }

    static Stream<Arguments> extremeGradientShapes() {
        long[][] shapes = {{3, 1, 1000, 1}, {4, 8, 1024, 8}, {2, 5, 48, 5}, {3, 7, 1001, 7}, {500, 37, 1, 37},
            {32, 16, 49, 16}};
        List<Arguments> out = new ArrayList<>();
        for (long[] s : shapes) {
            for (DType t : DType.values()) {
                out.add(Arguments.of(t, s[0], s[1], s[2], s[3]));
            }
        }
        return out.stream();
    }

    /**
     * dw is a sum of products of either sign: compare against the size of the terms (sum |x dy|
     * over the channel), the scale at which any summation order is exact to rounding.
     */
    private static void assertSumsClose(String what, DType t, MemorySegment x, MemorySegment dy, MemorySegment ref,
                                        MemorySegment got, long weights, long channels, long inner, long n) {
        double[] scale = new double[(int) weights];
        boolean[] positiveInfinity = new boolean[(int) weights];
        boolean[] negativeInfinity = new boolean[(int) weights];
        boolean[] nan = new boolean[(int) weights];
        for (long i = 0; i < n; i++) {
            double v = TestData.get(t, x, i);
            int c = (int) (weights == 1 ? 0 : (i / inner) % channels);
            if (!(v > 0)) {
                double term = v * TestData.get(t, dy, i);
                scale[c] += Math.abs(term);
                positiveInfinity[c] |= term == Double.POSITIVE_INFINITY;
                negativeInfinity[c] |= term == Double.NEGATIVE_INFINITY;
                nan[c] |= Double.isNaN(term);
            }
        }
        for (int c = 0; c < weights; c++) {
            double e = TestData.get(t, ref, c);
            double a = TestData.get(t, got, c);
            boolean nanInAnyOrder = nan[c] || (positiveInfinity[c] && negativeInfinity[c]);
            if (!nanInAnyOrder && Double.isInfinite(scale[c])) {
                // Partial sums that overflow: +inf, -inf, NaN or a finite value by summation order
                // alone (the reference's pairwise order gave NaN where the lane order gave +inf, or
                // -inf beside one -inf term). Nothing to compare; NaN or infinite terms of both
                // signs make NaN in any order, and are compared.
                continue;
            }
            double err = Double.isFinite(e) && Double.isFinite(a) && Double.isFinite(scale[c])
                    ? Math.abs(a - e) / Math.max(Math.max(Math.abs(e), scale[c]), 1e-300 + (Math.max(Math.abs(e), scale[c]) > 1e-5 ? 0 : 1))
                    : TestData.error(e, a);
            if (!(err <= TestData.tolerance(t))) {
                fail(what + "[" + c + "]: expected " + e + " got " + a + " (error " + err + ", terms " + scale[c] + ")");
            }
        }
    }
}
