package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/**
 * Softmax and log-softmax, forward and backward, against the reference: every axis of a 3-D tensor,
 * long and odd rows, special rows (NaN, +inf, all -inf, masked), safe mode, in place, row sums,
 * shift invariance.
 */
class SoftmaxVectorTest {
    private static final CpuKernels VECTOR = new VectorKernels();
    private static final CpuKernels REF = TestData.reference();

    /** (outer, len, inner) views. */
    static Stream<Arguments> layouts() {
        List<long[]> views = new ArrayList<>();
        long[] shape = {3, 37, 21};
        for (int axis = 0; axis < 3; axis++) {
            long outer = 1;
            long inner = 1;
            for (int d = 0; d < axis; d++) {
                outer *= shape[d];
            }
            for (int d = axis + 1; d < 3; d++) {
                inner *= shape[d];
            }
            views.add(new long[] {outer, shape[axis], inner});
        }
        for (long len : new long[] {1, 31, 33, 1024, 1025, 100000}) {
            views.add(new long[] {len >= 100000 ? 2 : 5, len, 1});
        }
        views.add(new long[] {2, 1025, 19});      // strided rows with a vector tail across inner
        views.add(new long[] {1, 3, 100000});     // short strided rows, many columns (parallel split)
        views.add(new long[] {400, 1024, 1});     // many rows (parallel split by rows)
        List<Arguments> out = new ArrayList<>();
        for (long[] v : views) {
            for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                for (DType t : DType.values()) {
                    for (boolean backward : new boolean[] {false, true}) {
                        out.add(Arguments.of(op, t, backward, v[0], v[1], v[2]));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} backward={2} ({3}, {4}, {5})")
    @MethodSource("layouts")
    void matchesReference(Op op, DType t, boolean backward, long outer, long len, long inner) {
        for (boolean safe : new boolean[] {false, true}) {
            for (boolean inPlace : new boolean[] {false, true}) {
                check(OpArgs.of(op).withSafe(safe), t, backward, outer, len, inner, inPlace, 10.0);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} large values")
    @MethodSource("opsAndTypes")
    void largeMagnitudes(Op op, DType t) {
        check(OpArgs.of(op), t, false, 4, 1025, 1, false, 1e4);
        check(OpArgs.of(op), t, true, 4, 1025, 1, false, 1e4);
        check(OpArgs.of(op), t, false, 2, 33, 17, false, 1e4);
    }

    static Stream<Arguments> opsAndTypes() {
        List<Arguments> out = new ArrayList<>();
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            for (DType t : DType.values()) {
                out.add(Arguments.of(op, t));
            }
        }
        return out.stream();
    }

    /** Rows sum to 1 within 1e-6 (in double, of the stored values) and adding 1e4 changes nothing. */
    @ParameterizedTest(name = "{0} sums and shift invariance")
    @MethodSource("dtypes")
    void rowsSumToOneAndShiftInvariant(DType t) {
        long outer = 3;
        for (long len : new long[] {1, 31, 1025, 100000}) {
            MemorySegment x = rows(t, outer, len, 1, 42 + len, 10.0, false);
            MemorySegment y = TestData.poisoned(t, outer * len, false);
            VECTOR.softmaxForward(OpArgs.of(Op.SOFTMAX), t, x, y, outer, len, 1);
            for (long r = 0; r < outer; r++) {
                double s = 0;
                for (long k = 0; k < len; k++) {
                    s += TestData.get(t, y, r * len + k);
                }
                assertEquals(1.0, s, 1e-6, "row " + r + " of length " + len + " sums to " + s);
            }
            MemorySegment shifted = TestData.alloc(t, outer * len, true);
            for (long i = 0; i < outer * len; i++) {
                TestData.set(t, shifted, i, TestData.get(t, x, i) + 1e4);
            }
            MemorySegment y2 = TestData.poisoned(t, outer * len, true);
            VECTOR.softmaxForward(OpArgs.of(Op.SOFTMAX), t, shifted, y2, outer, len, 1);
            // x + 1e4 rounds x (ulp(1e4) is 1e-3 in float): compare with the reference of the shifted input.
            MemorySegment ref = TestData.poisoned(t, outer * len, true);
            REF.softmaxForward(OpArgs.of(Op.SOFTMAX), t, shifted, ref, outer, len, 1);
            TestData.assertClose("shifted softmax len " + len, t, ref, y2, outer * len, shifted);
        }
    }

    static Stream<DType> dtypes() {
        return Stream.of(DType.values());
    }

    /**
     * Random rows of values in [-scale, scale]; with {@code specials}, row 0 holds a NaN, row 1 a +inf,
     * row 2 is all -inf, row 3 is masked (all -inf but one element), row 4 has a -inf.
     */
    static MemorySegment rows(DType t, long outer, long len, long inner, long seed, double scale, boolean specials) {
        SplittableRandom r = new SplittableRandom(seed);
        MemorySegment x = TestData.alloc(t, outer * len * inner, (seed & 1) == 0);
        for (long i = 0; i < outer * len * inner; i++) {
            TestData.set(t, x, i, r.nextDouble(-scale, scale));
        }
        if (specials) {
            for (long j = 0; j < inner; j++) {
                long pos = r.nextLong(len);
                // Rows (o, j): o = j % 5 chooses the kind, so every kind appears in every layout.
                for (long o = 0; o < outer; o++) {
                    long kind = (o * inner + j) % 7;
                    long base = o * len * inner + j;
                    if (kind == 0) {
                        TestData.set(t, x, base + pos * inner, Double.NaN);
                    } else if (kind == 1) {
                        TestData.set(t, x, base + pos * inner, Double.POSITIVE_INFINITY);
                    } else if (kind == 2 || kind == 3) {
                        for (long k = 0; k < len; k++) {
                            if (kind == 2 || k != pos) {
                                TestData.set(t, x, base + k * inner, Double.NEGATIVE_INFINITY);
                            }
                        }
                    } else if (kind == 4) {
                        TestData.set(t, x, base + pos * inner, Double.NEGATIVE_INFINITY);
                    }
                }
            }
        }
        return x;
    }

    private static void check(OpArgs args, DType t, boolean backward, long outer, long len, long inner,
                              boolean inPlace, double scale) {
        long n = outer * len * inner;
        long seed = System.nanoTime();
        MemorySegment x = rows(t, outer, len, inner, seed, scale, true);
        MemorySegment dy = TestData.gradient(t, n, seed, (seed & 2) == 0);
        MemorySegment expected = TestData.poisoned(t, n, true);
        if (backward) {
            REF.softmaxBackward(args, t, x, dy, expected, outer, len, inner);
        } else {
            REF.softmaxForward(args, t, x, expected, outer, len, inner);
        }
        MemorySegment xIn = inPlace ? TestData.copy(t, x, n, false) : x;
        MemorySegment dyIn = inPlace ? TestData.copy(t, dy, n, true) : dy;
        MemorySegment actual = inPlace ? (backward ? dyIn : xIn) : TestData.poisoned(t, n, (seed & 4) == 0);
        if (backward) {
            VECTOR.softmaxBackward(args, t, xIn, dyIn, actual, outer, len, inner);
        } else {
            VECTOR.softmaxForward(args, t, xIn, actual, outer, len, inner);
        }
        String what = args.op() + (args.safe() ? " safe " : " ") + t + (backward ? " backward" : " forward")
                + " (" + outer + ", " + len + ", " + inner + ")" + (inPlace ? " in place" : "") + " seed=" + seed;
        assertScaledClose(what, args, t, backward, x, dy, expected, actual, outer, len, inner);
    }

    /**
     * Rule 5 against the size of the terms where a result is a difference of larger terms (see the
     * reference's Accuracy.errorScaled): log_softmax forward |x - m| + log z; softmax backward
     * y max|dy|; log_softmax backward |dy| + p sum|dy|.
     */
    private static void assertScaledClose(String what, OpArgs args, DType t, boolean backward, MemorySegment x,
                                          MemorySegment dy, MemorySegment expected, MemorySegment actual,
                                          long outer, long len, long inner) {
        boolean log = args.op() == Op.LOG_SOFTMAX;
        double tol = TestData.tolerance(t);
        int failures = 0;
        StringBuilder msg = new StringBuilder();
        for (long o = 0; o < outer; o++) {
            for (long j = 0; j < inner; j++) {
                long base = o * len * inner + j;
                double m = Double.NEGATIVE_INFINITY;
                double maxDy = 0;
                double sumAbsDy = 0;
                for (long k = 0; k < len; k++) {
                    m = Math.max(m, TestData.get(t, x, base + k * inner));
                    double g = Math.abs(TestData.get(t, dy, base + k * inner));
                    maxDy = Math.max(maxDy, g);
                    sumAbsDy += g;
                }
                double z = 0;
                for (long k = 0; k < len; k++) {
                    z += Math.exp(TestData.get(t, x, base + k * inner) - m);
                }
                for (long k = 0; k < len; k++) {
                    long i = base + k * inner;
                    double xi = TestData.get(t, x, i);
                    double p = Math.exp(xi - m) / z;
                    double s;
                    if (!backward) {
                        s = log ? Math.abs(xi - m) + Math.log(z) : 0;
                    } else {
                        s = log ? Math.abs(TestData.get(t, dy, i)) + p * sumAbsDy : p * maxDy;
                    }
                    double e = TestData.get(t, expected, i);
                    double a = TestData.get(t, actual, i);
                    double err = Double.isFinite(s) && Double.isFinite(e) && Double.isFinite(a)
                            ? Math.abs(a - e) / Math.max(1e-5 < Math.max(Math.abs(e), s) ? Math.max(Math.abs(e), s) : 1, 0)
                            : TestData.error(e, a);
                    if (!(err <= tol)) {
                        if (failures++ < 8) {
                            msg.append(String.format("%n  [%d] x=%s expected %s got %s (error %.3g)", i, xi, e, a, err));
                        }
                    }
                }
            }
        }
        if (failures > 0) {
            fail(what + ": " + failures + " elements outside " + tol + msg);
        }
    }
}
