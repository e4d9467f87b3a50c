package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The pipelined float32 softmax and log-softmax ({@link SoftmaxPipelineF32}: row r's exponentials
 * computed while row r + 1's maximum is read and row r - 1's output is written) give the very bits
 * of the row-at-a-time kernels ({@link SoftmaxF32#softmaxRow}, {@link SoftmaxF32#logSoftmaxRow}),
 * on random rows, rows whose maximum is not finite (all -inf, +inf, NaN) next to ordinary ones,
 * every vector tail, and in place.
 */
class SoftmaxPipelineTest {

    @ParameterizedTest(name = "log={0} len={1} inPlace={2}")
    @CsvSource({
        "false, 1, false", "true, 1, false", "false, 15, false", "true, 17, false",
        "false, 16, true", "true, 16, true", "false, 1000, false", "true, 1000, false",
        "false, 1024, true", "true, 1024, true", "false, 4099, false", "true, 4099, true",
    })
    void pipelineMatchesRowKernels(boolean log, int len, boolean inPlace) {
        int rows = 29;
        long n = (long) rows * len;
        MemorySegment x = Arena.ofAuto().allocate(n * Float.BYTES, 64);
        SplittableRandom rng = new SplittableRandom(len * 31L + (log ? 1 : 0));
        for (long i = 0; i < n; i++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rng.nextDouble(-30, 30)));
        }
        // Special rows, some next to each other, some at the ends of the range.
        fill(x, 0, len, Float.NEGATIVE_INFINITY);
        x.setAtIndex(ValueLayout.JAVA_FLOAT, 5L * len + len / 2, Float.NaN);
        x.setAtIndex(ValueLayout.JAVA_FLOAT, 6L * len, Float.POSITIVE_INFINITY);
        fill(x, 7L * len, len, Float.NEGATIVE_INFINITY);
        x.setAtIndex(ValueLayout.JAVA_FLOAT, 8L * len + len - 1, Float.NEGATIVE_INFINITY);
        fill(x, (rows - 1L) * len, len, Float.NEGATIVE_INFINITY);

        MemorySegment want = Arena.ofAuto().allocate(n * Float.BYTES, 64);
        float[] block = new float[SoftmaxF32.BLOCK];
        for (int r = 0; r < rows; r++) {
            long base = (long) r * len;
            float max = SoftmaxF32.rowMax(x, base, len);
            if (!Float.isFinite(max)) {
                special(want, base, len, max);
            } else if (log) {
                SoftmaxF32.logSoftmaxRow(x, want, block, base, len, max);
            } else {
                SoftmaxF32.softmaxRow(x, want, base, len, max);
            }
        }

        MemorySegment in = x;
        MemorySegment got = Arena.ofAuto().allocate(n * Float.BYTES, 64);
        if (inPlace) {
            MemorySegment.copy(x, 0, got, 0, n * Float.BYTES);
            in = got;
        }
        MemorySegment out = got;
        // Two calls, as two parallel chunks would make them: the pipeline restarts at row 11.
        SoftmaxPipelineF32.forward(log, in, out, len, 0, 11, (base, max) -> special(out, base, len, max));
        SoftmaxPipelineF32.forward(log, in, out, len, 11, rows, (base, max) -> special(out, base, len, max));
        assertEquals(-1, want.mismatch(got), "first differing byte");
    }

    private static void fill(MemorySegment s, long from, long count, float v) {
        for (long i = from; i < from + count; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
        }
    }

    /** What a row with a non-finite maximum gets in this test: a marker that encodes the maximum. */
    private static void special(MemorySegment s, long base, long len, float max) {
        fill(s, base, len, max == Float.NEGATIVE_INFINITY ? -7f : Float.isNaN(max) ? -8f : -9f);
    }
}
