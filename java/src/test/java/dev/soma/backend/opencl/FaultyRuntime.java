package dev.soma.backend.opencl;

import dev.soma.backend.BackendKind;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceQueue;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.backend.device.PinnedMemory;
import dev.soma.op.DType;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jocl.CL;
import org.jocl.CLException;

/**
 * Fault injection, not a mock: every call goes to a real {@link OpenClRuntime} on a real device,
 * except that the Nth call of one kind (an allocation, a kernel launch, a transfer, a wait) fails
 * instead, with exactly the exception the real runtime throws for that driver error: the CL error
 * code goes through the product's own {@link OpenClErrors#translate}. A lost device stays lost, as
 * in the real runtime: after a {@link DeviceLostException} every call but {@code close()} throws.
 * {@code close()} does not close the real runtime (tests share one and check its allocator).
 */
final class FaultyRuntime implements DeviceRuntime {
    /** The calls a fault can hit. */
    enum Site { ALLOCATE, LAUNCH, TRANSFER, WAIT }

    private final OpenClRuntime real;
    private final Map<Site, AtomicInteger> calls = new EnumMap<>(Site.class);
    private final AtomicInteger openQueues = new AtomicInteger();
    private Site site;
    private int failAt;
    private int clError;
    private volatile RuntimeException injected;
    private volatile DeviceLostException lost;

    FaultyRuntime(OpenClRuntime real) {
        this.real = real;
        for (Site s : Site.values()) {
            calls.put(s, new AtomicInteger());
        }
    }

    /** Makes call number {@code n} (1-based) at {@code s} fail with OpenCL error {@code clError}. */
    FaultyRuntime failing(Site s, int n, int clError) {
        this.site = s;
        this.failAt = n;
        this.clError = clError;
        return this;
    }

    int calls(Site s) {
        return calls.get(s).get();
    }

    /** The exception injected, or null if the Nth call never came. */
    RuntimeException injected() {
        return injected;
    }

    /** Queues opened and not yet closed. */
    int openQueues() {
        return openQueues.get();
    }

    private void at(Site s, String during) {
        if (lost != null) {
            throw new DeviceLostException(lost);
        }
        if (calls.get(s).incrementAndGet() == failAt && s == site) {
            RuntimeException e = OpenClErrors.translate(new CLException("injected " + CL.stringFor_errorCode(clError),
                    clError), during, real.description());
            injected = e;
            if (e instanceof DeviceLostException l) {
                lost = l;
            }
            throw e;
        }
    }

    @Override
    public BackendKind kind() {
        return real.kind();
    }

    @Override
    public DeviceInfo info() {
        return real.info();
    }

    @Override
    public String description() {
        return real.description();
    }

    @Override
    public boolean supports(DType t) {
        return real.supports(t);
    }

    @Override
    public DeviceAllocator allocator() {
        return real.allocator();
    }

    @Override
    public long maxBufferBytes() {
        return real.maxBufferBytes();
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        at(Site.ALLOCATE, "an allocation of " + bytes + " bytes");
        return real.allocate(bytes);
    }

    @Override
    public PinnedMemory allocatePinned(long bytes) {
        at(Site.ALLOCATE, "a pinned allocation of " + bytes + " bytes");
        return real.allocatePinned(bytes);
    }

    @Override
    public void upload(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        at(Site.TRANSFER, "an upload of " + bytes + " bytes");
        real.upload(src, dst, dstOffset, bytes);
    }

    @Override
    public void download(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        at(Site.TRANSFER, "a download of " + bytes + " bytes");
        real.download(src, srcOffset, dst, bytes);
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        at(Site.TRANSFER, "a device-to-device copy of " + bytes + " bytes");
        real.copy(src, dst, bytes);
    }

    @Override
    public void forward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n) {
        at(Site.LAUNCH, "a kernel launch");
        real.forward(args, t, x, y, n);
    }

    @Override
    public void backward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n) {
        at(Site.LAUNCH, "a kernel launch");
        real.backward(args, t, x, dy, dx, n);
    }

    @Override
    public void forwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, DeviceBuffer table, long blocks) {
        at(Site.LAUNCH, "a kernel launch");
        real.forwardMulti(args, t, x, y, table, blocks);
    }

    @Override
    public void backwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer table,
                              long blocks) {
        at(Site.LAUNCH, "a kernel launch");
        real.backwardMulti(args, t, x, dy, dx, table, blocks);
    }

    @Override
    public void preluForward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer y, OpLayout l) {
        at(Site.LAUNCH, "a kernel launch");
        real.preluForward(t, x, w, weightCount, y, l);
    }

    @Override
    public void preluBackward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer dy, DeviceBuffer dx,
                              DeviceBuffer dw, OpLayout l) {
        at(Site.LAUNCH, "a kernel launch");
        real.preluBackward(t, x, w, weightCount, dy, dx, dw, l);
    }

    @Override
    public void softmaxPieceStats(DType t, DeviceBuffer x, long n, DeviceBuffer stats, long slot) {
        at(Site.LAUNCH, "a kernel launch");
        real.softmaxPieceStats(t, x, n, stats, slot);
    }

    @Override
    public void softmaxPieceApply(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n, double rowMax,
                                  double rowSum, int mode) {
        at(Site.LAUNCH, "a kernel launch");
        real.softmaxPieceApply(args, t, x, y, n, rowMax, rowSum, mode);
    }

    @Override
    public void softmaxPieceDot(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, long n, double rowMax,
                                double rowSum, DeviceBuffer dots, long slot) {
        at(Site.LAUNCH, "a kernel launch");
        real.softmaxPieceDot(args, t, x, dy, n, rowMax, rowSum, dots, slot);
    }

    @Override
    public void softmaxPieceBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n,
                                     double rowMax, double rowSum, double dot, int mode) {
        at(Site.LAUNCH, "a kernel launch");
        real.softmaxPieceBackward(args, t, x, dy, dx, n, rowMax, rowSum, dot, mode);
    }

    @Override
    public void softmaxForward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, OpLayout l) {
        at(Site.LAUNCH, "a kernel launch");
        real.softmaxForward(args, t, x, y, l);
    }

    @Override
    public void softmaxBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, OpLayout l) {
        at(Site.LAUNCH, "a kernel launch");
        real.softmaxBackward(args, t, x, dy, dx, l);
    }

    @Override
    public DeviceQueue openQueue() {
        at(Site.ALLOCATE, "creating a command queue");
        DeviceQueue q = real.openQueue();
        openQueues.incrementAndGet();
        return new FaultyQueue(q);
    }

    @Override
    public void synchronize() {
        at(Site.WAIT, "waiting for the device's queue");
        real.synchronize();
    }

    /** Leaves the shared real runtime open; the test checks its allocator. */
    @Override
    public void close() {
    }

    /** A real queue whose transfers and waits count (and may fail) like the runtime's. */
    private final class FaultyQueue implements DeviceQueue {
        private final DeviceQueue q;
        private boolean closed;

        FaultyQueue(DeviceQueue q) {
            this.q = q;
        }

        @Override
        public void uploadAsync(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
            at(Site.TRANSFER, "an upload of " + bytes + " bytes");
            q.uploadAsync(src, dst, dstOffset, bytes);
        }

        @Override
        public void downloadAsync(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
            at(Site.TRANSFER, "a download of " + bytes + " bytes");
            q.downloadAsync(src, srcOffset, dst, bytes);
        }

        @Override
        public void enqueue(Runnable launches) {
            q.enqueue(launches);
        }

        @Override
        public void synchronize() {
            at(Site.WAIT, "waiting for the device's queue");
            q.synchronize();
        }

        /** Always releases the real queue, even on a lost device (as the real one does). */
        @Override
        public void close() {
            if (!closed) {
                closed = true;
                openQueues.decrementAndGet();
                q.close();
            }
        }
    }
}
