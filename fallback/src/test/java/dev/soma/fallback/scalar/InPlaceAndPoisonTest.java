package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every method writes every output element (outputs start poisoned), and in place (an output the
 * same segment as an input) gives bit for bit the out-of-place result, for every op and both dtypes
 * at every size of the standard list up to 4097 (1 << 20 once per family, float32).
 */
class InPlaceAndPoisonTest {
    private final ScalarKernels k = new ScalarKernels();

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Op op : Op.values()) {
            for (DType t : DType.values()) {
                for (long n : Samples.sizesUpTo(4097)) {
                    out.add(Arguments.of(op, t, n));
                }
            }
        }
        for (Op op : new Op[] {Op.GELU, Op.PRELU, Op.SOFTMAX}) {
            out.add(Arguments.of(op, DType.F32, 1L << 20));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} n={2}")
    @MethodSource("cases")
    void inPlaceEqualsOutOfPlaceAndEveryOutputIsWritten(Op op, DType t, long n) {
        OpArgs a = op.defaults();
        long seed = 1000 + n;
        MemorySegment x = Samples.input(a, t, n, seed);
        MemorySegment dy = Samples.gradient(t, n, seed);
        switch (op.family()) {
            case ELEMENTWISE -> {
                MemorySegment y = Samples.allocate(t, n);
                k.forward(a, t, x, y, n);
                assertWritten(t, y, n, "forward");
                MemorySegment inPlace = Segments.copy(t, x, n);
                k.forward(a, t, inPlace, inPlace, n);
                assertSame(t, y, inPlace, n, "forward in place");

                MemorySegment dx = Samples.allocate(t, n);
                k.backward(a, t, x, dy, dx, n);
                assertWritten(t, dx, n, "backward");
                MemorySegment overX = Segments.copy(t, x, n);
                k.backward(a, t, overX, dy, overX, n);
                assertSame(t, dx, overX, n, "backward, dx over x");
                MemorySegment overDy = Segments.copy(t, dy, n);
                k.backward(a, t, x, overDy, overDy, n);
                assertSame(t, dx, overDy, n, "backward, dx over dy");
            }
            case CHANNEL_WEIGHTED -> {
                // (outer, channels, inner) covering n: channels 3 when it divides n, else n channels
                long channels = n % 3 == 0 && n > 0 ? 3 : Math.max(n, 1);
                long outer = n == 0 ? 0 : (channels == 3 && (n / 3) % 2 == 0 ? 2 : 1);
                long inner = n == 0 ? 1 : n / (outer * channels);
                for (long weights : new long[] {1, channels}) {
                    MemorySegment w = Samples.preluWeights(t, weights, seed);
                    MemorySegment y = Samples.allocate(t, n);
                    k.preluForward(t, x, w, weights, y, outer, channels, inner);
                    assertWritten(t, y, n, "prelu forward");
                    MemorySegment inPlace = Segments.copy(t, x, n);
                    k.preluForward(t, inPlace, w, weights, inPlace, outer, channels, inner);
                    assertSame(t, y, inPlace, n, "prelu forward in place");

                    MemorySegment dx = Samples.allocate(t, n);
                    MemorySegment dw = Samples.allocate(t, weights);
                    k.preluBackward(t, x, w, weights, dy, dx, dw, outer, channels, inner);
                    assertWritten(t, dx, n, "prelu dx");
                    if (n > 0) {
                        assertWritten(t, dw, weights, "prelu dw");
                    }
                    MemorySegment overX = Segments.copy(t, x, n);
                    MemorySegment dwOverW = Segments.copy(t, w, weights);
                    k.preluBackward(t, overX, dwOverW, weights, dy, overX, dwOverW, outer, channels, inner);
                    assertSame(t, dx, overX, n, "prelu dx over x");
                    if (n > 0) {
                        assertSame(t, dw, dwOverW, weights, "prelu dw over w");
                    }
                    MemorySegment overDy = Segments.copy(t, dy, n);
                    MemorySegment dw2 = Samples.allocate(t, weights);
                    k.preluBackward(t, x, w, weights, overDy, overDy, dw2, outer, channels, inner);
                    assertSame(t, dx, overDy, n, "prelu dx over dy");
                }
            }
            case ROW_REDUCTION -> {
                for (OpArgs args : new OpArgs[] {a, Op.LOG_SOFTMAX.defaults()}) {
                    // rows of up to 33 elements, contiguous and strided
                    long len = n == 0 ? 5 : Math.min(n, 33);
                    long rows = n == 0 ? 0 : n / len;
                    long m = rows * len;
                    for (long[] shape : new long[][] {{rows, len, 1}, {1, len, rows}}) {
                        MemorySegment y = Samples.allocate(t, m);
                        k.softmaxForward(args, t, x, y, shape[0], shape[1], shape[2]);
                        assertWritten(t, y, m, args.op() + " forward");
                        MemorySegment inPlace = Segments.copy(t, x, m);
                        k.softmaxForward(args, t, inPlace, inPlace, shape[0], shape[1], shape[2]);
                        assertSame(t, y, inPlace, m, args.op() + " forward in place");

                        MemorySegment dx = Samples.allocate(t, m);
                        k.softmaxBackward(args, t, x, dy, dx, shape[0], shape[1], shape[2]);
                        assertWritten(t, dx, m, args.op() + " backward");
                        MemorySegment overX = Segments.copy(t, x, m);
                        k.softmaxBackward(args, t, overX, dy, overX, shape[0], shape[1], shape[2]);
                        assertSame(t, dx, overX, m, args.op() + " dx over x");
                        MemorySegment overDy = Segments.copy(t, dy, m);
                        k.softmaxBackward(args, t, x, overDy, overDy, shape[0], shape[1], shape[2]);
                        assertSame(t, dx, overDy, m, args.op() + " dx over dy");
                    }
                }
            }
        }
    }

    private static void assertWritten(DType t, MemorySegment out, long n, String what) {
        long i = Samples.firstPoisoned(t, out, n);
        assertEquals(-1, i, what + ": element " + i + " was never written");
    }

    private static void assertSame(DType t, MemorySegment want, MemorySegment got, long n, String what) {
        double[] a = Segments.toArray(t, want, n);
        double[] b = Segments.toArray(t, got, n);
        int d = Segments.firstDifference(a, b);
        assertEquals(-1, d, () -> what + ": element " + d + " is " + b[d] + " but out of place gives " + a[d]);
    }
}
