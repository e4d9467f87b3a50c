package dev.soma.backend.device;

import dev.soma.Tensor;
import dev.soma.backend.OpLayout;
import dev.soma.op.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Moves pieces of softmax rows between host tensors and device buffers for the multi-pass path
 * (rows longer than a chunk). Along the last axis a row is contiguous and a piece moves directly;
 * along an inner axis a row (a column of the {@code (outer, mid, inner)} layout) has stride
 * {@code inner}, so its pieces are gathered into (and scattered from) a host staging buffer, element
 * by element: the slow copy is confined to this rare case, and the device runs the same piece kernels
 * on the same values as for a contiguous row, so both give the same bits.
 */
final class RowPieces implements AutoCloseable {
    private final DeviceRuntime rt;
    private final long len;
    private final long inner;
    private final int es;
    private final Arena arena;
    private final MemorySegment staging;

    RowPieces(DeviceRuntime rt, OpLayout l, DType t, long pieceElements) {
        this.rt = rt;
        this.len = l.mid();
        this.inner = l.inner();
        this.es = t.byteSize();
        this.arena = inner == 1 ? null : Arena.ofConfined();
        this.staging = inner == 1 ? null : arena.allocate(pieceElements * es, 8);
    }

    /** Rows of the layout: one per (outer, inner) position. */
    static long rows(OpLayout l) {
        return l.outer() * l.inner();
    }

    /** Element offset of row {@code r}'s first element. */
    private long start(long r) {
        return (r / inner) * len * inner + r % inner;
    }

    /** Uploads elements {@code [off, off + n)} of row {@code r} of {@code t} to the start of {@code dst}. */
    void upload(Tensor t, long r, long off, long n, DeviceBuffer dst) {
        long first = start(r) + off * inner;
        if (inner == 1) {
            rt.upload(t.segment().asSlice(first * es, n * es), dst, 0, n * es);
            return;
        }
        MemorySegment src = t.segment();
        for (long i = 0; i < n; i++) {
            copyElement(src, first + i * inner, staging, i);
        }
        rt.upload(staging, dst, 0, n * es);  // synchronous: the staging buffer is free again afterwards
    }

    /** Downloads the first {@code n} elements of {@code src} into elements {@code [off, off + n)} of row {@code r} of {@code t}. */
    void download(DeviceBuffer src, long r, long off, long n, Tensor t) {
        long first = start(r) + off * inner;
        if (inner == 1) {
            rt.download(src, 0, t.segment().asSlice(first * es, n * es), n * es);
            return;
        }
        rt.download(src, 0, staging, n * es);
        MemorySegment dst = t.segment();
        for (long i = 0; i < n; i++) {
            copyElement(staging, i, dst, first + i * inner);
        }
    }

    /** One element by its bits (a NaN's payload survives). */
    private void copyElement(MemorySegment from, long fromIndex, MemorySegment to, long toIndex) {
        if (es == 4) {
            to.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, toIndex, from.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, fromIndex));
        } else {
            to.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, toIndex, from.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, fromIndex));
        }
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
