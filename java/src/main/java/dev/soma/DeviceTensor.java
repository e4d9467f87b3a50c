package dev.soma;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import dev.soma.op.DType;
import java.lang.ref.Reference;
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
 * any that leaked; one dropped without close() is reported by the leak reporter
 * ({@link dev.soma.leak.Leaks}) and its memory stays allocated until the engine closes. Closing
 * twice does nothing; using a closed one is an {@link IllegalStateException}.
 */
public final class DeviceTensor implements AutoCloseable {
    private final Engine engine;
    private final DType dtype;
    private final long[] shape;
    private final long count;
    private final String origin;
    /** The memory, kept by the engine too (never this tensor, so a dropped tensor can be reported). */
    private final Memory memory;

    DeviceTensor(Engine engine, DType dtype, long[] shape, DeviceBuffer buffer, Tensor host, String origin) {
        this.engine = engine;
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        this.count = n;
        this.origin = origin;
        this.memory = new Memory(buffer, host, toString(), Leaks.track(this, "device tensor", n * dtype.byteSize(),
                toString() + " on " + engine.description()));
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
        return memory.closed.get();
    }

    Engine engine() {
        return engine;
    }

    Memory memory() {
        return memory;
    }

    DeviceBuffer buffer() {
        requireOpen();
        return memory.buffer;
    }

    Tensor host() {
        requireOpen();
        return memory.host;
    }

    /** A host tensor of the same shape and dtype with this memory (CPU backend) for shape checks. */
    boolean sameShape(DeviceTensor o) {
        return Arrays.equals(shape, o.shape);
    }

    void requireOpen() {
        if (memory.closed.get()) {
            throw new IllegalStateException("device tensor " + this + " is closed; keep it open while ops use it");
        }
    }

    /** Frees the device memory; later calls do nothing. */
    @Override
    public void close() {
        try {
            if (memory.free()) {
                engine.released(memory);
            }
        } finally {
            // Reachable until its registration is closed, or the Cleaner could report a close in
            // progress as a leak (see DeviceBuffer.close).
            Reference.reachabilityFence(this);
        }
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + dtype.numpyName() + " " + Tensor.shapeString(shape) + ", from " + origin + "]";
    }

    /**
     * A device tensor's memory: the device buffer, or the host tensor standing in for it on the CPU
     * backend. The engine keeps these to free what is left open when it closes.
     */
    static final class Memory {
        /** The device memory, or null on the CPU backend. */
        private final DeviceBuffer buffer;
        /** The host tensor standing in for device memory on the CPU backend, else null. */
        private final Tensor host;
        private final String description;
        private final LeakGuard guard;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Memory(DeviceBuffer buffer, Tensor host, String description, LeakGuard guard) {
            this.buffer = buffer;
            this.host = host;
            this.description = description;
            this.guard = guard;
        }

        /** Frees it the first time (true); later calls do nothing. */
        boolean free() {
            if (!closed.compareAndSet(false, true)) {
                return false;
            }
            try {
                release();
            } finally {
                guard.close();
            }
            return true;
        }

        /** Frees it for the engine that is closing while the tensor is still open, and reports the leak. */
        void freeAsLeak(String owner) {
            if (closed.compareAndSet(false, true)) {
                try {
                    release();
                } finally {
                    guard.closeAsLeak(owner);
                }
            }
        }

        private void release() {
            try {
                if (buffer != null) {
                    buffer.close();
                }
            } finally {
                if (host != null) {
                    host.close();
                }
            }
        }

        @Override
        public String toString() {
            return description;
        }
    }
}
