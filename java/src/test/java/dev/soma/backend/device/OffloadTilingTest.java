package dev.soma.backend.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The host side of column chunks (softmax along an inner axis whose outer slice exceeds the
 * budget): every element lands in exactly one chunk, each chunk is a {@code (1, mid, width)}
 * block of whole columns in axis order, and scatter puts every element back where it came from.
 */
class OffloadTilingTest {

    @Test
    void columnChunksCoverEveryElementOnceAsWholeColumns() {
        long[][] layouts = {{3, 7, 10}, {1, 5, 1}, {2, 4, 9}, {1, 3, 1000}, {4, 1, 6}};
        for (long[] l : layouts) {
            long outer = l[0];
            long mid = l[1];
            long inner = l[2];
            long total = outer * mid * inner;
            for (long maxChunk : new long[] {mid, 2 * mid, 3 * mid + 1, total, 10 * total}) {
                String what = "layout " + outer + "x" + mid + "x" + inner + ", chunks of at most " + maxChunk;
                Tiling.Plan plan = Tiling.columns(outer, mid, inner).plan(maxChunk, total);
                assertTrue(plan.chunkElements() <= Math.max(mid, maxChunk) && plan.chunkElements() % mid == 0, what);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment src = arena.allocate(total * 4);
                    MemorySegment back = arena.allocate(total * 4);
                    for (long i = 0; i < total; i++) {
                        src.setAtIndex(ValueLayout.JAVA_INT, i, (int) i);
                        back.setAtIndex(ValueLayout.JAVA_INT, i, -1);
                    }
                    MemorySegment staging = arena.allocate(plan.chunkElements() * 4);
                    long seen = 0;
                    for (long c = 0; c < plan.chunks(); c++) {
                        long n = plan.count(c);
                        assertTrue(n > 0 && n <= plan.chunkElements() && n % mid == 0, what + ": chunk " + c + " holds " + n);
                        plan.gather(src, c, staging, 4);
                        long width = n / mid;
                        for (long j = 0; j < width; j++) {
                            // Column j of the block: one outer slice, one inner position, every position along the axis.
                            long first = staging.getAtIndex(ValueLayout.JAVA_INT, j);
                            for (long m = 0; m < mid; m++) {
                                assertEquals(first + m * inner, staging.getAtIndex(ValueLayout.JAVA_INT, m * width + j),
                                        what + ": chunk " + c + " column " + j + " at " + m);
                            }
                        }
                        plan.scatter(staging, c, back, 4);
                        seen += n;
                    }
                    assertEquals(total, seen, what + ": elements over all chunks");
                    for (long i = 0; i < total; i++) {
                        assertEquals(i, back.getAtIndex(ValueLayout.JAVA_INT, i), what + ": element " + i + " after scatter");
                    }
                }
            }
        }
    }

    @Test
    void contiguousChunksAreRangesWithAShortLastOne() {
        Tiling.Plan plan = Tiling.CONTIGUOUS.plan(300, 1000);
        assertEquals(4, plan.chunks());
        assertEquals(300, plan.count(0));
        assertEquals(100, plan.count(3));
    }
}
