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
 * axes), whole PReLU outer slices. Where one unit is too large for the ring: softmax rows longer
 * than a chunk run in passes (along an inner axis on gathered pieces, {@link RowPieces}); an
 * inner-axis outer slice is cut into whole columns ({@link Tiling#columns}); a PReLU outer slice
 * into blocks of whole channels ({@link Tiling.ChannelBlocks}); a chain holding such a step runs in
 * segments. PReLU's dw is summed over the chunks on the host ({@link DwPartials}). A chunk runs exactly the kernels the in-memory path runs on the
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

    /**
     * {@code y = steps[n-1](... steps[0](x))}, chunk by chunk; {@code y} may be {@code x}. A softmax
     * step whose unit (a row, or an outer slice for inner axes) is too large for the ring runs
     * alone ({@link #forwardAlone}); the chain then runs in segments, each over the whole tensor:
     * the steps before it from {@code x} into {@code y}, it in place on {@code y}, the steps after
     * it in place on {@code y}. Each segment computes what op-by-op streaming computes, so the
     * results equal running the ops one by one.
     */
    public void forward(List<ChainStep> steps, Tensor x, Tensor y, LongConsumer progress) {
        long[] shape = x.shape();
        List<List<ChainStep>> segments = new ArrayList<>();
        List<ChainStep> group = new ArrayList<>();
        for (ChainStep s : steps) {
            if (mustRunAlone(s, shape, x.dtype(), 2)) {
                if (!group.isEmpty()) {
                    segments.add(group);
                    group = new ArrayList<>();
                }
                segments.add(List.of(s));
            } else {
                group.add(s);
            }
        }
        if (!group.isEmpty()) {
            segments.add(group);
        }
        long total = y.byteSize();
        Tensor src = x;
        for (int i = 0; i < segments.size(); i++) {
            List<ChainStep> seg = segments.get(i);
            LongConsumer p = progress == null || segments.size() == 1 ? progress
                    : segmentProgress(progress, i, segments.size(), total);
            if (seg.size() == 1 && mustRunAlone(seg.get(0), shape, x.dtype(), 2)) {
                if (seg.get(0).weight() != null) {
                    preluChannelBlocks(src, seg.get(0).weight(), null, y, null, p);
                } else {
                    forwardAlone(seg.get(0).args(), src, y, p);
                }
            } else {
                forwardRing(seg, src, y, p);
            }
            src = y;
        }
    }

    /** Progress of segment {@code i} of {@code n}, each a full pass over {@code total} bytes, as one growing count. */
    private static LongConsumer segmentProgress(LongConsumer progress, int i, int n, long total) {
        return done -> progress.accept((long) ((i * (double) total + done) / n));
    }

    /**
     * True for a softmax or PReLU step whose unit (a row, an outer slice), {@code buffers} copies
     * of it, does not fit the ring.
     */
    private boolean mustRunAlone(ChainStep s, long[] shape, DType t, int buffers) {
        return s.args().op().family() != Family.ELEMENTWISE
                && Chunking.unitElements(List.of(s), shape) * t.byteSize() > rowBytesThatFit(buffers);
    }

    /**
     * A softmax whose unit is too large for the ring: along the last axis, rows longer than a
     * chunk take the multi-pass path; along an inner axis, chunks hold whole columns of one outer
     * slice, gathered on the host into contiguous {@code (1, mid, k)} blocks, and columns longer
     * than a chunk take the multi-pass path too, their pieces gathered ({@link RowPieces}). The host gather
     * (rather than a column offset and stride in every softmax kernel variant, on both backends)
     * keeps the kernels and the SPI as they are: the device runs exactly the row kernels of the
     * in-memory path, and the copy cost falls on the rare memory-starved case only.
     */
    private void forwardAlone(OpArgs args, Tensor x, Tensor y, LongConsumer progress) {
        OpLayout l = OpLayout.of(args, x.shape());
        DType t = x.dtype();
        if (l.inner() == 1 || l.mid() * t.byteSize() > rowBytesThatFit(2)) {
            longRows(args, x, y, l, pieceBytes(2) / t.byteSize(), progress);
            return;
        }
        long mid = l.mid();
        run(new Tensor[] {x}, y, mid, 2, 0, progress, (bufs, count, chunk) -> {
            rt.softmaxForward(args, t, bufs[0], bufs[1], new OpLayout(1, mid, count / mid));
            return bufs[1];
        }, Tiling.columns(l.outer(), mid, l.inner()), 0, null);
    }

    /** The steps of one segment on each chunk while it is on the device (weights uploaded once). */
    private void forwardRing(List<ChainStep> steps, Tensor x, Tensor y, LongConsumer progress) {
        long[] shape = x.shape();
        long unit = Chunking.unitElements(steps, shape);
        List<DeviceBuffer> weights = new ArrayList<>();
        Throwable failure = null;
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
            run(new Tensor[] {x}, y, unit, 2, weightBytes, progress, (bufs, count, chunk) -> {
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
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            Release r = new Release();
            weights.forEach(r::close);
            r.done(failure);
        }
    }

    /** {@code dx = op'(x) dy}, chunk by chunk, for elementwise and softmax ops (PReLU: {@link #preluBackward}). */
    public void backward(OpArgs args, Tensor x, Tensor dy, Tensor dx, LongConsumer progress) {
        if (args.op().family() == Family.CHANNEL_WEIGHTED) {
            throw new IllegalArgumentException("prelu's streamed backward needs its weight and dw: call preluBackward");
        }
        long[] shape = x.shape();
        ChainStep step = ChainStep.of(args);
        long unit = Chunking.unitElements(List.of(step), shape);
        DType t = x.dtype();
        if (mustRunAlone(step, shape, t, 3)) {
            OpLayout l = OpLayout.of(args, shape);
            if (l.inner() == 1 || l.mid() * t.byteSize() > rowBytesThatFit(3)) {
                longRowsBackward(args, x, dy, dx, l, pieceBytes(3) / t.byteSize(), progress);
                return;
            }
            long mid = l.mid();
            run(new Tensor[] {x, dy}, dx, mid, 3, 0, progress, (bufs, count, chunk) -> {
                rt.softmaxBackward(args, t, bufs[0], bufs[1], bufs[2], new OpLayout(1, mid, count / mid));
                return bufs[2];
            }, Tiling.columns(l.outer(), mid, l.inner()), 0, null);
            return;
        }
        run(new Tensor[] {x, dy}, dx, unit, 3, 0, progress, (bufs, count, chunk) -> {
            if (args.op().family() == Family.ROW_REDUCTION) {
                rt.softmaxBackward(args, t, bufs[0], bufs[1], bufs[2], Chunking.chunkLayout(step, shape, count));
            } else {
                rt.backward(args, t, bufs[0], bufs[1], bufs[2], count);
            }
            return bufs[2];
        });
    }

    /**
     * PReLU backward, chunk by chunk (whole outer slices, so each chunk starts at channel 0): dx
     * per chunk by the in-memory kernel (bit for bit), and each chunk's dw partial sums by the
     * in-memory dw kernel into a small per-slot buffer, downloaded with the chunk. The host adds
     * the partials in double in chunk order ({@link DwPartials}), so dw is deterministic for a given
     * budget and its error stays within the in-memory one plus one rounding per chunk partial.
     */
    public void preluBackward(Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw, LongConsumer progress) {
        long[] shape = x.shape();
        DType t = x.dtype();
        int es = t.byteSize();
        ChainStep step = new ChainStep(OpArgs.of(dev.soma.op.Op.PRELU), weight);
        long unit = Chunking.unitElements(List.of(step), shape);
        long channels = weight.elementCount();
        long sideBytes = channels * es;
        if (!ringFits(unit * es, 3, weight.byteSize(), sideBytes)) {
            preluChannelBlocks(x, weight, dy, dx, dw, progress);
            return;
        }
        double[] sums = new double[Math.toIntExact(channels)];
        try (DeviceBuffer w = rt.allocate(weight.byteSize())) {
            rt.upload(weight.segment(), w, 0, weight.byteSize());
            rt.synchronize();
            run(new Tensor[] {x, dy}, dx, unit, 3, weight.byteSize(), progress, (bufs, count, chunk) -> {
                rt.preluBackward(t, bufs[0], w, channels, bufs[1], bufs[2], bufs[3], Chunking.chunkLayout(step, shape, count));
                return bufs[2];
            }, Tiling.CONTIGUOUS, sideBytes, (chunk, count, partial, staged) ->
                    DwPartials.add(sums, 0, Chunking.chunkLayout(step, shape, count), t, partial, staged[0], staged[1]));
        }
        if (dw != null) {
            for (int c = 0; c < sums.length; c++) {
                dw.set(c, sums[c]);
            }
        }
    }

    /**
     * PReLU (forward when {@code dy} is null, else backward) on a tensor whose one outer slice
     * ({@code C x inner}) is too large for the ring: each chunk holds a block of whole channels of
     * one outer slice, a contiguous range, run as an {@code (1, k, inner)} layout against a device
     * copy of just that block's weights (uploaded once per block, C weights in all), so dx and y are
     * the in-memory kernels' bits; each block's dw partials are added to their channels' sums in
     * double in chunk order.
     */
    private void preluChannelBlocks(Tensor x, Tensor weight, Tensor dy, Tensor out, Tensor dw, LongConsumer progress) {
        OpLayout l = OpLayout.of(OpArgs.of(dev.soma.op.Op.PRELU), x.shape());
        DType t = x.dtype();
        int es = t.byteSize();
        long channels = l.mid();
        long inner = l.inner();
        boolean backward = dy != null;
        int buffers = backward ? 3 : 2;
        if (inner * es > rowBytesThatFit(buffers + 1)) {
            throw new DeviceOutOfMemoryException("prelu with " + inner + " elements per channel needs "
                    + (long) Math.ceil((inner * es * (double) (buffers + 1) + 4096) / (1 - SLACK) + weight.byteSize())
                    + " bytes of device memory to stream one channel, but the budget is " + budgetBytes + " bytes on "
                    + rt.description() + "; raise --device-memory or use --backend cpu", null);
        }
        // Backward: each chunk's dw partials need a side buffer of one value per channel of the chunk,
        // so blocks are capped to keep the slots' side buffers within a quarter of the budget.
        long maxPerBlock = backward ? Math.max(1, Math.min(channels, pieceBytes(4 * queues) / (inner * es))) : channels;
        java.util.Map<Long, DeviceBuffer> blockWeights = new java.util.HashMap<>();
        // Each block's weights, uploaded once the block size is known and before any chunk's kernels
        // (uploads inside a queue's work would race with other queues on CUDA).
        Tiling.ChannelBlocks tiling = new Tiling.ChannelBlocks(l.outer(), channels, inner, maxPerBlock, perBlock -> {
            for (long first = 0; first < channels; first += perBlock) {
                long k = Math.min(perBlock, channels - first);
                DeviceBuffer w = rt.allocate(k * es);
                blockWeights.put(first, w);
                rt.upload(weight.segment().asSlice(first * es, k * es), w, 0, k * es);
            }
            rt.synchronize();
        });
        double[] sums = new double[backward ? Math.toIntExact(channels) : 0];
        try {
            ChunkWork work = (bufs, count, chunk) -> {
                long first = tiling.firstChannel(chunk);
                long k = count / inner;
                DeviceBuffer w = blockWeights.get(first);
                OpLayout block = new OpLayout(1, k, inner);
                if (backward) {
                    rt.preluBackward(t, bufs[0], w, k, bufs[1], bufs[2], bufs[3], block);
                    return bufs[2];
                }
                rt.preluForward(t, bufs[0], w, k, bufs[1], block);
                return bufs[1];
            };
            if (backward) {
                run(new Tensor[] {x, dy}, out, inner, 3, weight.byteSize(), progress, work, tiling,
                        maxPerBlock * es, (chunk, count, partial, staged) ->
                                DwPartials.add(sums, tiling.firstChannel(chunk), new OpLayout(1, count / inner, inner), t,
                                        partial, staged[0], staged[1]));
            } else {
                run(new Tensor[] {x}, out, inner, 2, weight.byteSize(), progress, work, tiling, 0, null);
            }
        } finally {
            blockWeights.values().forEach(DeviceBuffer::close);
        }
        if (dw != null) {
            for (int c = 0; c < sums.length; c++) {
                dw.set(c, sums[c]);
            }
        }
    }

    /** True when one slot of the ring ({@link #run}'s sizing) holds a unit of {@code unitBytes}. */
    private boolean ringFits(long unitBytes, int buffersPerSlot, long fixedBytes, long sideBytes) {
        long usable = (long) ((budgetBytes - fixedBytes - (long) queues * sideBytes) * (1 - SLACK));
        return usable / buffersPerSlot >= unitBytes && unitBytes <= rt.maxBufferBytes();
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
     * Softmax over rows longer than a chunk (along any axis: inner-axis rows move through
     * {@link RowPieces}' gather): each row crosses the bus twice, once
     * for its pieces' (max, sum) pairs, which the host combines in double, and once to apply
     * them. Not bit-identical to the in-memory kernels (another summation order), but within the
     * accuracy contract. Synchronous and on the default queue: the rare, memory-starved case.
     */
    private void longRows(OpArgs args, Tensor x, Tensor y, OpLayout l, long pieceElements, LongConsumer progress) {
        if (pieceElements < 1) {
            throw new DeviceOutOfMemoryException("a device memory budget of " + budgetBytes + " bytes on "
                    + rt.description() + " cannot hold even one piece of a row; raise --device-memory", null);
        }
        DType t = x.dtype();
        int es = t.byteSize();
        long outer = RowPieces.rows(l);
        long len = l.mid();
        long pieces = (len + pieceElements - 1) / pieceElements;
        lastChunkElements = pieceElements;
        lastChunkCount = outer * pieces;
        double[] st = new double[(int) Math.min(Integer.MAX_VALUE - 8, 2 * pieces)];
        MemorySegment sts = MemorySegment.ofArray(st);
        long done = 0;
        try (RowPieces rp = new RowPieces(rt, l, t, pieceElements);
             DeviceBuffer a = rt.allocate(pieceElements * es);
             DeviceBuffer b = rt.allocate(pieceElements * es);
             DeviceBuffer stats = rt.allocate(16 * pieces)) {
            for (long r = 0; r < outer; r++) {
                double[] row = rowStats(args, x, rp, r, len, pieceElements, pieces, a, stats, sts, st);
                double m = row[0];
                double sum = row[1];
                int mode = (int) row[2];
                for (long p = 0; p < pieces; p++) {
                    if (Thread.interrupted()) {
                        throw new CancellationException("stream cancelled in row " + r + " of " + outer);
                    }
                    long off = p * pieceElements;
                    long n = Math.min(pieceElements, len - off);
                    rp.upload(x, r, off, n, a);
                    rt.softmaxPieceApply(args, t, a, b, n, m, sum, mode);
                    rp.download(b, r, off, n, y);
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
    private double[] rowStats(OpArgs args, Tensor x, RowPieces rp, long r, long len, long pieceElements, long pieces,
                              DeviceBuffer a, DeviceBuffer stats, MemorySegment sts, double[] st) {
        for (long p = 0; p < pieces; p++) {
            long off = p * pieceElements;
            long n = Math.min(pieceElements, len - off);
            rp.upload(x, r, off, n, a);
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
    private void longRowsBackward(OpArgs args, Tensor x, Tensor dy, Tensor dx, OpLayout l, long pieceElements,
                                  LongConsumer progress) {
        if (pieceElements < 1) {
            throw new DeviceOutOfMemoryException("a device memory budget of " + budgetBytes + " bytes on "
                    + rt.description() + " cannot hold even one piece of a row; raise --device-memory", null);
        }
        DType t = x.dtype();
        int es = t.byteSize();
        long outer = RowPieces.rows(l);
        long len = l.mid();
        long pieces = (len + pieceElements - 1) / pieceElements;
        lastChunkElements = pieceElements;
        lastChunkCount = outer * pieces;
        double[] st = new double[(int) (2 * pieces)];
        double[] dots = new double[(int) pieces];
        MemorySegment sts = MemorySegment.ofArray(st);
        MemorySegment dotSeg = MemorySegment.ofArray(dots);
        long done = 0;
        try (RowPieces rp = new RowPieces(rt, l, t, pieceElements);
             DeviceBuffer a = rt.allocate(pieceElements * es);
             DeviceBuffer g = rt.allocate(pieceElements * es);
             DeviceBuffer out = rt.allocate(pieceElements * es);
             DeviceBuffer stats = rt.allocate(16 * pieces);
             DeviceBuffer dotBuf = rt.allocate(8 * pieces)) {
            for (long r = 0; r < outer; r++) {
                double[] row = rowStats(args, x, rp, r, len, pieceElements, pieces, a, stats, sts, st);
                double dot = 0;
                if (row[2] == 0) {
                    for (long p = 0; p < pieces; p++) {
                        long off = p * pieceElements;
                        long n = Math.min(pieceElements, len - off);
                        rp.upload(x, r, off, n, a);
                        rp.upload(dy, r, off, n, g);
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
                    rp.upload(x, r, off, n, a);
                    rp.upload(dy, r, off, n, g);
                    rt.softmaxPieceBackward(args, t, a, g, out, n, row[0], row[1], dot, (int) row[2]);
                    rp.download(out, r, off, n, dx);
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
        DeviceBuffer enqueue(DeviceBuffer[] buffers, long count, long chunk);
    }

    /** Receives a chunk's side output (PReLU's partial dw), in chunk order. */
    private interface SideSink {
        /** {@code staged}: the chunk's inputs in their staging buffers, still intact. */
        void accept(long chunk, long count, MemorySegment side, MemorySegment[] staged);
    }

    /** One slot of the ring. */
    private static final class Slot {
        DeviceQueue queue;
        final PinnedMemory[] hostIn;
        PinnedMemory hostOut;
        PinnedMemory hostSide;
        final DeviceBuffer[] device;
        long pendingChunk = -1;
        long pendingCount;

        Slot(int inputs, int buffers) {
            hostIn = new PinnedMemory[inputs];
            device = new DeviceBuffer[buffers];
        }
    }

    private void run(Tensor[] inputs, Tensor out, long unit, int buffersPerSlot, long fixedBytes,
                     LongConsumer progress, ChunkWork work) {
        run(inputs, out, unit, buffersPerSlot, fixedBytes, progress, work, Tiling.CONTIGUOUS, 0, null);
    }

    /**
     * The ring: {@code tiling} says which elements each chunk holds (contiguous ranges, or columns
     * gathered on the host); with {@code sideBytes > 0} every slot also has a device buffer of that
     * size (the last of the buffers handed to {@code work}) that is downloaded with the chunk and
     * handed to {@code side} in chunk order.
     */
    private void run(Tensor[] inputs, Tensor out, long unit, int buffersPerSlot, long fixedBytes,
                     LongConsumer progress, ChunkWork work, Tiling tiling, long sideBytes, SideSink side) {
        long total = out.elementCount();
        if (total == 0) {
            return;
        }
        int esize = out.dtype().byteSize();
        long usable = (long) ((budgetBytes - fixedBytes - (long) queues * sideBytes) * (1 - SLACK));
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
        Tiling.Plan plan = tiling.plan(chunk, total);
        chunk = plan.chunkElements();
        long chunks = plan.chunks();
        slots = (int) Math.min(slots, chunks);
        lastChunkElements = chunk;
        lastChunkCount = chunks;
        long chunkBytes = chunk * esize;
        Slot[] ring = new Slot[slots];
        Throwable failure = null;
        try {
            for (int i = 0; i < slots; i++) {
                Slot s = new Slot(inputs.length, buffersPerSlot + (sideBytes > 0 ? 1 : 0));
                ring[i] = s;
                s.queue = rt.openQueue();
                for (int k = 0; k < inputs.length; k++) {
                    s.hostIn[k] = rt.allocatePinned(chunkBytes);
                }
                s.hostOut = rt.allocatePinned(chunkBytes);
                for (int k = 0; k < buffersPerSlot; k++) {
                    s.device[k] = rt.allocate(chunkBytes);
                }
                if (sideBytes > 0) {
                    s.device[buffersPerSlot] = rt.allocate(sideBytes);
                    s.hostSide = rt.allocatePinned(sideBytes);
                }
            }
            long done = 0;
            for (long c = 0; c < chunks; c++) {
                if (Thread.interrupted()) {
                    throw new CancellationException("stream cancelled after " + c + " of " + chunks + " chunks");
                }
                Slot s = ring[(int) (c % slots)];
                done += drain(s, out, esize, progress, done, plan, side);
                long count = plan.count(c);
                long bytes = count * esize;
                for (int k = 0; k < inputs.length; k++) {
                    plan.gather(inputs[k].segment(), c, s.hostIn[k].segment(), esize);
                    s.queue.uploadAsync(s.hostIn[k].segment(), s.device[k], 0, bytes);
                }
                DeviceBuffer[] result = new DeviceBuffer[1];
                long chunkIndex = c;
                s.queue.enqueue(() -> result[0] = work.enqueue(s.device, count, chunkIndex));
                s.queue.downloadAsync(result[0], 0, s.hostOut.segment(), bytes);
                if (sideBytes > 0) {
                    s.queue.downloadAsync(s.device[buffersPerSlot], 0, s.hostSide.segment(), sideBytes);
                }
                s.pendingChunk = c;
                s.pendingCount = count;
            }
            for (long c = chunks; c < chunks + slots; c++) {
                done += drain(ring[(int) (c % slots)], out, esize, progress, done, plan, side);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            release(ring, failure);
        }
    }

    /** Waits for a slot's chunk in flight, if any, and copies its result out; returns the bytes done. */
    private static long drain(Slot s, Tensor out, int esize, LongConsumer progress, long doneBefore, Tiling.Plan plan,
                              SideSink side) {
        if (s.pendingChunk < 0) {
            return 0;
        }
        s.queue.synchronize();
        long bytes = s.pendingCount * esize;
        plan.scatter(s.hostOut.segment(), s.pendingChunk, out.segment(), esize);
        if (side != null) {
            MemorySegment[] staged = new MemorySegment[s.hostIn.length];
            for (int k = 0; k < staged.length; k++) {
                staged[k] = s.hostIn[k].segment();
            }
            side.accept(s.pendingChunk, s.pendingCount, s.hostSide.segment(), staged);
        }
        s.pendingChunk = -1;
        if (progress != null) {
            progress.accept(doneBefore + bytes);
        }
        return bytes;
    }

    /**
     * Queues first (they wait for transfers still using the pinned memory), then device buffers, then
     * pinned memory; every one is released even if some fail (a lost device), and a failure here
     * never hides {@code primary}, the error that stopped the stream.
     */
    private static void release(Slot[] ring, Throwable primary) {
        Release r = new Release();
        for (Slot s : ring) {
            if (s != null) {
                r.close(s.queue);
            }
        }
        for (Slot s : ring) {
            if (s == null) {
                continue;
            }
            for (DeviceBuffer b : s.device) {
                r.close(b);
            }
            for (PinnedMemory p : s.hostIn) {
                r.close(p);
            }
            r.close(s.hostOut).close(s.hostSide);
        }
        r.done(primary);
    }

}
