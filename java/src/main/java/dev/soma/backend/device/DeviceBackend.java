package dev.soma.backend.device;

import dev.soma.Tensor;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.OpLayout;
import dev.soma.op.Family;
import dev.soma.op.OpArgs;

/**
 * The host side shared by both GPU backends: moves host tensors to the device, runs the op's
 * kernel, brings the result back and frees the device buffers, all through {@link DeviceRuntime}.
 * Because OpenCL and CUDA both run this class, the OpenCL tests on PoCL cover the CUDA host logic.
 */
public final class DeviceBackend implements Backend {
    private final DeviceRuntime rt;

    public DeviceBackend(DeviceRuntime runtime) {
        this.rt = runtime;
    }

    public DeviceRuntime runtime() {
        return rt;
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
        requireSupported(x);
        if (x.elementCount() == 0) {
            return;
        }
        OpLayout l = OpLayout.of(args, x.shape());
        try (DeviceBuffer dx = upload(x);
             DeviceBuffer dw = weight == null ? null : upload(weight);
             DeviceBuffer dy = rt.allocate(y.byteSize())) {
            switch (args.op().family()) {
                case ELEMENTWISE -> rt.forward(args, x.dtype(), dx, dy, x.elementCount());
                case CHANNEL_WEIGHTED -> rt.preluForward(x.dtype(), dx, dw, weight.elementCount(), dy, l);
                case ROW_REDUCTION -> rt.softmaxForward(args, x.dtype(), dx, dy, l);
            }
            rt.download(dy, 0, y.segment(), y.byteSize());
        }
    }

    @Override
    public void backward(OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw) {
        requireSupported(x);
        if (x.elementCount() == 0) {
            if (dw != null) {
                dw.fill(0);
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

    @Override
    public void close() {
        rt.close();
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
