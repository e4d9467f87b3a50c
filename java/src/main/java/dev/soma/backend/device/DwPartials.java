package dev.soma.backend.device;

import dev.soma.fallback.scalar.ElementMath;
import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Adds one streamed chunk's PReLU dw partial sums (computed on the device, one per channel of the
 * chunk) to the running float64 sums, in chunk order, so dw is deterministic for a given budget.
 *
 * <p>A partial comes back in the tensor's type: a float32 partial of terms near the float range
 * can round to an infinity (or become NaN from +inf and -inf partials) although the whole sum is
 * finite. A non-finite partial is therefore recomputed here in float64 from the chunk's staged
 * x and dy, which still hold the chunk: it is NaN or infinite only when the terms make it so.
 */
final class DwPartials {
    private DwPartials() {
    }

    /**
     * @param sums          running sums by channel
     * @param firstChannel  the chunk's first channel
     * @param layout        the chunk as {@code (outer, channels, inner)}
     * @param partial       {@code layout.mid()} partial sums, type {@code t}
     * @param x             the chunk's x, contiguous
     * @param dy            the chunk's dy, contiguous
     */
    static void add(double[] sums, long firstChannel, dev.soma.backend.OpLayout layout, DType t, MemorySegment partial,
                    MemorySegment x, MemorySegment dy) {
        long k = layout.mid();
        long inner = layout.inner();
        for (long j = 0; j < k; j++) {
            double v = read(t, partial, j);
            if (!Double.isFinite(v)) {
                v = 0;
                for (long o = 0; o < layout.outer(); o++) {
                    long base = (o * k + j) * inner;
                    for (long i = 0; i < inner; i++) {
                        v += ElementMath.preluDwTerm(read(t, x, base + i), read(t, dy, base + i));
                    }
                }
            }
            sums[(int) (firstChannel + j)] += v;
        }
    }

    private static double read(DType t, MemorySegment s, long i) {
        return t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT, i) : s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }
}
