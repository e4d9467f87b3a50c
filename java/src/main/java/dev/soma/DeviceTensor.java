package dev.soma;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.op.DType;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A tensor that stays on an engine's device between ops, for training loops: upload once
 * ({@link Engine#upload}), run any number of forward and backward ops on device tensors (they
 * never touch the host), download only what is needed ({@link Engine#download}). On the CPU
 * backend a device tensor is just a host tensor: no copies.
 *
 * <p>Lifetimes are explicit: close each device tensor when done (try-with-resources). The engine
 * counts live ones ({@link Engine#liveDeviceTensors()}) and, on its own close, frees and reports
 * any that leaked. Closing twice does nothing; using a closed one is an error.
 */
public final class DeviceTensor implements AutoCloseable {
    private final Engine engine;
    private final DType dtype;
    private final long[] shape;
    private final long count;
    /** The device memory, or null on the CPU backend. */
    private final DeviceBuffer buffer;
    /** The host tensor standing in for device memory on the CPU backend, else null. */
    private final Tensor host;
    private final String origin;
    private final AtomicBoolean closed = new AtomicBoolean();

    DeviceTensor(Engine engine, DType dtype, long[] shape, DeviceBuffer buffer, Tensor host, String origin) {
        this.engine = engine;
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        this.count = n;
        this.buffer = buffer;
        this.host = host;
        this.origin = origin;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long elementCount() {
        return count;
    }

    public long byteSize() {
        return count * dtype.byteSize();
    }

    public boolean isClosed() {
        return closed.get();
    }

    Engine engine() {
        return engine;
    }

    DeviceBuffer buffer() {
        requireOpen();
        return buffer;
    }

    Tensor host() {
        requireOpen();
        return host;
    }

    /** A host tensor of the same shape and dtype with this memory (CPU backend) for shape checks. */
    boolean sameShape(DeviceTensor o) {
        return Arrays.equals(shape, o.shape);
    }

    void requireOpen() {
        if (closed.get()) {
            throw new IllegalStateException("device tensor " + this + " is closed; keep it open while ops use it");
        }
    }

    /** Frees the device memory; later calls do nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                if (buffer != null) {
                    buffer.close();
                }
            } finally {
                engine.released(this);
            }
        }
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + dtype.numpyName() + " " + Tensor.shapeString(shape) + ", from " + origin + "]";
    }
}
