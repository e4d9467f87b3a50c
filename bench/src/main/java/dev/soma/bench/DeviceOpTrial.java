package dev.soma.bench;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.op.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * One trial of a device op benchmark: opens the GPU backend, prepares the case in the chosen mode,
 * checks the full-size output against the reference, and then runs timed calls.
 * <ul>
 *   <li>{@code kernel}: inputs uploaded once to device buffers; a call is one kernel launch through
 *   {@link DeviceRuntime} (the data stays resident, as in a training loop);</li>
 *   <li>{@code e2e}: host tensors through {@link Engine#forward}/{@link Engine#backward} (or
 *   PReLU's entry points): every call uploads, computes and downloads.</li>
 * </ul>
 */
final class DeviceOpTrial implements AutoCloseable {
    private final OpCase c;
    private final Engine engine;
    private final boolean kernel;
    private final DeviceRuntime rt;
    private final OpLayout layout;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private DeviceBuffer bx;
    private DeviceBuffer bdy;
    private DeviceBuffer bw;
    private DeviceBuffer bout;
    private DeviceBuffer bdw;
    private final Tensor out;
    private final Tensor dw;

    DeviceOpTrial(String backend, String op, String direction, String dtype, long size, long row, String mode) {
        if (!mode.equals("kernel") && !mode.equals("e2e")) {
            throw new IllegalArgumentException("mode must be kernel or e2e, got " + mode);
        }
        kernel = mode.equals("kernel");
        engine = openDevice(backend);
        try {
            rt = ((DeviceBackend) engine.backend()).runtime();
            c = new OpCase(op, direction, dtype, size, row);
            if (!rt.supports(c.dtype)) {
                throw new IllegalStateException(rt.description() + " does not compute " + c.dtype
                        + " (OpenCL needs cl_khr_fp64 for float64); run with -p dtype=F32 on this device");
            }
            layout = OpLayout.of(c.args, c.shape);
            out = Tensor.allocateNative(c.dtype, c.shape);
            dw = Tensor.allocateNative(c.dtype, OpCase.PRELU_CHANNELS);
            if (kernel) {
                bx = upload(c.x);
                bdy = c.backward ? upload(c.dy) : null;
                bw = upload(c.w);
                bout = keep(rt.allocate(out.byteSize()));
                bdw = keep(rt.allocate(dw.byteSize()));
            }
            validate();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * An engine on {@code backend}'s default device; a backend with no device here fails the trial
     * with the reason (JMH reports the failure and goes on with the next parameters).
     */
    static Engine openDevice(String backend) {
        BackendKind kind = BackendKind.parse(backend);
        if (kind != BackendKind.OPENCL && kind != BackendKind.CUDA) {
            throw new IllegalArgumentException("backend must be opencl or cuda here, got " + backend
                    + " (the CPU kernels are CpuOpsBenchmark's)");
        }
        Engine e;
        try {
            e = Engine.create(kind);
        } catch (BackendUnavailableException ex) {
            throw new IllegalStateException("no " + kind.id() + " device on this machine: " + ex.getMessage()
                    + "; this trial is skipped as failed. Pass -p backend=<the GPU backends you have> to run only those", ex);
        }
        if (!(e.backend() instanceof DeviceBackend)) {
            String what = e.description();
            e.close();
            throw new IllegalStateException(kind.id() + " opened " + what + ", which is not a device backend");
        }
        return e;
    }

    /** Runs {@code calls} calls and waits until the device has finished them. */
    void run(int calls) {
        for (int i = 0; i < calls; i++) {
            call();
        }
        if (kernel) {
            rt.synchronize();
        }
    }

    private void call() {
        if (kernel) {
            switch (c.family()) {
                case ELEMENTWISE -> {
                    if (c.backward) {
                        rt.backward(c.args, c.dtype, bx, bdy, bout, c.size);
                    } else {
                        rt.forward(c.args, c.dtype, bx, bout, c.size);
                    }
                }
                case CHANNEL_WEIGHTED -> {
                    if (c.backward) {
                        rt.preluBackward(c.dtype, bx, bw, OpCase.PRELU_CHANNELS, bdy, bout, bdw, layout);
                    } else {
                        rt.preluForward(c.dtype, bx, bw, OpCase.PRELU_CHANNELS, bout, layout);
                    }
                }
                case ROW_REDUCTION -> {
                    if (c.backward) {
                        rt.softmaxBackward(c.args, c.dtype, bx, bdy, bout, layout);
                    } else {
                        rt.softmaxForward(c.args, c.dtype, bx, bout, layout);
                    }
                }
            }
        } else if (c.isPrelu()) {
            if (c.backward) {
                engine.preluBackward(c.x, c.w, c.dy, out, dw);
            } else {
                engine.prelu(c.x, c.w, out);
            }
        } else if (c.backward) {
            engine.backward(c.args, c.x, c.dy, out);
        } else {
            engine.forward(c.args, c.x, out);
        }
    }

    private void validate() {
        c.poison(out);
        if (kernel) {
            rt.upload(out.segment(), bout, 0, out.byteSize());
            run(1);
            rt.download(bout, 0, out.segment(), out.byteSize());
        } else {
            run(1);
        }
        c.validate(rt.description() + " " + (kernel ? "kernel" : "e2e"), out);
    }

    private DeviceBuffer upload(Tensor t) {
        DeviceBuffer b = keep(rt.allocate(t.byteSize()));
        rt.upload(t.segment(), b, 0, t.byteSize());
        return b;
    }

    private DeviceBuffer keep(DeviceBuffer b) {
        buffers.add(b);
        return b;
    }

    @Override
    public void close() {
        try {
            for (DeviceBuffer b : buffers) {
                b.close();
            }
            buffers.clear();
            if (c != null) {
                c.close();
            }
            if (out != null) {
                out.close();
            }
            if (dw != null) {
                dw.close();
            }
        } finally {
            engine.close();
        }
    }
}
