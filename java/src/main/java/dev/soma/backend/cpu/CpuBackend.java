package dev.soma.backend.cpu;

import dev.soma.Tensor;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.OpLayout;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.OpArgs;

/** The CPU backend: host tensors straight into the fallback module's kernels, no copies. */
public final class CpuBackend implements Backend {
    private final CpuKernels kernels;

    public CpuBackend(CpuKernels kernels) {
        this.kernels = kernels;
    }

    /** The kernels this backend runs ("vector" or "scalar"). */
    public CpuKernels kernels() {
        return kernels;
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

    @Override
    public void close() {
        // Nothing native: the kernels' thread pool is shared and daemon.
    }
}
