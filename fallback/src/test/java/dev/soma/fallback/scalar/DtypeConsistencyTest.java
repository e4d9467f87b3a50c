package dev.soma.fallback.scalar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reference is one function for both dtypes: its float32 result is exactly its float64 result
 * on the widened input, rounded once (checked bit for bit, every NaN equal to every NaN).
 */
class DtypeConsistencyTest {
    private static final long N = 4097;
    private final ScalarKernels k = new ScalarKernels();

    static Stream<Op> ops() {
        return Arrays.stream(Op.values());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void float32IsFloat64Rounded(Op op) {
        OpArgs a = op.defaults();
        MemorySegment x32 = Samples.input(a, DType.F32, N, 42);
        MemorySegment dy32 = Samples.gradient(DType.F32, N, 43);
        MemorySegment x64 = Segments.of(DType.F64, Segments.toArray(DType.F32, x32, N));
        MemorySegment dy64 = Segments.of(DType.F64, Segments.toArray(DType.F32, dy32, N));
        switch (op.family()) {
            case ELEMENTWISE -> {
                check("forward", DType.F32, run32 -> k.forward(a, DType.F32, x32, run32, N),
                        run64 -> k.forward(a, DType.F64, x64, run64, N), N);
                check("backward", DType.F32, run32 -> k.backward(a, DType.F32, x32, dy32, run32, N),
                        run64 -> k.backward(a, DType.F64, x64, dy64, run64, N), N);
            }
            case CHANNEL_WEIGHTED -> {
                long outer = 17;
                long channels = 241; // 17 * 241 = 4097
                MemorySegment w32 = Samples.preluWeights(DType.F32, channels, 44);
                MemorySegment w64 = Segments.of(DType.F64, Segments.toArray(DType.F32, w32, channels));
                check("forward", DType.F32, y -> k.preluForward(DType.F32, x32, w32, channels, y, outer, channels, 1),
                        y -> k.preluForward(DType.F64, x64, w64, channels, y, outer, channels, 1), N);
                MemorySegment dw32 = Samples.allocate(DType.F32, channels);
                MemorySegment dw64 = Samples.allocate(DType.F64, channels);
                check("backward dx", DType.F32,
                        dx -> k.preluBackward(DType.F32, x32, w32, channels, dy32, dx, dw32, outer, channels, 1),
                        dx -> k.preluBackward(DType.F64, x64, w64, channels, dy64, dx, dw64, outer, channels, 1), N);
                assertSameRounded("backward dw", dw32, dw64, channels);
            }
            case ROW_REDUCTION -> {
                // (outer, len, inner) = (17, 241, 1) and (1, 17, 241): contiguous and strided rows
                for (long[] shape : new long[][] {{17, 241, 1}, {1, 17, 241}}) {
                    check("forward " + Arrays.toString(shape), DType.F32,
                            y -> k.softmaxForward(a, DType.F32, x32, y, shape[0], shape[1], shape[2]),
                            y -> k.softmaxForward(a, DType.F64, x64, y, shape[0], shape[1], shape[2]), N);
                    check("backward " + Arrays.toString(shape), DType.F32,
                            dx -> k.softmaxBackward(a, DType.F32, x32, dy32, dx, shape[0], shape[1], shape[2]),
                            dx -> k.softmaxBackward(a, DType.F64, x64, dy64, dx, shape[0], shape[1], shape[2]), N);
                }
            }
        }
    }

    private interface Run {
        void into(MemorySegment out);
    }

    private static void check(String what, DType t, Run f32, Run f64, long n) {
        MemorySegment o32 = Samples.allocate(DType.F32, n);
        MemorySegment o64 = Samples.allocate(DType.F64, n);
        f32.into(o32);
        f64.into(o64);
        assertSameRounded(what, o32, o64, n);
    }

    private static void assertSameRounded(String what, MemorySegment o32, MemorySegment o64, long n) {
        double[] got = Segments.toArray(DType.F32, o32, n);
        double[] want = Segments.toArray(DType.F64, o64, n);
        for (int i = 0; i < want.length; i++) {
            want[i] = (float) want[i];
        }
        int d = Segments.firstDifference(want, got);
        assertEquals(-1, d, () -> what + ": element " + d + " float32 " + got[d] + " but float64 rounded "
                + want[d]);
    }
}
