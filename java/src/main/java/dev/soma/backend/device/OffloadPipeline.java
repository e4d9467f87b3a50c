package dev.soma.backend.device;

import dev.soma.Tensor;
import dev.soma.backend.ChainStep;
import dev.soma.backend.Chunking;
import dev.soma.backend.OpLayout;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.LongConsumer;

/**
 * Streams host tensors larger than a device memory budget through the device, chunk by chunk,
 * over a ring of slots: each slot has its own queue, pinned staging buffers and device buffers,
 * so while slot i's kernels run, slot i+1's upload and slot i-1's download are in flight on their
 * own queues. The host thread copies between the (possibly memory-mapped) tensors and the pinned
 * staging buffers, so the host's heap use does not depend on the tensor size.
 *
 * <p>Chunks hold whole units ({@link Chunking}): whole softmax rows (whole outer slices for inner
 * axes), whole PReLU outer slices. A chunk runs exactly the kernels the in-memory path runs on the
 * same rows, so streamed results equal in-memory results bit for bit (softmax: when both pick
 * the same kernel variant for their row count). Written only against {@link DeviceRuntime}, so the
 * OpenCL runs on PoCL test the code CUDA runs.
 *
 * <p>An interrupt of the calling thread stops the stream between chunks with a
 * {@link CancellationException}; every queue, buffer and pinned block is freed on any exit.
 */
public final class OffloadPipeline {
    /** Slots (queues) by default: upload, compute and download of three chunks at once. */
    public static final int DEFAULT_QUEUES = 3;
    /** Largest chunk by default: big enough to amortise a launch, small enough to start the overlap early. */
    public static final long DEFAULT_MAX_CHUNK_BYTES = 32L << 20;
    /** Share of the budget left to the kernels' own temporaries (split softmax partial sums). */
    private static final double SLACK = 0.125;

    private final DeviceRuntime rt;
    private final long budgetBytes;
    private final int queues;
    private final long maxChunkBytes;
    private long lastChunkElements;
    private long lastChunkCount;

    /**
     * @param budgetBytes   the most device memory the stream may hold at once
     * @param queues        slots in the ring (1 to 8)
     * @param maxChunkBytes cap on one chunk of one tensor
     */
    public OffloadPipeline(DeviceRuntime runtime, long budgetBytes, int queues, long maxChunkBytes) {
        if (queues < 1 || queues > 8) {
            throw new IllegalArgumentException("offload queues must be 1 to 8, got " + queues);
        }
        this.rt = runtime;
        this.budgetBytes = budgetBytes;
        this.queues = queues;
        this.maxChunkBytes = Math.max(1, maxChunkBytes);
    }

    /** Elements per chunk of the last run (tests check that a budget forces many chunks). */
    public long lastChunkElements() {
        return lastChunkElements;
    }

    /** Chunks of the last run. */
    public long lastChunkCount() {
        return lastChunkCount;
    }

    /** {@code y = steps[n-1](... steps[0](x))}, chunk by chunk; {@code y} may be {@code x}. */
    public void forward(List<ChainStep> steps, Tensor x, Tensor y, LongConsumer progress) {
        long[] shape = x.shape();
        long unit = Chunking.unitElements(steps, shape);
        long onePiece = pieceBytes(2);
        if (steps.size() == 1 && steps.get(0).args().op().family() == Family.ROW_REDUCTION
                && unit * x.dtype().byteSize() > rowBytesThatFit(2)) {
            OpLayout l = OpLayout.of(steps.get(0).args(), shape);
            if (l.inner() == 1) {
                longRows(steps.get(0).args(), x, y, l.outer(), l.mid(), onePiece / x.dtype().byteSize(), progress);
                return;
            }
        }
        List<DeviceBuffer> weights = new ArrayList<>();
        try {
            long weightBytes = 0;
            List<DeviceBuffer> perStep = new ArrayList<>();
            for (ChainStep s : steps) {
                if (s.weight() == null) {
                    perStep.add(null);
                    continue;
                }
                DeviceBuffer w = rt.allocate(s.weight().byteSize());
                weights.add(w);
                rt.upload(s.weight().segment(), w, 0, s.weight().byteSize());
                weightBytes += w.byteSize();
                perStep.add(w);
            }
            rt.synchronize();
            DType t = x.dtype();
            // Two device buffers per slot: the chain ping-pongs between them.
            run(new Tensor[] {x}, y, unit, 2, weightBytes, progress, (bufs, count) -> {
                DeviceBuffer cur = bufs[0];
                DeviceBuffer other = bufs[1];
                for (int i = 0; i < steps.size(); i++) {
                    ChainStep s = steps.get(i);
                    OpLayout l = Chunking.chunkLayout(s, shape, count);
                    switch (s.args().op().family()) {
                        case ELEMENTWISE -> rt.forward(s.args(), t, cur, other, count);
                        case CHANNEL_WEIGHTED -> rt.preluForward(t, cur, perStep.get(i), s.weight().elementCount(), other, l);
                        case ROW_REDUCTION -> rt.softmaxForward(s.args(), t, cur, other, l);
                    }
                    DeviceBuffer swap = cur;
                    cur = other;
                    other = swap;
                }
                return cur;
            });
        } finally {
            weights.forEach(DeviceBuffer::close);
        }
    }

    /** {@code dx = op'(x) dy}, chunk by chunk, for elementwise and softmax ops (not PReLU, whose dw spans every chunk). */
    public void backward(OpArgs args, Tensor x, Tensor dy, Tensor dx, LongConsumer progress) {
        if (args.op().family() == Family.CHANNEL_WEIGHTED) {
            throw new UnsupportedOperationException("prelu's backward is not streamed (its weight gradient sums over"
                    + " every chunk); raise --device-memory so it fits, or use --backend cpu");
        }
        long[] shape = x.shape();
        ChainStep step = ChainStep.of(args);
        long unit = Chunking.unitElements(List.of(step), shape);
        DType t = x.dtype();
        long onePiece = pieceBytes(3);
        if (args.op().family() == Family.ROW_REDUCTION && unit * t.byteSize() > rowBytesThatFit(3)) {
            OpLayout l = OpLayout.of(args, shape);
            if (l.inner() == 1) {
                longRowsBackward(args, x, dy, dx, l.outer(), l.mid(), onePiece / t.byteSize(), progress);
                return;
            }
        }
        run(new Tensor[] {x, dy}, dx, unit, 3, 0, progress, (bufs, count) -> {
            if (args.op().family() == Family.ROW_REDUCTION) {
                rt.softmaxBackward(args, t, bufs[0], bufs[1], bufs[2], Chunking.chunkLayout(step, shape, count));
            } else {
                rt.backward(args, t, bufs[0], bufs[1], bufs[2], count);
            }
            return bufs[2];
        });
    }

    /** Bytes of one piece of a row too long for a chunk, {@code buffers} of them in the usable budget. */
    private long pieceBytes(int buffers) {
        return Math.min(rowBytesThatFit(buffers), maxChunkBytes);
    }

    /** The longest row (bytes) whose {@code buffers} copies fit the budget: longer rows take the multi-pass path. */
    private long rowBytesThatFit(int buffers) {
        long usable = (long) (budgetBytes * (1 - SLACK)) - 4096;  // the statistics buffers come on top
        return Math.min(usable / buffers, rt.maxBufferBytes());
    }

    /**
     * Softmax over rows longer than a chunk (the last axis): each row crosses the bus twice, once
     * for its pieces' (max, sum) pairs, which the host combines in double, and once to apply
     * them. Not bit-identical to the in-memory kernels (another summation order), but within the
     * accuracy contract. Synchronous and on the default queue: the rare, memory-starved case.
     */
    private void longRows(OpArgs args, Tensor x, Tensor y, long outer, long len, long pieceElements, LongConsumer progress) {
        if (pieceElements < 1) {
            throw new DeviceOutOfMemoryException("a device memory budget of " + budgetBytes + " bytes on "
                    + rt.description() + " cannot hold even one piece of a row; raise --device-memory", null);
        }
        DType t = x.dtype();
        int es = t.byteSize();
        long pieces = (len + pieceElements - 1) / pieceElements;
        lastChunkElements = pieceElements;
        lastChunkCount = outer * pieces;
        double[] st = new double[(int) Math.min(Integer.MAX_VALUE - 8, 2 * pieces)];
        MemorySegment sts = MemorySegment.ofArray(st);
        long done = 0;
        try (DeviceBuffer a = rt.allocate(pieceElements * es);
             DeviceBuffer b = rt.allocate(pieceElements * es);
             DeviceBuffer stats = rt.allocate(16 * pieces)) {
            for (long r = 0; r < outer; r++) {
                long base = r * len;
                double[] row = rowStats(args, x, base, len, pieceElements, pieces, a, stats, sts, st);
                double m = row[0];
                double sum = row[1];
                int mode = (int) row[2];
                for (long p = 0; p < pieces; p++) {
                    if (Thread.interrupted()) {
                        throw new CancellationException("stream cancelled in row " + r + " of " + outer);
                    }
                    long off = p * pieceElements;
                    long n = Math.min(pieceElements, len - off);
                    rt.upload(x.segment().asSlice((base + off) * es, n * es), a, 0, n * es);
                    rt.softmaxPieceApply(args, t, a, b, n, m, sum, mode);
                    rt.download(b, 0, y.segment().asSlice((base + off) * es, n * es), n * es);
                    done += n * es;
                    if (progress != null) {
                        progress.accept(done);
                    }
                }
            }
        }
    }

    /**
     * Pass 1 of a long row: each piece's (max, sum) on the device, combined here in double.
     *
     * @return the row's max, its sum of exp(x - max), and the mode for the apply kernels (0 normal,
     *         1 the row is NaN, 2 a fully masked row in safe mode)
     */
    private double[] rowStats(OpArgs args, Tensor x, long base, long len, long pieceElements, long pieces,
                              DeviceBuffer a, DeviceBuffer stats, MemorySegment sts, double[] st) {
        int es = x.dtype().byteSize();
        for (long p = 0; p < pieces; p++) {
            long off = p * pieceElements;
            long n = Math.min(pieceElements, len - off);
            rt.upload(x.segment().asSlice((base + off) * es, n * es), a, 0, n * es);
            rt.softmaxPieceStats(x.dtype(), a, n, stats, p);
        }
        rt.download(stats, 0, sts, 16 * pieces);
        double m = Double.NEGATIVE_INFINITY;
        for (long p = 0; p < pieces; p++) {
            double v = st[(int) (2 * p)];
            m = (v > m || Double.isNaN(v)) ? v : m;
        }
        if (Double.isNaN(m) || m == Double.POSITIVE_INFINITY) {
            return new double[] {m, 0, 1};
        }
        if (m == Double.NEGATIVE_INFINITY) {
            return new double[] {m, 0, args.safe() ? 2 : 1};
        }
        double sum = 0;
        for (long p = 0; p < pieces; p++) {
            double pm = st[(int) (2 * p)];
            if (pm != Double.NEGATIVE_INFINITY) {
                sum += st[(int) (2 * p + 1)] * Math.exp(pm - m);
            }
        }
        return new double[] {m, sum, 0};
    }

    /**
     * Softmax backward over rows longer than a chunk: pass 1 the row statistics, pass 2 each
     * piece's sum of dy * p (log-softmax: of dy), combined here, pass 3 dx per piece.
     */
    private void longRowsBackward(OpArgs args, Tensor x, Tensor dy, Tensor dx, long outer, long len, long pieceElements,
                                  LongConsumer progress) {
        if (pieceElements < 1) {
            throw new DeviceOutOfMemoryException("a device memory budget of " + budgetBytes + " bytes on "
                    + rt.description() + " cannot hold even one piece of a row; raise --device-memory", null);
        }
        DType t = x.dtype();
        int es = t.byteSize();
        long pieces = (len + pieceElements - 1) / pieceElements;
        lastChunkElements = pieceElements;
        lastChunkCount = outer * pieces;
        double[] st = new double[(int) (2 * pieces)];
        double[] dots = new double[(int) pieces];
        MemorySegment sts = MemorySegment.ofArray(st);
        MemorySegment dotSeg = MemorySegment.ofArray(dots);
        long done = 0;
        try (DeviceBuffer a = rt.allocate(pieceElements * es);
             DeviceBuffer g = rt.allocate(pieceElements * es);
             DeviceBuffer out = rt.allocate(pieceElements * es);
             DeviceBuffer stats = rt.allocate(16 * pieces);
             DeviceBuffer dotBuf = rt.allocate(8 * pieces)) {
            for (long r = 0; r < outer; r++) {
                long base = r * len;
                double[] row = rowStats(args, x, base, len, pieceElements, pieces, a, stats, sts, st);
                double dot = 0;
                if (row[2] == 0) {
                    for (long p = 0; p < pieces; p++) {
                        long off = p * pieceElements;
                        long n = Math.min(pieceElements, len - off);
                        rt.upload(x.segment().asSlice((base + off) * es, n * es), a, 0, n * es);
                        rt.upload(dy.segment().asSlice((base + off) * es, n * es), g, 0, n * es);
                        rt.softmaxPieceDot(args, t, a, g, n, row[0], row[1], dotBuf, p);
                    }
                    rt.download(dotBuf, 0, dotSeg, 8 * pieces);
                    for (double d : dots) {
                        dot += d;
                    }
                }
                for (long p = 0; p < pieces; p++) {
                    if (Thread.interrupted()) {
                        throw new CancellationException("stream cancelled in row " + r + " of " + outer);
                    }
                    long off = p * pieceElements;
                    long n = Math.min(pieceElements, len - off);
                    rt.upload(x.segment().asSlice((base + off) * es, n * es), a, 0, n * es);
                    rt.upload(dy.segment().asSlice((base + off) * es, n * es), g, 0, n * es);
                    rt.softmaxPieceBackward(args, t, a, g, out, n, row[0], row[1], dot, (int) row[2]);
                    rt.download(out, 0, dx.segment().asSlice((base + off) * es, n * es), n * es);
                    done += n * es;
                    if (progress != null) {
                        progress.accept(done);
                    }
                }
            }
        }
    }

    /** Enqueues one chunk's kernels on the current queue; returns the buffer holding its result. */
    private interface ChunkWork {
        DeviceBuffer enqueue(DeviceBuffer[] buffers, long count);
    }

    /** One slot of the ring. */
    private static final class Slot {
        DeviceQueue queue;
        final PinnedMemory[] hostIn;
        PinnedMemory hostOut;
        final DeviceBuffer[] device;
        long pendingOffset = -1;
        long pendingCount;

        Slot(int inputs, int buffers) {
            hostIn = new PinnedMemory[inputs];
            device = new DeviceBuffer[buffers];
        }
    }

    private void run(Tensor[] inputs, Tensor out, long unit, int buffersPerSlot, long fixedBytes,
                     LongConsumer progress, ChunkWork work) {
        long total = out.elementCount();
        if (total == 0) {
            return;
        }
        int esize = out.dtype().byteSize();
        long usable = (long) ((budgetBytes - fixedBytes) * (1 - SLACK));
        int slots = queues;
        long perBuffer = usable / ((long) slots * buffersPerSlot);
        long unitBytes = unit * esize;
        while (perBuffer < unitBytes && slots > 1) {
            slots--;
            perBuffer = usable / ((long) slots * buffersPerSlot);
        }
        if (perBuffer < unitBytes) {
            throw new DeviceOutOfMemoryException("one row (outer slice) of " + unitBytes + " bytes needs "
                    + (long) Math.ceil(unitBytes * buffersPerSlot / (1 - SLACK) + fixedBytes) + " bytes of device memory to stream,"
                    + " but the budget is " + budgetBytes + " bytes on " + rt.description()
                    + "; raise --device-memory or use --backend cpu", null);
        }
        long capBytes = Math.min(perBuffer, Math.min(maxChunkBytes, rt.maxBufferBytes()));
        long chunk = Chunking.chunkElements(unit, Math.max(unit, capBytes / esize), total);
        long chunks = (total + chunk - 1) / chunk;
        slots = (int) Math.min(slots, chunks);
        lastChunkElements = chunk;
        lastChunkCount = chunks;
        long chunkBytes = chunk * esize;
        Slot[] ring = new Slot[slots];
        Throwable failure = null;
        try {
            for (int i = 0; i < slots; i++) {
                Slot s = new Slot(inputs.length, buffersPerSlot);
                ring[i] = s;
                s.queue = rt.openQueue();
                for (int k = 0; k < inputs.length; k++) {
                    s.hostIn[k] = rt.allocatePinned(chunkBytes);
                }
                s.hostOut = rt.allocatePinned(chunkBytes);
                for (int k = 0; k < buffersPerSlot; k++) {
                    s.device[k] = rt.allocate(chunkBytes);
                }
            }
            long done = 0;
            for (long c = 0; c < chunks; c++) {
                if (Thread.interrupted()) {
                    throw new CancellationException("stream cancelled after " + c + " of " + chunks + " chunks");
                }
                Slot s = ring[(int) (c % slots)];
                done += drain(s, out, esize, progress, done);
                long offset = c * chunk;
                long count = Math.min(chunk, total - offset);
                long bytes = count * esize;
                for (int k = 0; k < inputs.length; k++) {
                    MemorySegment.copy(inputs[k].segment(), offset * esize, s.hostIn[k].segment(), 0, bytes);
                    s.queue.uploadAsync(s.hostIn[k].segment(), s.device[k], 0, bytes);
                }
                DeviceBuffer[] result = new DeviceBuffer[1];
                s.queue.enqueue(() -> result[0] = work.enqueue(s.device, count));
                s.queue.downloadAsync(result[0], 0, s.hostOut.segment(), bytes);
                s.pendingOffset = offset;
                s.pendingCount = count;
            }
            for (long c = chunks; c < chunks + slots; c++) {
                done += drain(ring[(int) (c % slots)], out, esize, progress, done);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            release(ring, failure);
        }
    }

    /** Waits for a slot's chunk in flight, if any, and copies its result out; returns the bytes done. */
    private static long drain(Slot s, Tensor out, int esize, LongConsumer progress, long doneBefore) {
        if (s.pendingOffset < 0) {
            return 0;
        }
        s.queue.synchronize();
        long bytes = s.pendingCount * esize;
        MemorySegment.copy(s.hostOut.segment(), 0, out.segment(), s.pendingOffset * esize, bytes);
        s.pendingOffset = -1;
        if (progress != null) {
            progress.accept(doneBefore + bytes);
        }
        return bytes;
    }

    /** Queues first (they wait for transfers still using the pinned memory), then device buffers, then pinned memory. */
    private static void release(Slot[] ring, Throwable primary) {
        RuntimeException failure = null;
        for (Slot s : ring) {
            if (s == null) {
                continue;
            }
            try {
                if (s.queue != null) {
                    s.queue.close();
                }
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        for (Slot s : ring) {
            if (s == null) {
                continue;
            }
            for (DeviceBuffer b : s.device) {
                if (b != null) {
                    b.close();
                }
            }
            for (PinnedMemory p : s.hostIn) {
                if (p != null) {
                    p.close();
                }
            }
            if (s.hostOut != null) {
                s.hostOut.close();
            }
        }
        if (failure != null) {
            if (primary != null) {
                primary.addSuppressed(failure);  // the first failure is the one to report
            } else {
                throw failure;
            }
        }
    }
}
