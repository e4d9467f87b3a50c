package dev.soma.backend.device;

import dev.soma.Tensor;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.ChainStep;
import dev.soma.backend.Chunking;
import dev.soma.backend.OpLayout;
import dev.soma.op.Family;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The host side shared by both GPU backends: moves host tensors to the device, runs the op's
 * kernel, brings the result back and frees the device buffers, all through {@link DeviceRuntime}.
 * When the tensors do not fit the device memory budget (the device's free memory, or the user's
 * {@link #setMemoryBudget}), or a tensor exceeds the device's largest buffer, the work is streamed
 * through an {@link OffloadPipeline} instead. Because OpenCL and CUDA both run this class, the
 * OpenCL tests on PoCL cover the CUDA host logic.
 */
public final class DeviceBackend implements Backend {
    private final DeviceRuntime rt;
    private volatile long memoryBudget = Long.MAX_VALUE;
    private volatile int queues = Integer.getInteger("soma.offload.queues", OffloadPipeline.DEFAULT_QUEUES);
    private volatile long maxChunkBytes = Long.getLong("soma.offload.chunkBytes", OffloadPipeline.DEFAULT_MAX_CHUNK_BYTES);
    private volatile OffloadPipeline lastPipeline;

    public DeviceBackend(DeviceRuntime runtime) {
        this.rt = runtime;
    }

    public DeviceRuntime runtime() {
        return rt;
    }

    /**
     * Caps the device memory one call may use ({@code --device-memory}); larger work is streamed.
     * {@code Long.MAX_VALUE} (the default) means the device's free memory.
     */
    public void setMemoryBudget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device memory budget must be positive, got " + bytes);
        }
        this.memoryBudget = bytes;
    }

    public long memoryBudget() {
        return memoryBudget;
    }

    /** Slots (queues or streams) of the offload ring, 1 to 8 (benchmarks sweep it). */
    public void setQueues(int n) {
        if (n < 1 || n > 8) {
            throw new IllegalArgumentException("offload queues must be 1 to 8, got " + n);
        }
        this.queues = n;
    }

    /** Caps one streamed chunk (per tensor) at {@code bytes} (benchmarks sweep it). */
    public void setMaxChunkBytes(long bytes) {
        this.maxChunkBytes = Math.max(1, bytes);
    }

    /** The pipeline of the last streamed call, or null (tests read its chunk count). */
    public OffloadPipeline lastPipeline() {
        return lastPipeline;
    }

    @Override
    public BackendKind kind() {
        return rt.kind();
    }

    @Override
    public String description() {
        return rt.description();
    }

    @Override
    public void forward(OpArgs args, Tensor x, Tensor weight, Tensor y) {
        forwardChain(List.of(new ChainStep(args, weight)), x, y, null);
    }

    @Override
    public void forwardChain(List<ChainStep> steps, Tensor x, Tensor y, LongConsumer progress) {
        requireSupported(x);
        lastPipeline = null;
        if (x.elementCount() == 0) {
            return;
        }
        long need = x.byteSize() * 2;
        for (ChainStep s : steps) {
            need += s.weight() == null ? 0 : s.weight().byteSize();
        }
        if (mustStream(need, x.byteSize())) {
            pipeline().forward(steps, x, y, progress);
            return;
        }
        long[] shape = x.shape();
        List<DeviceBuffer> weights = new ArrayList<>();
        Throwable failure = null;
        try (DeviceBuffer a = upload(x);
             DeviceBuffer b = rt.allocate(y.byteSize())) {
            for (ChainStep s : steps) {
                weights.add(s.weight() == null ? null : upload(s.weight()));
            }
            DeviceBuffer cur = a;
            DeviceBuffer other = b;
            for (int i = 0; i < steps.size(); i++) {
                ChainStep s = steps.get(i);
                OpLayout l = Chunking.chunkLayout(s, shape, x.elementCount());
                switch (s.args().op().family()) {
                    case ELEMENTWISE -> rt.forward(s.args(), x.dtype(), cur, other, x.elementCount());
                    case CHANNEL_WEIGHTED -> rt.preluForward(x.dtype(), cur, weights.get(i), s.weight().elementCount(), other, l);
                    case ROW_REDUCTION -> rt.softmaxForward(s.args(), x.dtype(), cur, other, l);
                }
                DeviceBuffer swap = cur;
                cur = other;
                other = swap;
            }
            rt.download(cur, 0, y.segment(), y.byteSize());
            if (progress != null) {
                progress.accept(y.byteSize());
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            Release r = new Release();
            weights.forEach(r::close);
            r.done(failure);
        }
    }

    @Override
    public void backward(OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw) {
        requireSupported(x);
        lastPipeline = null;
        if (x.elementCount() == 0) {
            if (dw != null) {
                dw.fill(0);
            }
            return;
        }
        long need = x.byteSize() * 3 + (weight == null ? 0 : weight.byteSize() * 2);
        if (mustStream(need, x.byteSize())) {
            if (args.op().family() == Family.CHANNEL_WEIGHTED) {
                pipeline().preluBackward(x, weight, dy, dx, dw, null);
            } else {
                pipeline().backward(args, x, dy, dx, null);
            }
            return;
        }
        OpLayout l = OpLayout.of(args, x.shape());
        try (DeviceBuffer bx = upload(x);
             DeviceBuffer bdy = upload(dy);
             DeviceBuffer bw = weight == null ? null : upload(weight);
             DeviceBuffer bdx = rt.allocate(dx.byteSize());
             DeviceBuffer bdw = dw == null ? null : rt.allocate(dw.byteSize())) {
            if (args.op().family() == Family.CHANNEL_WEIGHTED) {
                rt.preluBackward(x.dtype(), bx, bw, weight.elementCount(), bdy, bdx, bdw, l);
            } else if (args.op().family() == Family.ROW_REDUCTION) {
                rt.softmaxBackward(args, x.dtype(), bx, bdy, bdx, l);
            } else {
                rt.backward(args, x.dtype(), bx, bdy, bdx, x.elementCount());
            }
            rt.download(bdx, 0, dx.segment(), dx.byteSize());
            if (bdw != null) {
                rt.download(bdw, 0, dw.segment(), dw.byteSize());
            }
        }
    }

    /** One upload, one launch over a table of offsets, one download per group that fits the budget. */
    @Override
    public void forwardMany(OpArgs args, List<Tensor> xs, List<Tensor> ys) {
        many(args, xs, null, ys);
    }

    @Override
    public void backwardMany(OpArgs args, List<Tensor> xs, List<Tensor> dys, List<Tensor> dxs) {
        many(args, xs, dys, dxs);
    }

    private void many(OpArgs args, List<Tensor> xs, List<Tensor> dys, List<Tensor> outs) {
        if (xs.isEmpty()) {
            return;
        }
        requireSupported(xs.get(0));
        int perElement = dys == null ? 2 : 3;
        // Groups of tensors within a quarter of the budget (the staging and table come on top).
        long groupBudget = Math.min(effectiveBudget() / 4, rt.maxBufferBytes());
        int from = 0;
        while (from < xs.size()) {
            int to = from;
            long bytes = 0;
            while (to < xs.size()) {
                long b = xs.get(to).byteSize() * perElement + 24 * MultiTensorLaunch.blocks(xs.get(to).elementCount());
                if (to > from && bytes + b > groupBudget) {
                    break;
                }
                bytes += b;
                to++;
            }
            if (to == from + 1 && bytes > groupBudget) {
                // One tensor alone exceeds the group budget: the ordinary path (which streams).
                if (dys == null) {
                    forward(args, xs.get(from), null, outs.get(from));
                } else {
                    backward(args, xs.get(from), null, dys.get(from), outs.get(from), null);
                }
            } else {
                MultiTensorLaunch.run(rt, args, xs.subList(from, to), dys == null ? null : dys.subList(from, to),
                        outs.subList(from, to));
            }
            from = to;
        }
    }

    @Override
    public void close() {
        rt.close();
    }

    /** The budget one call may use now: the user's cap, and what the device allocator has left. */
    long effectiveBudget() {
        DeviceAllocator a = rt.allocator();
        return Math.min(memoryBudget, a.budgetBytes() - a.liveBytes());
    }

    private boolean mustStream(long needBytes, long largestBuffer) {
        return needBytes > effectiveBudget() || largestBuffer > rt.maxBufferBytes();
    }

    private OffloadPipeline pipeline() {
        OffloadPipeline p = new OffloadPipeline(rt, effectiveBudget(), queues, maxChunkBytes);
        lastPipeline = p;
        return p;
    }

    private DeviceBuffer upload(Tensor t) {
        DeviceBuffer b = rt.allocate(t.byteSize());
        try {
            rt.upload(t.segment(), b, 0, t.byteSize());
            return b;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    private void requireSupported(Tensor x) {
        if (!rt.supports(x.dtype())) {
            throw new IllegalArgumentException(rt.description() + " cannot compute " + x.dtype().numpyName()
                    + " (no double-precision support); use float32 or --backend cpu");
        }
    }
}
