package dev.soma.backend.cpu;

import dev.soma.Tensor;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.ChainStep;
import dev.soma.backend.Chunking;
import dev.soma.backend.OpLayout;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.LongConsumer;

/** The CPU backend: host tensors straight into the fallback module's kernels, no copies. */
public final class CpuBackend implements Backend {
    /** Elements per chunk of a chain: large enough to keep every core busy, small enough for a live progress bar. */
    static final long CHAIN_CHUNK_ELEMENTS = 4L << 20;
    private final CpuKernels kernels;
    private volatile long chainChunkElements = CHAIN_CHUNK_ELEMENTS;

    public CpuBackend(CpuKernels kernels) {
        this.kernels = kernels;
    }

    /** The kernels this backend runs ("vector" or "scalar"). */
    public CpuKernels kernels() {
        return kernels;
    }

    /** Elements per chunk of {@link #forwardChain} (tests force many chunks). */
    public void setChainChunkElements(long n) {
        this.chainChunkElements = Math.max(1, n);
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public String description() {
        return "CPU (" + kernels.name() + " kernels, " + Runtime.getRuntime().availableProcessors() + " threads)";
    }

    @Override
    public void forward(OpArgs args, Tensor x, Tensor weight, Tensor y) {
        OpLayout l = OpLayout.of(args, x.shape());
        switch (args.op().family()) {
            case ELEMENTWISE -> kernels.forward(args, x.dtype(), x.segment(), y.segment(), x.elementCount());
            case CHANNEL_WEIGHTED -> kernels.preluForward(x.dtype(), x.segment(), weight.segment(),
                    weight.elementCount(), y.segment(), l.outer(), l.mid(), l.inner());
            case ROW_REDUCTION -> kernels.softmaxForward(args, x.dtype(), x.segment(), y.segment(),
                    l.outer(), l.mid(), l.inner());
        }
    }

    @Override
    public void backward(OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw) {
        OpLayout l = OpLayout.of(args, x.shape());
        switch (args.op().family()) {
            case ELEMENTWISE -> kernels.backward(args, x.dtype(), x.segment(), dy.segment(), dx.segment(),
                    x.elementCount());
            case CHANNEL_WEIGHTED -> kernels.preluBackward(x.dtype(), x.segment(), weight.segment(),
                    weight.elementCount(), dy.segment(), dx.segment(), dw.segment(), l.outer(), l.mid(), l.inner());
            case ROW_REDUCTION -> kernels.softmaxBackward(args, x.dtype(), x.segment(), dy.segment(),
                    dx.segment(), l.outer(), l.mid(), l.inner());
        }
    }

    /**
     * The chain chunk by chunk (whole rows per chunk, {@link Chunking}): every step runs on a chunk
     * while it is in the cache-friendly range, the output is touched once per step per chunk, the
     * progress is reported and an interrupt stops the run between chunks.
     */
    @Override
    public void forwardChain(List<ChainStep> steps, Tensor x, Tensor y, LongConsumer progress) {
        long total = x.elementCount();
        long[] shape = x.shape();
        long chunk = Chunking.chunkElements(Chunking.unitElements(steps, shape), chainChunkElements, total);
        DType t = x.dtype();
        int es = t.byteSize();
        for (long off = 0; off < total; off += chunk) {
            if (Thread.interrupted()) {
                throw new CancellationException("cancelled after " + off + " of " + total + " elements");
            }
            long n = Math.min(chunk, total - off);
            MemorySegment in = x.segment().asSlice(off * es, n * es);
            MemorySegment out = y.segment().asSlice(off * es, n * es);
            for (ChainStep s : steps) {
                OpLayout l = Chunking.chunkLayout(s, shape, n);
                switch (s.args().op().family()) {
                    case ELEMENTWISE -> kernels.forward(s.args(), t, in, out, n);
                    case CHANNEL_WEIGHTED -> kernels.preluForward(t, in, s.weight().segment(), s.weight().elementCount(),
                            out, l.outer(), l.mid(), l.inner());
                    case ROW_REDUCTION -> kernels.softmaxForward(s.args(), t, in, out, l.outer(), l.mid(), l.inner());
                }
                in = out;
            }
            if (progress != null) {
                progress.accept((off + n) * es);
            }
        }
    }

    /** Elements per task of {@link #forwardMany}: enough work to outweigh a task's scheduling. */
    static final long MANY_TASK_ELEMENTS = 1L << 16;

    /**
     * One parallel task set over the tensors: consecutive tensors are grouped into tasks of about
     * {@link #MANY_TASK_ELEMENTS} elements (a task per 4,096-element tensor would cost more to
     * schedule than to compute); a large tensor alone is split inside the kernels.
     */
    @Override
    public void forwardMany(OpArgs args, List<Tensor> xs, List<Tensor> ys) {
        eachGroup(xs, i -> {
            Tensor x = xs.get(i);
            kernels.forward(args, x.dtype(), x.segment(), ys.get(i).segment(), x.elementCount());
        });
    }

    @Override
    public void backwardMany(OpArgs args, List<Tensor> xs, List<Tensor> dys, List<Tensor> dxs) {
        eachGroup(xs, i -> {
            Tensor x = xs.get(i);
            kernels.backward(args, x.dtype(), x.segment(), dys.get(i).segment(), dxs.get(i).segment(), x.elementCount());
        });
    }

    private static void eachGroup(List<Tensor> xs, java.util.function.IntConsumer each) {
        List<int[]> groups = new java.util.ArrayList<>();
        int from = 0;
        long elements = 0;
        for (int i = 0; i < xs.size(); i++) {
            elements += xs.get(i).elementCount();
            if (elements >= MANY_TASK_ELEMENTS || i == xs.size() - 1) {
                groups.add(new int[] {from, i + 1});
                from = i + 1;
                elements = 0;
            }
        }
        groups.parallelStream().forEach(g -> {
            for (int i = g[0]; i < g[1]; i++) {
                each.accept(i);
            }
        });
    }

    @Override
    public void close() {
        // Nothing native: the kernels' thread pool is shared and daemon.
    }
}
