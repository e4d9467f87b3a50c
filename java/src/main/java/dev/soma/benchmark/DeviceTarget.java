package dev.soma.benchmark;

import dev.soma.Tensor;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.OpArgs;

/**
 * Benchmarks a GPU backend's kernels with the data resident in device memory: inputs are uploaded
 * once, then each timed call is a kernel launch, and a sample synchronises once at its end. Host
 * transfers are not timed (they are the offload pipeline's business, scored against PCIe), so the
 * figures compare with the device-to-device copy measured through the same runtime.
 */
final class DeviceTarget implements BenchTarget {
    private final DeviceRuntime rt;
    private final AutoCloseable owner;

    /**
     * @param runtime the device
     * @param owner   what to close when done (the engine that opened the runtime)
     */
    DeviceTarget(DeviceRuntime runtime, AutoCloseable owner) {
        this.rt = runtime;
        this.owner = owner;
    }

    /** The device runtime, for leak checks in tests. */
    DeviceRuntime runtime() {
        return rt;
    }

    @Override
    public String id() {
        return rt.kind().id();
    }

    @Override
    public String description() {
        return rt.description();
    }

    @Override
    public boolean kernelOnly() {
        return true;
    }

    @Override
    public boolean supports(DType t) {
        return rt.supports(t);
    }

    @Override
    public Prepared prepare(CaseData data) {
        BenchCase c = data.benchCase();
        OpArgs args = c.args();
        DType t = c.dtype();
        long n = c.elements();
        OpLayout layout = OpLayout.of(args, c.shape());
        boolean rows = c.op().family() == Family.ROW_REDUCTION;
        if (c.op().family() == Family.CHANNEL_WEIGHTED) {
            throw new IllegalArgumentException("soma bench does not time prelu yet: it needs a weight tensor");
        }
        Tensor host = Tensor.allocateNative(t, c.shape());
        DeviceBuffer x = null;
        DeviceBuffer dy = null;
        DeviceBuffer out = null;
        try {
            x = upload(data.x());
            dy = data.dy() == null ? null : upload(data.dy());
            out = rt.allocate(data.x().byteSize());
        } catch (RuntimeException e) {
            closeAll(x, dy, out);
            host.close();
            throw e;
        }
        DeviceBuffer bx = x;
        DeviceBuffer bdy = dy;
        DeviceBuffer bout = out;
        return new Prepared() {
            @Override
            public void run(int calls) {
                for (int i = 0; i < calls; i++) {
                    if (c.direction() == Direction.FORWARD) {
                        if (rows) {
                            rt.softmaxForward(args, t, bx, bout, layout);
                        } else {
                            rt.forward(args, t, bx, bout, n);
                        }
                    } else if (rows) {
                        rt.softmaxBackward(args, t, bx, bdy, bout, layout);
                    } else {
                        rt.backward(args, t, bx, bdy, bout, n);
                    }
                }
                rt.synchronize();
            }

            @Override
            public Tensor runForValidation() {
                host.fill(Double.NaN);
                rt.upload(host.segment(), bout, 0, host.byteSize());
                run(1);
                rt.download(bout, 0, host.segment(), host.byteSize());
                return host;
            }

            @Override
            public void close() {
                closeAll(bx, bdy, bout);
                host.close();
            }
        };
    }

    @Override
    public Loaded copy(long bytes) {
        DeviceBuffer src = null;
        DeviceBuffer dst = null;
        try {
            src = rt.allocate(bytes);
            dst = rt.allocate(bytes);
            // Give the source defined contents (memory checkers flag copies of uninitialised bytes).
            try (Tensor zeros = Tensor.allocateNative(DType.F32, (bytes + 3) / 4)) {
                rt.upload(zeros.segment(), src, 0, bytes);
            }
            rt.copy(src, dst, bytes);   // fails here, before timing, when the runtime has no copy
            rt.synchronize();
        } catch (RuntimeException e) {
            closeAll(src, dst, null);
            throw e;
        }
        DeviceBuffer s = src;
        DeviceBuffer d = dst;
        return new Loaded() {
            @Override
            public void run(int calls) {
                for (int i = 0; i < calls; i++) {
                    rt.copy(s, d, bytes);
                }
                rt.synchronize();
            }

            @Override
            public void close() {
                closeAll(s, d, null);
            }
        };
    }

    @Override
    public void close() {
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + rt.description() + " failed: " + e.getMessage(), e);
        }
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

    private static void closeAll(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c) {
        for (DeviceBuffer buf : new DeviceBuffer[] {a, b, c}) {
            if (buf != null) {
                buf.close();
            }
        }
    }
}
