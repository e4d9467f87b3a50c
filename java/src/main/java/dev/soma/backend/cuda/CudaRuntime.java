package dev.soma.backend.cuda;

import dev.soma.backend.BackendKind;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.backend.device.DeviceQueue;
import dev.soma.backend.device.PinnedMemory;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One CUDA device through JCuda's driver API: its primary context (made current on whichever thread
 * calls), the kernel module loaded once from the fatbin, one stream, pinned staging buffers with
 * events for transfers, and a counting allocator. Every public method is serialised by one lock, so
 * the runtime is safe to share between threads. {@link #close()} frees everything, once.
 */
public final class CudaRuntime implements DeviceRuntime {
    private static final System.Logger LOG = System.getLogger("dev.soma");
    /** Each of the two pinned staging buffers: big enough to keep PCIe busy, small enough to pin anywhere. */
    static final long STAGING_BYTES = 8L << 20;
    private static final int NSTAGING = 2;

    private final int index;
    private final CUdevice device;
    private final DeviceInfo info;
    private final String description;
    private final CudaLaunchPlan plan;
    private final DeviceAllocator allocator;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();

    private CUcontext context;
    private CUmodule module;
    private CUstream stream;
    private final Pointer[] staging = new Pointer[NSTAGING];
    private final MemorySegment[] stagingSegments = new MemorySegment[NSTAGING];
    private final CUevent[] stagingFree = new CUevent[NSTAGING];
    private final boolean[] stagingPending = new boolean[NSTAGING];
    private CUevent timingStart;
    private CUevent timingStop;
    private volatile SoftmaxVariant forcedSoftmax = SoftmaxVariant.parseOrAuto(System.getProperty("soma.cuda.softmax"));
    private boolean closed;
    /** Reports this runtime (its context, module, streams) if it is dropped without close(). */
    private final LeakGuard guard;

    private CudaRuntime(int index) {
        this.index = index;
        this.device = CudaDriver.device(index);
        String name = CudaDriver.name(device);
        String cc = CudaDriver.computeCapability(device);
        CudaDeviceLimits limits = CudaDriver.limits(device);
        long memory = CudaDriver.totalMemory(device);
        this.plan = new CudaLaunchPlan(limits);
        this.description = name + " (CUDA device " + index + ", compute capability " + cc + ", "
                + limits.multiprocessors() + " SMs, driver " + CudaDriver.versionString(CudaDriver.state().driverVersion()) + ")";
        this.info = new DeviceInfo(index, name, true, memory, limits.multiprocessors(), 4, "compute capability " + cc);
        this.allocator = new DeviceAllocator(description, memory);
        this.guard = Leaks.track(this, "CUDA context", 0, description);
    }

    /**
     * Opens device {@code index}: retains its primary context and loads the kernels.
     *
     * @throws CudaCallException when a driver call fails (the runtime is then fully released)
     */
    static CudaRuntime open(int index) {
        CudaRuntime rt = new CudaRuntime(index);
        try {
            rt.start();
            return rt;
        } catch (RuntimeException | Error e) {
            rt.close();
            throw e;
        }
    }

    private void start() {
        lock.lock();
        try {
            CUcontext ctx = new CUcontext();
            CudaCalls.check("cuDevicePrimaryCtxRetain(device " + index + ")", () -> JCudaDriver.cuDevicePrimaryCtxRetain(ctx, device));
            context = ctx;
            makeCurrent();
            byte[] image = CudaKernelImage.get().fatbin();
            CUmodule m = new CUmodule();
            try {
                CudaCalls.check("cuModuleLoadData(soma.fatbin, " + image.length + " bytes)",
                        () -> JCudaDriver.cuModuleLoadData(m, image));
            } catch (CudaCallException e) {
                // Usually a driver older than the toolkit that built the kernels, or a GPU older than sm_75.
                throw new CudaCallException(e.getMessage() + "; the kernels are SASS for sm "
                        + CudaKernelImage.get().archs() + " plus PTX, " + CudaKernelImage.get().buildNote()
                        + ", and this driver is CUDA " + CudaDriver.versionString(CudaDriver.state().driverVersion())
                        + ": update the NVIDIA driver to one that supports that toolkit", e.errorName(), e);
            }
            module = m;
            CUstream s = new CUstream();
            CudaCalls.check("cuStreamCreate", () -> JCudaDriver.cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING));
            stream = s;
            timingStart = newEvent(CUevent_flags.CU_EVENT_DEFAULT);
            timingStop = newEvent(CUevent_flags.CU_EVENT_DEFAULT);
        } finally {
            lock.unlock();
        }
    }

    private CUevent newEvent(int flags) {
        CUevent e = new CUevent();
        CudaCalls.check("cuEventCreate", () -> JCudaDriver.cuEventCreate(e, flags));
        return e;
    }

    /** Called with the lock held: the primary context is bound per thread. */
    private void makeCurrent() {
        CudaCalls.check("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(context));
    }

    private void enter() {
        lock.lock();
        if (closed) {
            lock.unlock();
            throw new IllegalStateException("the CUDA runtime for " + description + " is closed");
        }
        try {
            makeCurrent();
        } catch (RuntimeException e) {
            lock.unlock();
            throw e;
        }
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CUDA;
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public boolean supports(DType t) {
        return t != null;
    }

    @Override
    public DeviceAllocator allocator() {
        return allocator;
    }

    /**
     * Forces one softmax kernel (tests, benchmarks); null restores the automatic choice. A forced
     * kernel that cannot take a layout (e.g. warp for a long row) is ignored for that layout.
     */
    public void forceSoftmaxVariant(SoftmaxVariant v) {
        forcedSoftmax = v;
    }

    /** The kernel {@link #softmaxForward} would use for this layout. */
    public SoftmaxVariant softmaxVariantFor(DType t, OpLayout l) {
        return plan.softmaxVariant(t, l, forcedSoftmax);
    }

    @Override
    public DeviceBuffer allocate(long bytes) {
        enter();
        try {
            return new CudaBuffer(this, bytes);
        } finally {
            lock.unlock();
        }
    }

    /** cuMemAlloc; device exhaustion becomes a DeviceOutOfMemoryException naming asked and free bytes. */
    CUdeviceptr nativeAllocate(long bytes) {
        enter();
        try {
            CUdeviceptr p = new CUdeviceptr();
            try {
                CudaCalls.check("cuMemAlloc of " + bytes + " bytes", () -> JCudaDriver.cuMemAlloc(p, bytes));
            } catch (CudaCallException e) {
                if (CudaCalls.isOutOfMemory(e)) {
                    throw new DeviceOutOfMemoryException(description, bytes, freeMemory());
                }
                throw e;
            }
            return p;
        } finally {
            lock.unlock();
        }
    }

    void nativeFree(CUdeviceptr p, long bytes) {
        lock.lock();
        try {
            if (context == null) {
                return;  // the context is gone, and its memory with it
            }
            makeCurrent();
            CudaCalls.check("cuMemFree of " + bytes + " bytes", () -> JCudaDriver.cuMemFree(p));
        } finally {
            lock.unlock();
        }
    }

    /** Free device memory as the driver reports it, or -1 when it cannot say. */
    public long freeMemory() {
        lock.lock();
        try {
            long[] free = new long[1];
            long[] total = new long[1];
            makeCurrent();
            CudaCalls.check("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
            return free[0];
        } catch (RuntimeException e) {
            return -1;
        } finally {
            lock.unlock();
        }
    }

    private CudaBuffer cuda(DeviceBuffer b, String what) {
        if (!(b instanceof CudaBuffer cb) || cb.runtime() != this) {
            throw new IllegalArgumentException(what + " is not a buffer of " + description);
        }
        if (cb.isClosed()) {
            throw new IllegalStateException(what + " was already closed");
        }
        return cb;
    }

    private static void checkRange(String what, long offset, long bytes, long size) {
        if (offset < 0 || bytes < 0 || offset > size - bytes) {
            throw new IndexOutOfBoundsException(what + ": " + bytes + " bytes at offset " + offset
                    + " do not fit in " + size + " bytes");
        }
    }

    private void ensureStaging() {
        for (int i = 0; i < NSTAGING; i++) {
            if (staging[i] == null) {
                Pointer p = new Pointer();
                CudaCalls.check("cuMemAllocHost of " + STAGING_BYTES + " bytes (pinned staging)",
                        () -> JCudaDriver.cuMemAllocHost(p, STAGING_BYTES));
                staging[i] = p;
                stagingSegments[i] = MemorySegment.ofBuffer(p.getByteBuffer(0, STAGING_BYTES));
                stagingFree[i] = newEvent(CUevent_flags.CU_EVENT_DISABLE_TIMING);
            }
        }
    }

    /** Waits until staging buffer {@code i} is no longer read or written by an earlier copy. */
    private void awaitStaging(int i) {
        if (stagingPending[i]) {
            CudaCalls.check("cuEventSynchronize(staging)", () -> JCudaDriver.cuEventSynchronize(stagingFree[i]));
            stagingPending[i] = false;
        }
    }

    private void recordStaging(int i) {
        CudaCalls.check("cuEventRecord(staging)", () -> JCudaDriver.cuEventRecord(stagingFree[i], stream));
        stagingPending[i] = true;
    }

    /**
     * Host to device through the two pinned staging buffers: while the GPU copies one chunk, the
     * CPU fills the other. Returns once the last chunk is enqueued; the host source may then change.
     */
    @Override
    public void upload(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        enter();
        try {
            CudaBuffer d = cuda(dst, "upload destination");
            checkRange("upload destination", dstOffset, bytes, d.byteSize());
            checkRange("upload source", 0, bytes, src.byteSize());
            if (bytes == 0) {
                return;
            }
            ensureStaging();
            int chunk = 0;
            for (long pos = 0; pos < bytes; pos += STAGING_BYTES, chunk++) {
                int i = chunk % NSTAGING;
                long len = Math.min(STAGING_BYTES, bytes - pos);
                awaitStaging(i);
                MemorySegment.copy(src, pos, stagingSegments[i], 0, len);
                CUdeviceptr target = d.pointer(dstOffset + pos);
                Pointer from = staging[i];
                CudaCalls.check("cuMemcpyHtoDAsync of " + len + " bytes",
                        () -> JCudaDriver.cuMemcpyHtoDAsync(target, from, len, stream));
                recordStaging(i);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Device to host through the staging buffers, copying one chunk out while the next arrives; waits. */
    @Override
    public void download(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        enter();
        try {
            CudaBuffer s = cuda(src, "download source");
            checkRange("download source", srcOffset, bytes, s.byteSize());
            checkRange("download destination", 0, bytes, dst.byteSize());
            if (bytes == 0) {
                synchronizeLocked();
                return;
            }
            ensureStaging();
            long chunks = CudaLaunchPlan.ceilDiv(bytes, STAGING_BYTES);
            for (long c = 0; c <= chunks; c++) {
                if (c < chunks) {
                    int i = (int) (c % NSTAGING);
                    long pos = c * STAGING_BYTES;
                    long len = Math.min(STAGING_BYTES, bytes - pos);
                    awaitStaging(i);
                    CUdeviceptr from = s.pointer(srcOffset + pos);
                    Pointer to = staging[i];
                    CudaCalls.check("cuMemcpyDtoHAsync of " + len + " bytes",
                            () -> JCudaDriver.cuMemcpyDtoHAsync(to, from, len, stream));
                    recordStaging(i);
                }
                if (c > 0) {
                    long prev = c - 1;
                    int j = (int) (prev % NSTAGING);
                    long pos = prev * STAGING_BYTES;
                    long len = Math.min(STAGING_BYTES, bytes - pos);
                    awaitStaging(j);
                    MemorySegment.copy(stagingSegments[j], 0, dst, pos, len);
                }
            }
            synchronizeLocked();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public DeviceQueue openQueue() {
        enter();
        try {
            CUstream s = new CUstream();
            CudaCalls.check("cuStreamCreate (offload queue)", () -> JCudaDriver.cuStreamCreate(s, CUstream_flags.CU_STREAM_NON_BLOCKING));
            return new CudaQueue(this, s);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public PinnedMemory allocatePinned(long bytes) {
        enter();
        try {
            return new CudaPinned(this, bytes);
        } finally {
            lock.unlock();
        }
    }

    /** cuMemAllocHost of {@code bytes} (page-locked, so cuMemcpy*Async can run without the CPU). */
    Pointer nativeAllocateHost(long bytes) {
        enter();
        try {
            Pointer p = new Pointer();
            CudaCalls.check("cuMemAllocHost of " + bytes + " bytes (pinned staging)", () -> JCudaDriver.cuMemAllocHost(p, Math.max(1, bytes)));
            return p;
        } finally {
            lock.unlock();
        }
    }

    void nativeFreeHost(Pointer p) {
        lock.lock();
        try {
            if (context == null) {
                return;
            }
            makeCurrent();
            CudaCalls.check("cuMemFreeHost", () -> JCudaDriver.cuMemFreeHost(p));
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code launches} with {@code s} as the stream every launch goes to (called by {@link CudaQueue}). */
    void enqueueOn(CUstream s, Runnable launches) {
        enter();
        CUstream before = stream;
        stream = s;
        try {
            launches.run();
        } finally {
            stream = before;
            lock.unlock();
        }
    }

    /** cuMemcpyHtoDAsync on {@code s} from native host memory (pinned, for the copy to be asynchronous). */
    void copyToDeviceAsync(CUstream s, MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        enter();
        try {
            CudaBuffer d = cuda(dst, "upload destination");
            checkRange("upload destination", dstOffset, bytes, d.byteSize());
            checkRange("upload source", 0, bytes, src.byteSize());
            if (bytes == 0) {
                return;
            }
            Pointer from = hostPointer(src);
            CudaCalls.check("cuMemcpyHtoDAsync of " + bytes + " bytes",
                    () -> JCudaDriver.cuMemcpyHtoDAsync(d.pointer(dstOffset), from, bytes, s));
        } finally {
            lock.unlock();
        }
    }

    /** cuMemcpyDtoHAsync on {@code s} into native host memory. */
    void copyToHostAsync(CUstream s, DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        enter();
        try {
            CudaBuffer d = cuda(src, "download source");
            checkRange("download source", srcOffset, bytes, d.byteSize());
            checkRange("download destination", 0, bytes, dst.byteSize());
            if (bytes == 0) {
                return;
            }
            Pointer to = hostPointer(dst);
            CudaCalls.check("cuMemcpyDtoHAsync of " + bytes + " bytes",
                    () -> JCudaDriver.cuMemcpyDtoHAsync(to, d.pointer(srcOffset), bytes, s));
        } finally {
            lock.unlock();
        }
    }

    void synchronizeStream(CUstream s) {
        enter();
        try {
            CudaCalls.check("cuStreamSynchronize (offload queue; a kernel or copy before it failed)",
                    () -> JCudaDriver.cuStreamSynchronize(s));
        } finally {
            lock.unlock();
        }
    }

    void destroyStream(CUstream s) {
        lock.lock();
        try {
            if (context == null) {
                return;
            }
            makeCurrent();
            CudaCalls.check("cuStreamSynchronize", () -> JCudaDriver.cuStreamSynchronize(s));
            CudaCalls.check("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(s));
        } finally {
            lock.unlock();
        }
    }

    /** A JCuda pointer to native memory (asynchronous copies cannot use heap arrays). */
    private static Pointer hostPointer(MemorySegment seg) {
        if (!seg.isNative()) {
            throw new IllegalArgumentException("asynchronous copies need native (pinned) host memory, got a heap segment");
        }
        return Pointer.to(seg.asByteBuffer());
    }

    /** Device-to-device copy on the stream (the benchmarks' bandwidth ceiling). */
    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        enter();
        try {
            CudaBuffer s = cuda(src, "copy source");
            CudaBuffer d = cuda(dst, "copy destination");
            checkRange("copy source", 0, bytes, s.byteSize());
            checkRange("copy destination", 0, bytes, d.byteSize());
            if (bytes > 0) {
                CudaCalls.check("cuMemcpyDtoDAsync of " + bytes + " bytes",
                        () -> JCudaDriver.cuMemcpyDtoDAsync(d.pointer(0), s.pointer(0), bytes, stream));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code work} (which enqueues on this runtime) between two events and returns the GPU time
     * it took in milliseconds.
     */
    public float time(Runnable work) {
        enter();
        try {
            CudaCalls.check("cuEventRecord(start)", () -> JCudaDriver.cuEventRecord(timingStart, stream));
            work.run();
            CudaCalls.check("cuEventRecord(stop)", () -> JCudaDriver.cuEventRecord(timingStop, stream));
            CudaCalls.check("cuEventSynchronize(stop)", () -> JCudaDriver.cuEventSynchronize(timingStop));
            float[] ms = new float[1];
            CudaCalls.check("cuEventElapsedTime", () -> JCudaDriver.cuEventElapsedTime(ms, timingStart, timingStop));
            return ms[0];
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void forward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n) {
        requireFamily(args, Family.ELEMENTWISE);
        if (n == 0) {
            return;
        }
        enter();
        try {
            launch(CudaKernelNames.elementwiseForward(args.op(), t), plan.elementwise(n, t),
                    in(x, "x", n, t), in(y, "y", n, t), n,
                    scalar(t, args.alpha()), scalar(t, args.beta()), scalar(t, args.threshold()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void backward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n) {
        requireFamily(args, Family.ELEMENTWISE);
        if (n == 0) {
            return;
        }
        enter();
        try {
            launch(CudaKernelNames.elementwiseBackward(args.op(), t), plan.elementwise(n, t),
                    in(x, "x", n, t), in(dy, "dy", n, t), in(dx, "dx", n, t), n,
                    scalar(t, args.alpha()), scalar(t, args.beta()), scalar(t, args.threshold()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void forwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, DeviceBuffer table, long blocks) {
        requireFamily(args, Family.ELEMENTWISE);
        if (blocks == 0) {
            return;
        }
        enter();
        try {
            launch(CudaKernelNames.multiForward(t), plan.gridStride(blocks * CudaLaunchPlan.ELEMENTWISE_THREADS,
                            CudaLaunchPlan.ELEMENTWISE_THREADS),
                    cuda(x, "x"), cuda(y, "y"), in(table, "table", 3 * blocks, DType.F64), blocks, args.op().ordinal(),
                    scalar(t, args.alpha()), scalar(t, args.beta()), scalar(t, args.threshold()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void backwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer table,
                              long blocks) {
        requireFamily(args, Family.ELEMENTWISE);
        if (blocks == 0) {
            return;
        }
        enter();
        try {
            launch(CudaKernelNames.multiBackward(t), plan.gridStride(blocks * CudaLaunchPlan.ELEMENTWISE_THREADS,
                            CudaLaunchPlan.ELEMENTWISE_THREADS),
                    cuda(x, "x"), cuda(dy, "dy"), cuda(dx, "dx"), in(table, "table", 3 * blocks, DType.F64), blocks,
                    args.op().ordinal(), scalar(t, args.alpha()), scalar(t, args.beta()), scalar(t, args.threshold()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void preluForward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer y, OpLayout l) {
        long n = l.elementCount();
        if (n == 0) {
            return;
        }
        enter();
        try {
            long channels = weightCount == 1 ? 1 : l.mid();
            long inner = weightCount == 1 ? n : l.inner();
            launch(CudaKernelNames.preluForward(t), plan.gridStride(n, CudaLaunchPlan.ELEMENTWISE_THREADS),
                    in(x, "x", n, t), in(w, "weight", weightCount, t), in(y, "y", n, t), n, channels, inner);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void preluBackward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer dy,
                              DeviceBuffer dx, DeviceBuffer dw, OpLayout l) {
        long n = l.elementCount();
        enter();
        try {
            long channels = weightCount == 1 ? 1 : l.mid();
            long outer = weightCount == 1 ? 1 : l.outer();
            long inner = weightCount == 1 ? n : l.inner();
            if (n > 0) {
                launch(CudaKernelNames.preluBackwardDx(t), plan.gridStride(n, CudaLaunchPlan.ELEMENTWISE_THREADS),
                        in(x, "x", n, t), in(w, "weight", weightCount, t), in(dy, "dy", n, t), in(dx, "dx", n, t),
                        n, channels, inner);
            }
            if (dw == null) {
                return;
            }
            long chunks = CudaLaunchPlan.preluChunks(outer * inner);
            try (CudaBuffer partial = new CudaBuffer(this, channels * chunks * Double.BYTES)) {
                launch(CudaKernelNames.preluWeightPartial(t), plan.gridStride(channels * chunks * CudaLaunchPlan.ELEMENTWISE_THREADS,
                                CudaLaunchPlan.ELEMENTWISE_THREADS),
                        in(x, "x", n, t), in(dy, "dy", n, t), partial, outer, channels, inner, chunks);
                launch(CudaKernelNames.preluWeightFinal(t), plan.gridStride(channels, CudaLaunchPlan.ELEMENTWISE_THREADS),
                        partial, in(dw, "dw", weightCount, t), channels, chunks);
                synchronizeLocked();  // the partial sums must outlive the kernels that read them
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void softmaxPieceStats(DType t, DeviceBuffer x, long n, DeviceBuffer stats, long slot) {
        enter();
        try {
            CudaBuffer st = cuda(stats, "stats");
            checkRange("softmax piece stats", 16 * slot, 16, st.byteSize());
            // One block of 256 threads (the kernel's shared array): a rare path, kept simple.
            launch("soma_softmax_piece_stats_" + CudaKernelNames.suffix(t), new CudaLaunchPlan.Launch(1, 256, 0),
                    in(x, "x", n, t), n, st, slot);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void softmaxPieceApply(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n, double rowMax,
                                  double rowSum, int mode) {
        if (n == 0) {
            return;
        }
        enter();
        try {
            launch("soma_softmax_piece_apply_" + CudaKernelNames.suffix(t),
                    plan.gridStride(n, CudaLaunchPlan.ELEMENTWISE_THREADS), in(x, "x", n, t), in(y, "y", n, t), n,
                    rowMax, rowSum, Math.log(rowSum), args.op() == Op.LOG_SOFTMAX ? 1 : 0, mode);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void softmaxPieceDot(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, long n, double rowMax,
                                double rowSum, DeviceBuffer dots, long slot) {
        enter();
        try {
            CudaBuffer d = cuda(dots, "dots");
            checkRange("softmax piece dot", 8 * slot, 8, d.byteSize());
            launch("soma_softmax_piece_dot_" + CudaKernelNames.suffix(t), new CudaLaunchPlan.Launch(1, 256, 0),
                    in(x, "x", n, t), in(dy, "dy", n, t), n, rowMax, rowSum, args.op() == Op.LOG_SOFTMAX ? 1 : 0, d, slot);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void softmaxPieceBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n,
                                     double rowMax, double rowSum, double dot, int mode) {
        if (n == 0) {
            return;
        }
        enter();
        try {
            launch("soma_softmax_piece_bwd_" + CudaKernelNames.suffix(t),
                    plan.gridStride(n, CudaLaunchPlan.ELEMENTWISE_THREADS), in(x, "x", n, t), in(dy, "dy", n, t),
                    in(dx, "dx", n, t), n, rowMax, rowSum, dot, args.op() == Op.LOG_SOFTMAX ? 1 : 0, mode);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void softmaxForward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, OpLayout l) {
        softmax(args, t, x, null, y, l, false);
    }

    @Override
    public void softmaxBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, OpLayout l) {
        softmax(args, t, x, dy, dx, l, true);
    }

    private void softmax(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer out, OpLayout l,
                         boolean backward) {
        requireFamily(args, Family.ROW_REDUCTION);
        long n = l.elementCount();
        if (n == 0) {
            return;
        }
        enter();
        try {
            SoftmaxVariant v = plan.softmaxVariant(t, l, forcedSoftmax);
            int log = args.op() == Op.LOG_SOFTMAX ? 1 : 0;
            int safe = args.safe() ? 1 : 0;
            List<Object> a = new ArrayList<>();
            a.add(in(x, "x", n, t));
            if (backward) {
                a.add(in(dy, "dy", n, t));
            }
            a.add(in(out, backward ? "dx" : "y", n, t));
            int perLane = 0;
            switch (v) {
                case WARP -> {
                    perLane = CudaLaunchPlan.warpPerLane(l.mid());
                    a.add(l.outer());
                    a.add((int) l.mid());
                }
                case BLOCK, ONLINE -> {
                    a.add(l.outer());
                    a.add(l.mid());
                }
                case STRIDED -> {
                    a.add(l.outer());
                    a.add(l.mid());
                    a.add(l.inner());
                }
            }
            a.add(log);
            a.add(safe);
            launch(CudaKernelNames.softmax(v, backward, t, perLane), plan.softmax(v, t, l), a.toArray());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void synchronize() {
        enter();
        try {
            synchronizeLocked();
        } finally {
            lock.unlock();
        }
    }

    private void synchronizeLocked() {
        CudaCalls.check("cuStreamSynchronize (a kernel or copy before it failed)",
                () -> JCudaDriver.cuStreamSynchronize(stream));
    }

    private static void requireFamily(OpArgs args, Family f) {
        if (args.op().family() != f) {
            throw new IllegalArgumentException(args.op() + " is not a " + f.name().toLowerCase(java.util.Locale.ROOT) + " op");
        }
    }

    private CudaBuffer in(DeviceBuffer b, String what, long elements, DType t) {
        CudaBuffer c = cuda(b, what);
        if (c.byteSize() < elements * t.byteSize()) {
            throw new IllegalArgumentException(what + " holds " + c.byteSize() + " bytes but " + elements + " "
                    + t.numpyName() + " elements need " + elements * t.byteSize());
        }
        return c;
    }

    private static Object scalar(DType t, double v) {
        return t == DType.F32 ? (Object) (float) v : (Object) v;
    }

    CUfunction function(String name) {
        return functions.computeIfAbsent(name, k -> {
            CUfunction f = new CUfunction();
            try {
                CudaCalls.check("cuModuleGetFunction(" + k + ")", () -> JCudaDriver.cuModuleGetFunction(f, module, k));
            } catch (CudaCallException e) {
                throw new CudaCallException("kernel " + k + " is missing from soma.fatbin (" + e.getMessage()
                        + "); rebuild the cuda module", e.errorName(), e);
            }
            return f;
        });
    }

    /** Launches a kernel with arguments of types CudaBuffer, Long, Integer, Float or Double, in order. */
    private void launch(String name, CudaLaunchPlan.Launch l, Object... args) {
        CUfunction f = function(name);
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            params[i] = switch (a) {
                case CudaBuffer b -> Pointer.to(b.pointer(0));
                case Long v -> Pointer.to(new long[] {v});
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case Double v -> Pointer.to(new double[] {v});
                default -> throw new IllegalArgumentException("kernel argument " + i + " of " + name
                        + " has unsupported type " + a.getClass().getName());
            };
        }
        Pointer kernelParams = Pointer.to(params);
        CudaCalls.check("cuLaunchKernel(" + name + ", " + l.blocks() + " blocks of " + l.threads() + " threads, "
                + l.sharedBytes() + " bytes shared)", () -> JCudaDriver.cuLaunchKernel(f, l.blocks(), 1, 1,
                l.threads(), 1, 1, l.sharedBytes(), stream, kernelParams, null));
    }

    /** Frees every buffer (logging any that leaked), the staging memory, events, stream and module, then releases the context. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            guard.close();
            List<RuntimeException> failures = new ArrayList<>();
            if (context != null) {
                attempt(failures, this::makeCurrent);
                if (stream != null) {
                    attempt(failures, this::synchronizeLocked);
                }
            }
            List<String> leaked = allocator.closeAndReportLeaks();
            if (!leaked.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "CUDA: " + leaked.size() + " device buffer(s) were still open at close and were freed: " + leaked);
            }
            for (int i = 0; i < NSTAGING; i++) {
                Pointer p = staging[i];
                if (p != null) {
                    attempt(failures, () -> CudaCalls.check("cuMemFreeHost", () -> JCudaDriver.cuMemFreeHost(p)));
                    staging[i] = null;
                    stagingSegments[i] = null;
                }
                CUevent e = stagingFree[i];
                if (e != null) {
                    attempt(failures, () -> CudaCalls.check("cuEventDestroy", () -> JCudaDriver.cuEventDestroy(e)));
                    stagingFree[i] = null;
                }
            }
            for (CUevent e : new CUevent[] {timingStart, timingStop}) {
                if (e != null) {
                    attempt(failures, () -> CudaCalls.check("cuEventDestroy", () -> JCudaDriver.cuEventDestroy(e)));
                }
            }
            timingStart = null;
            timingStop = null;
            if (stream != null) {
                CUstream s = stream;
                attempt(failures, () -> CudaCalls.check("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(s)));
                stream = null;
            }
            if (module != null) {
                CUmodule m = module;
                attempt(failures, () -> CudaCalls.check("cuModuleUnload", () -> JCudaDriver.cuModuleUnload(m)));
                module = null;
            }
            functions.clear();
            if (context != null) {
                attempt(failures, () -> CudaCalls.check("cuDevicePrimaryCtxRelease",
                        () -> JCudaDriver.cuDevicePrimaryCtxRelease(device)));
                context = null;
            }
            if (!failures.isEmpty()) {
                RuntimeException first = failures.get(0);
                for (int i = 1; i < failures.size(); i++) {
                    first.addSuppressed(failures.get(i));
                }
                // One line (the CLI prints warnings on stderr); after a lost device these failures are
                // expected and the caller already has the error, so they are logged for --debug only.
                boolean afterLoss = failures.stream().allMatch(f -> f instanceof DeviceLostException);
                LOG.log(afterLoss ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING, "CUDA: closing "
                        + description + " hit " + failures.size() + " error(s); everything else was released: "
                        + first.getMessage());
            }
        } finally {
            lock.unlock();
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }

    @Override
    public String toString() {
        return "CudaRuntime[" + description + "]";
    }
}
