package dev.soma.backend.opencl;

import dev.soma.backend.BackendKind;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceQueue;
import dev.soma.backend.device.PinnedMemory;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * One OpenCL device: a context, one in-order queue, the Soma programs (built once, on first use)
 * and a counting allocator whose budget is the device's global memory. Every public method is
 * synchronised: calls from many threads are serialised onto the one queue (kernel objects hold
 * their arguments, so they cannot be shared by concurrent launches).
 *
 * <p>Elementwise kernels take one element per work-item (PoCL cannot vectorise grid-stride loops).
 * Work-group sizes come from the device: the kernel's maximum work-group size and preferred
 * multiple, capped at {@link #DEFAULT_LOCAL_CAP} (the sweep in the benchmarks chose it); the system
 * property {@code soma.opencl.localSize} or {@link #setLocalSizeOverride} forces one, and
 * {@code soma.opencl.softmax} / {@link #setSoftmaxVariant} force a softmax kernel variant.
 */
public final class OpenClRuntime implements DeviceRuntime {
    private static final System.Logger LOG = System.getLogger("dev.soma");
    /** Largest default work-group size. */
    static final int DEFAULT_LOCAL_CAP = 256;
    /** Work-groups per compute unit for the reductions (PReLU's dw, split softmax): enough to fill the device. */
    static final int GROUPS_PER_CU = 16;
    /** Rows at least this long with too few rows to fill the device use the split softmax. */
    static final long SPLIT_MIN_LEN = 8192;
    private static final String BUILD_OPTIONS = "-cl-std=CL1.2";
    /** Extra compiler options for benchmarks and experiments (e.g. -DSOMA_FIXED_OP=8); never fast-math in production. */
    private final String extraBuildOptions = System.getProperty("soma.opencl.buildOptions", "").trim();
    /** One elementwise program for all ops (op code as a kernel argument) instead of one per op. */
    private final boolean opAsArgument = Boolean.getBoolean("soma.opencl.opArgument");

    private final OpenClPlatforms.Found found;
    private final cl_device_id device;
    private final cl_context context;
    private final cl_command_queue queue;
    /** Where launches go: {@link #queue}, or a {@link OpenClQueue} inside its {@code enqueue}. */
    private cl_command_queue target;
    private final DeviceAllocator allocator;
    private final Map<String, cl_program> programs = new LinkedHashMap<>();
    private final Map<String, cl_kernel> kernels = new LinkedHashMap<>();
    private final Map<String, Long> buildNanos = new LinkedHashMap<>();
    private final int computeUnits;
    /** The device has cl_khr_fp64 and it is not switched off (soma.opencl.simulateNoFp64, for tests). */
    private final boolean fp64;
    private int localOverride;
    /** Most work-items in one launch: far below every driver's global-size limit, and size_t-safe on 32-bit devices. */
    private long maxWorkItems = 1L << 30;
    private SoftmaxVariant softmaxVariant;
    private boolean closed;

    OpenClRuntime(OpenClPlatforms.Found found) {
        this.found = found;
        this.device = found.device();
        this.computeUnits = Math.max(1, found.info().computeUnits());
        this.fp64 = found.fp64() && !Boolean.getBoolean("soma.opencl.simulateNoFp64");
        this.localOverride = Integer.getInteger("soma.opencl.localSize", 0);
        this.softmaxVariant = SoftmaxVariant.parse(System.getProperty("soma.opencl.softmax"));
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, found.platform());
        this.context = CL.clCreateContext(props, 1, new cl_device_id[] {device}, null, null, null);
        cl_command_queue q;
        try {
            q = createQueue(context, device);
        } catch (RuntimeException e) {
            CL.clReleaseContext(context);
            throw e;
        }
        this.queue = q;
        this.target = q;
        this.allocator = new DeviceAllocator(description(), found.info().memoryBytes());
    }

    @SuppressWarnings("deprecation") // clCreateCommandQueue: the OpenCL 1.2 call, still present on 2.x/3.x drivers
    private static cl_command_queue createQueue(cl_context ctx, cl_device_id dev) {
        return CL.clCreateCommandQueue(ctx, dev, 0, null);
    }

    // ---- DeviceRuntime: identity ------------------------------------------------------------------

    @Override
    public BackendKind kind() {
        return BackendKind.OPENCL;
    }

    @Override
    public DeviceInfo info() {
        return found.info();
    }

    @Override
    public String description() {
        DeviceInfo i = found.info();
        return i.name() + " (" + found.platformName() + ", OpenCL " + (i.gpu() ? "GPU" : "CPU") + ")";
    }

    @Override
    public boolean supports(DType t) {
        return t == DType.F32 || (t == DType.F64 && fp64);
    }

    @Override
    public DeviceAllocator allocator() {
        return allocator;
    }

    // ---- memory -----------------------------------------------------------------------------------

    @Override
    public synchronized DeviceBuffer allocate(long bytes) {
        requireOpen();
        return new OpenClBuffer(allocator, this, context, bytes, found.maxAllocBytes(), description());
    }

    @Override
    public synchronized void upload(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        requireOpen();
        checkRange(dst, dstOffset, bytes);
        cl_mem m = mem(dst);
        if (!src.isNative()) {
            CL.clEnqueueWriteBuffer(queue, m, true, dstOffset, bytes, HostMemory.pointer(src, 0, bytes), 0, null, null);
            return;
        }
        for (long done = 0; done < bytes; done += HostMemory.MAX_VIEW) {
            long n = Math.min(HostMemory.MAX_VIEW, bytes - done);
            CL.clEnqueueWriteBuffer(queue, m, true, dstOffset + done, n, HostMemory.pointer(src, done, n), 0, null, null);
        }
    }

    @Override
    public synchronized void download(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        requireOpen();
        checkRange(src, srcOffset, bytes);
        cl_mem m = mem(src);
        if (!dst.isNative()) {
            CL.clEnqueueReadBuffer(queue, m, true, srcOffset, bytes, HostMemory.pointer(dst, 0, bytes), 0, null, null);
            return;
        }
        for (long done = 0; done < bytes; done += HostMemory.MAX_VIEW) {
            long n = Math.min(HostMemory.MAX_VIEW, bytes - done);
            CL.clEnqueueReadBuffer(queue, m, true, srcOffset + done, n, HostMemory.pointer(dst, done, n), 0, null, null);
        }
    }

    /** Device-to-device copy of {@code bytes} (the bandwidth ceiling the benchmarks compare ops to). */
    @Override
    public synchronized void copy(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        requireOpen();
        checkRange(src, 0, bytes);
        checkRange(dst, 0, bytes);
        if (bytes > 0) {
            CL.clEnqueueCopyBuffer(queue, mem(src), mem(dst), 0, 0, bytes, 0, null, null);
        }
    }

    @Override
    public long maxBufferBytes() {
        return found.maxAllocBytes();
    }

    @Override
    public synchronized DeviceQueue openQueue() {
        requireOpen();
        return new OpenClQueue(this, createQueue(context, device));
    }

    @Override
    public synchronized PinnedMemory allocatePinned(long bytes) {
        requireOpen();
        return new OpenClPinned(allocator, bytes);
    }

    /** Runs {@code launches} with {@code q} as the launch target (called by {@link OpenClQueue}). */
    synchronized void enqueueOn(cl_command_queue q, Runnable launches) {
        requireOpen();
        cl_command_queue before = target;
        target = q;
        try {
            launches.run();
        } finally {
            target = before;
        }
    }

    /** A non-blocking write from native host memory on {@code q}. */
    synchronized void writeAsync(cl_command_queue q, MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes) {
        requireOpen();
        checkRange(dst, dstOffset, bytes);
        if (!src.isNative()) {
            throw new IllegalArgumentException("asynchronous uploads need native (pinned) host memory, got a heap segment");
        }
        for (long done = 0; done < bytes; done += HostMemory.MAX_VIEW) {
            long n = Math.min(HostMemory.MAX_VIEW, bytes - done);
            CL.clEnqueueWriteBuffer(q, mem(dst), false, dstOffset + done, n, HostMemory.pointer(src, done, n), 0, null, null);
        }
    }

    /** A non-blocking read into native host memory on {@code q}. */
    synchronized void readAsync(cl_command_queue q, DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        requireOpen();
        checkRange(src, srcOffset, bytes);
        if (!dst.isNative()) {
            throw new IllegalArgumentException("asynchronous downloads need native (pinned) host memory, got a heap segment");
        }
        for (long done = 0; done < bytes; done += HostMemory.MAX_VIEW) {
            long n = Math.min(HostMemory.MAX_VIEW, bytes - done);
            CL.clEnqueueReadBuffer(q, mem(src), false, srcOffset + done, n, HostMemory.pointer(dst, done, n), 0, null, null);
        }
    }

    // ---- elementwise ------------------------------------------------------------------------------

    @Override
    public synchronized void forward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n) {
        requireOpen();
        requireType(t);
        if (n == 0) {
            return;
        }
        cl_kernel k = elementwiseKernel(args.op(), "soma_fwd_" + suffix(t));
        Args a = new Args(k).mem(x).mem(y).ulong(0).ulong(n).integer(args.op().ordinal());
        scalars(a, t, args);
        launchRange(k, 2, n);
    }

    @Override
    public synchronized void backward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n) {
        requireOpen();
        requireType(t);
        if (n == 0) {
            return;
        }
        cl_kernel k = elementwiseKernel(args.op(), "soma_bwd_" + suffix(t));
        Args a = new Args(k).mem(x).mem(dy).mem(dx).ulong(0).ulong(n).integer(args.op().ordinal());
        scalars(a, t, args);
        launchRange(k, 3, n);
    }

    @Override
    public synchronized void forwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, DeviceBuffer table,
                                          long blocks) {
        requireOpen();
        requireType(t);
        if (blocks == 0) {
            return;
        }
        cl_kernel k = kernel("multi.cl", "soma_multi_fwd_" + suffix(t));
        Args a = new Args(k).mem(x).mem(y).mem(table).ulong(0).ulong(blocks).integer(args.op().ordinal());
        scalars(a, t, args);
        launchGroups(k, 3, blocks);
    }

    @Override
    public synchronized void backwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                           DeviceBuffer table, long blocks) {
        requireOpen();
        requireType(t);
        if (blocks == 0) {
            return;
        }
        cl_kernel k = kernel("multi.cl", "soma_multi_bwd_" + suffix(t));
        Args a = new Args(k).mem(x).mem(dy).mem(dx).mem(table).ulong(0).ulong(blocks).integer(args.op().ordinal());
        scalars(a, t, args);
        launchGroups(k, 4, blocks);
    }

    /** One work-group per item, in launches of at most {@link #maxWorkItems} work-items; {@code baseArg} gets each launch's first group. */
    private void launchGroups(cl_kernel k, int baseArg, long groups) {
        int local = elementwiseLocal(k);
        long perLaunch = Math.max(1, maxWorkItems / local);
        for (long base = 0; base < groups; base += perLaunch) {
            CL.clSetKernelArg(k, baseArg, Sizeof.cl_ulong, Pointer.to(new long[] {base}));
            launch(k, Math.min(perLaunch, groups - base) * local, local);
        }
    }

    /** A float32 device copy through a kernel with the elementwise launch shape (benchmarks). */
    synchronized void copyKernel(DeviceBuffer x, DeviceBuffer y, long n) {
        requireOpen();
        if (n == 0) {
            return;
        }
        cl_kernel k = kernel("elementwise.cl", "soma_copy_f32");
        new Args(k).mem(x).mem(y).ulong(0).ulong(n);
        launchRange(k, 2, n);
    }

    private static void scalars(Args a, DType t, OpArgs args) {
        if (t == DType.F32) {
            a.f32(args.alpha()).f32(args.beta()).f32(args.threshold());
        } else {
            a.f64(args.alpha()).f64(args.beta()).f64(args.threshold());
        }
    }

    // ---- PReLU ------------------------------------------------------------------------------------

    @Override
    public synchronized void preluForward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer y,
                                          OpLayout l) {
        requireOpen();
        requireType(t);
        long n = l.elementCount();
        if (n == 0) {
            return;
        }
        long channels = weightCount == 1 ? 1 : l.mid();
        long inner = weightCount == 1 ? n : l.inner();
        cl_kernel k = kernel("prelu.cl", "prelu_fwd_" + suffix(t));
        new Args(k).mem(x).mem(w).mem(y).ulong(0).ulong(n).ulong(channels).ulong(inner);
        launchRange(k, 3, n);
    }

    @Override
    public synchronized void preluBackward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer dy,
                                           DeviceBuffer dx, DeviceBuffer dw, OpLayout l) {
        requireOpen();
        requireType(t);
        long n = l.elementCount();
        if (n == 0) {
            return;
        }
        // One weight: every element is "channel 0" of a (1, 1, n) view.
        long outer = weightCount == 1 ? 1 : l.outer();
        long channels = weightCount == 1 ? 1 : l.mid();
        long inner = weightCount == 1 ? n : l.inner();
        String sfx = suffix(t);
        cl_kernel kdx = kernel("prelu.cl", "prelu_bwd_dx_" + sfx);
        new Args(kdx).mem(x).mem(w).mem(dy).mem(dx).ulong(0).ulong(n).ulong(channels).ulong(inner);
        launchRange(kdx, 4, n);
        if (dw == null) {
            return;
        }
        cl_kernel kp = kernel("prelu.cl", "prelu_dw_partial_" + sfx);
        cl_kernel kf = kernel("prelu.cl", "prelu_dw_final_" + sfx);
        int local = Math.min(reductionLocal(kp), reductionLocal(kf));
        long perChannel = outer * inner;
        // Enough chunks per channel to keep the device busy; each chunk at least 4 elements per work-item.
        long wantGroups = (long) computeUnits * GROUPS_PER_CU;
        long chunks = Math.max(1, Math.min(ceilDiv(perChannel, 4L * local), ceilDiv(wantGroups, channels)));
        chunks = Math.min(chunks, 4096);
        int accBytes = accBytes(t);
        try (DeviceBuffer partial = allocate(channels * chunks * accBytes)) {
            new Args(kp).mem(x).mem(dy).mem(partial).ulong(outer).ulong(channels).ulong(inner).ulong(chunks)
                    .local((long) local * accBytes);
            launch(kp, channels * chunks * local, local);
            new Args(kf).mem(partial).mem(dw).ulong(chunks).local((long) local * accBytes);
            launch(kf, channels * local, local);
            // clReleaseMemObject defers the free until the queued kernels are done with it.
        }
    }

    // ---- softmax ----------------------------------------------------------------------------------

    @Override
    public synchronized void softmaxForward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, OpLayout l) {
        requireOpen();
        requireType(t);
        softmax(args, t, x, null, y, l);
    }

    @Override
    public synchronized void softmaxBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx,
                                             OpLayout l) {
        requireOpen();
        requireType(t);
        softmax(args, t, x, dy, dx, l);
    }

    @Override
    public synchronized void softmaxPieceStats(DType t, DeviceBuffer x, long n, DeviceBuffer stats, long slot) {
        requireOpen();
        requireType(t);
        if (!fp64) {
            throw new UnsupportedOperationException(description() + " has no float64, which softmax rows longer than a"
                    + " device chunk need; raise --device-memory so a row fits, or use --backend cpu");
        }
        checkRange(stats, 16 * slot, 16);
        cl_kernel k = kernel("softmax_long.cl", "softmax_piece_stats_" + suffix(t));
        int local = reductionLocal(k);
        new Args(k).mem(x).ulong(n).mem(stats).ulong(slot).local(8L * local);
        launch(k, local, local);
    }

    @Override
    public synchronized void softmaxPieceApply(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n,
                                               double rowMax, double rowSum, int mode) {
        requireOpen();
        requireType(t);
        if (!fp64) {
            throw new UnsupportedOperationException(description() + " has no float64, which softmax rows longer than a"
                    + " device chunk need; raise --device-memory so a row fits, or use --backend cpu");
        }
        if (n == 0) {
            return;
        }
        cl_kernel k = kernel("softmax_long.cl", "softmax_piece_apply_" + suffix(t));
        new Args(k).mem(x).mem(y).ulong(0).ulong(n).f64(rowMax).f64(rowSum).f64(Math.log(rowSum))
                .integer(args.op() == Op.LOG_SOFTMAX ? 1 : 0).integer(mode);
        launchRange(k, 2, n);
    }

    @Override
    public synchronized void softmaxPieceDot(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, long n,
                                             double rowMax, double rowSum, DeviceBuffer dots, long slot) {
        requireOpen();
        requireType(t);
        requireFp64ForLongRows();
        checkRange(dots, 8 * slot, 8);
        cl_kernel k = kernel("softmax_long.cl", "softmax_piece_dot_" + suffix(t));
        int local = reductionLocal(k);
        new Args(k).mem(x).mem(dy).ulong(n).f64(rowMax).f64(rowSum).integer(args.op() == Op.LOG_SOFTMAX ? 1 : 0)
                .mem(dots).ulong(slot).local(8L * local);
        launch(k, local, local);
    }

    @Override
    public synchronized void softmaxPieceBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy,
                                                  DeviceBuffer dx, long n, double rowMax, double rowSum, double dot,
                                                  int mode) {
        requireOpen();
        requireType(t);
        requireFp64ForLongRows();
        if (n == 0) {
            return;
        }
        cl_kernel k = kernel("softmax_long.cl", "softmax_piece_bwd_" + suffix(t));
        new Args(k).mem(x).mem(dy).mem(dx).ulong(0).ulong(n).f64(rowMax).f64(rowSum).f64(dot)
                .integer(args.op() == Op.LOG_SOFTMAX ? 1 : 0).integer(mode);
        launchRange(k, 3, n);
    }

    private void requireFp64ForLongRows() {
        if (!fp64) {
            throw new UnsupportedOperationException(description() + " has no float64, which softmax rows longer than a"
                    + " device chunk need; raise --device-memory so a row fits, or use --backend cpu");
        }
    }

    /** The variant {@link #softmax} runs for this layout (tests assert the forced one is used). */
    SoftmaxVariant softmaxVariantFor(OpLayout l) {
        if (softmaxVariant != SoftmaxVariant.AUTO) {
            return softmaxVariant;
        }
        long rows = l.outer() * l.inner();
        long len = l.mid();
        if (len <= 16 || (l.inner() > 1 && rows >= 4L * computeUnits * DEFAULT_LOCAL_CAP)) {
            return SoftmaxVariant.STRIDED;
        }
        if (len >= SPLIT_MIN_LEN && rows < 2L * computeUnits) {
            return SoftmaxVariant.SPLIT;
        }
        return SoftmaxVariant.GROUP;
    }

    private void softmax(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer out, OpLayout l) {
        long rows = l.outer() * l.inner();
        if (rows == 0 || l.mid() == 0) {
            return;
        }
        boolean backward = dy != null;
        int logMode = args.op() == Op.LOG_SOFTMAX ? 1 : 0;
        int safe = args.safe() ? 1 : 0;
        String sfx = suffix(t);
        String dir = backward ? "bwd" : "fwd";
        int accBytes = accBytes(t);
        switch (softmaxVariantFor(l)) {
            case STRIDED -> {
                cl_kernel k = kernel("softmax.cl", "softmax_strided_" + dir + "_" + sfx);
                Args a = new Args(k).mem(x);
                if (backward) {
                    a.mem(dy);
                }
                a.mem(out);
                int firstRowArg = a.next();
                a.ulong(0).ulong(l.outer()).ulong(l.mid()).ulong(l.inner()).integer(logMode).integer(safe);
                launchRange(k, firstRowArg, rows);
            }
            case GROUP -> {
                cl_kernel k = kernel("softmax.cl", "softmax_group_" + dir + "_" + sfx);
                int local = rowLocal(k, l.mid());
                Args a = new Args(k).mem(x);
                if (backward) {
                    a.mem(dy);
                }
                a.mem(out).ulong(l.outer()).ulong(l.mid()).ulong(l.inner()).integer(logMode).integer(safe)
                        .local((long) local * accBytes);
                long groups = Math.min(rows, (long) computeUnits * GROUPS_PER_CU * 4);
                launch(k, groups * local, local);
            }
            case AUTO, SPLIT -> splitSoftmax(t, x, dy, out, l, logMode, safe, accBytes);
        }
    }

    private void splitSoftmax(DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer out, OpLayout l, int logMode,
                              int safe, int accBytes) {
        String sfx = suffix(t);
        long rows = l.outer() * l.inner();
        long len = l.mid();
        cl_kernel stats = kernel("softmax.cl", "softmax_split_stats_" + sfx);
        int local = rowLocal(stats, len);
        long wantGroups = (long) computeUnits * GROUPS_PER_CU;
        long chunks = Math.max(1, Math.min(ceilDiv(len, 4L * local), Math.max(2, ceilDiv(wantGroups, rows))));
        chunks = Math.min(chunks, 1024);
        long chunkLen = ceilDiv(len, chunks);
        long groups = rows * chunks;
        try (DeviceBuffer pm = allocate(groups * accBytes);
             DeviceBuffer ps = allocate(groups * accBytes)) {
            new Args(stats).mem(x).mem(pm).mem(ps).ulong(l.outer()).ulong(len).ulong(l.inner()).ulong(chunks)
                    .ulong(chunkLen).local((long) local * accBytes);
            launch(stats, groups * local, local);
            if (dy == null) {
                cl_kernel k = kernel("softmax.cl", "softmax_split_fwd_" + sfx);
                new Args(k).mem(x).mem(out).mem(pm).mem(ps).ulong(l.outer()).ulong(len).ulong(l.inner()).ulong(chunks)
                        .ulong(chunkLen).integer(logMode).integer(safe).local((long) local * accBytes);
                launch(k, groups * local, local);
                return;
            }
            try (DeviceBuffer pd = allocate(groups * accBytes)) {
                cl_kernel kd = kernel("softmax.cl", "softmax_split_dot_" + sfx);
                new Args(kd).mem(x).mem(dy).mem(pm).mem(ps).mem(pd).ulong(l.outer()).ulong(len).ulong(l.inner())
                        .ulong(chunks).ulong(chunkLen).integer(logMode).local((long) local * accBytes);
                launch(kd, groups * local, local);
                cl_kernel kb = kernel("softmax.cl", "softmax_split_bwd_" + sfx);
                new Args(kb).mem(x).mem(dy).mem(out).mem(pm).mem(ps).mem(pd).ulong(l.outer()).ulong(len)
                        .ulong(l.inner()).ulong(chunks).ulong(chunkLen).integer(logMode).integer(safe)
                        .local((long) local * accBytes);
                launch(kb, groups * local, local);
            }
        }
    }

    // ---- synchronisation and lifecycle --------------------------------------------------------------

    @Override
    public synchronized void synchronize() {
        requireOpen();
        CL.clFinish(queue);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            CL.clFinish(queue);
        } catch (CLException e) {
            LOG.log(System.Logger.Level.WARNING, "OpenCL queue did not finish cleanly on close: " + e.getMessage());
        }
        List<String> leaked = allocator.closeAndReportLeaks();
        if (!leaked.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, description() + ": " + leaked.size()
                    + " device buffers were still live at close and have been freed: " + leaked);
        }
        for (cl_kernel k : kernels.values()) {
            CL.clReleaseKernel(k);
        }
        kernels.clear();
        for (cl_program p : programs.values()) {
            CL.clReleaseProgram(p);
        }
        programs.clear();
        CL.clReleaseCommandQueue(queue);
        CL.clReleaseContext(context);
    }

    // ---- tuning hooks (package-private: tests and benchmarks) ---------------------------------------

    /** Forces the work-group size of every launch (a power of two); 0 restores the device default. */
    synchronized void setLocalSizeOverride(int local) {
        if (local != 0 && Integer.bitCount(local) != 1) {
            throw new IllegalArgumentException("work-group size must be a power of two, got " + local);
        }
        this.localOverride = local;
    }

    /** Caps the work-items of one launch, so tests can force a count to be covered in several launches. */
    synchronized void setMaxWorkItemsPerLaunch(long max) {
        this.maxWorkItems = max <= 0 ? 1L << 30 : max;
    }

    synchronized void setSoftmaxVariant(SoftmaxVariant v) {
        this.softmaxVariant = v;
    }

    /** Nanoseconds each program took to build, by source file (first use only). */
    synchronized Map<String, Long> buildNanos() {
        return Map.copyOf(buildNanos);
    }

    /** Number of kernels and programs currently held (leak tests). */
    synchronized int nativeObjectCount() {
        return kernels.size() + programs.size();
    }

    // ---- programs, kernels, launches ---------------------------------------------------------------

    /**
     * The elementwise kernel for one op: by default from a program built for that op alone
     * ({@code -DSOMA_FIXED_OP}, so the compiler sees a constant op code and drops the other
     * branches: 3.4x faster for relu on PoCL, whose vectoriser gives up on the switch); with
     * {@code soma.opencl.opArgument=true}, one program for all ops taking the code as an argument.
     */
    private cl_kernel elementwiseKernel(Op op, String name) {
        if (opAsArgument) {
            return kernel("elementwise.cl", "", name);
        }
        return kernel("elementwise.cl", "-DSOMA_FIXED_OP=" + op.ordinal(), name);
    }

    private cl_kernel kernel(String file, String name) {
        return kernel(file, "", name);
    }

    private cl_kernel kernel(String file, String defines, String name) {
        String key = file + " " + defines + " " + name;
        cl_kernel k = kernels.get(key);
        if (k == null) {
            k = CL.clCreateKernel(program(file, defines), name, null);
            kernels.put(key, k);
        }
        return k;
    }

    private cl_program program(String file, String defines) {
        String key = defines.isEmpty() ? file : file + " " + defines;
        cl_program p = programs.get(key);
        if (p != null) {
            return p;
        }
        long t0 = System.nanoTime();
        String source = OpenClSources.load(file);
        p = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            // Without fp64 in use on a device that has it, build exactly what an fp64-less device gets.
            String noFp64 = !fp64 && found.fp64() ? " -DSOMA_NO_FP64" : "";
            String options = (BUILD_OPTIONS + " " + defines + " " + extraBuildOptions + noFp64).trim();
            CL.clBuildProgram(p, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            CL.clReleaseProgram(p);
            throw new IllegalStateException("OpenCL could not build " + file + " for " + description() + " ("
                    + CL.stringFor_errorCode(e.getStatus()) + "); the driver's build log:\n" + log
                    + "\nThis is a bug in Soma's kernels or the driver; use --backend cpu meanwhile.", e);
        }
        buildNanos.put(key, System.nanoTime() - t0);
        programs.put(key, p);
        return p;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            CL.clGetProgramBuildInfo(p, device, CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            CL.clGetProgramBuildInfo(p, device, CL.CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            return OpenClPlatforms.cString(buf);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    private long kernelSize(cl_kernel k, int param) {
        long[] v = new long[1];
        CL.clGetKernelWorkGroupInfo(k, device, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    /** The work-group size for grid-stride kernels: the override, or the device's choice capped at the default cap. */
    int elementwiseLocal(cl_kernel k) {
        long max = kernelSize(k, CL.CL_KERNEL_WORK_GROUP_SIZE);
        if (localOverride > 0) {
            return (int) Math.min(localOverride, floorPow2(max));
        }
        long multiple = Math.max(1, kernelSize(k, CL.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE));
        long local = floorPow2(Math.min(max, DEFAULT_LOCAL_CAP));
        return (int) Math.max(Math.min(multiple, floorPow2(max)), local);
    }

    /** A power-of-two work-group size for tree reductions. */
    private int reductionLocal(cl_kernel k) {
        return (int) floorPow2(elementwiseLocal(k));
    }

    /** Work-group size for one row of {@code len}: no more work-items than elements (rounded up), at least the preferred multiple. */
    private int rowLocal(cl_kernel k, long len) {
        int cap = reductionLocal(k);
        if (localOverride > 0) {
            return cap;
        }
        long multiple = Math.max(1, kernelSize(k, CL.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE));
        long want = Math.max(floorPow2(multiple), ceilPow2(len));
        return (int) Math.min(cap, want);
    }

    /**
     * Covers {@code count} items, one per work-item, in launches of at most {@link #maxWorkItems}
     * work-items; the kernel's argument {@code baseArg} gets each launch's first item.
     */
    private void launchRange(cl_kernel k, int baseArg, long count) {
        int local = elementwiseLocal(k);
        long chunk = Math.max(local, maxWorkItems / local * local);
        for (long base = 0; base < count; base += chunk) {
            CL.clSetKernelArg(k, baseArg, Sizeof.cl_ulong, Pointer.to(new long[] {base}));
            launch(k, ceilDiv(Math.min(chunk, count - base), local) * local, local);
        }
    }

    private void launch(cl_kernel k, long global, long local) {
        CL.clEnqueueNDRangeKernel(target, k, 1, null, new long[] {global}, new long[] {local}, 0, null, null);
    }

    private int accBytes(DType t) {
        return t == DType.F64 || fp64 ? 8 : 4;
    }

    private static String suffix(DType t) {
        return t == DType.F32 ? "f32" : "f64";
    }

    private void requireType(DType t) {
        if (!supports(t)) {
            throw new IllegalArgumentException(description() + " cannot compute " + t.numpyName()
                    + ": the device has no cl_khr_fp64; use float32 or --backend cpu");
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(description() + " is closed; open a new backend");
        }
    }

    private static cl_mem mem(DeviceBuffer b) {
        if (!(b instanceof OpenClBuffer ob)) {
            throw new IllegalArgumentException("not an OpenCL buffer: " + b);
        }
        if (ob.isClosed()) {
            throw new IllegalStateException("device buffer already freed: " + b);
        }
        return ob.mem();
    }

    private static void checkRange(DeviceBuffer b, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > b.byteSize()) {
            throw new IndexOutOfBoundsException("range [" + offset + ", " + (offset + bytes) + ") is outside " + b);
        }
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static long floorPow2(long v) {
        return v <= 1 ? 1 : Long.highestOneBit(v);
    }

    static long ceilPow2(long v) {
        return v <= 1 ? 1 : Long.highestOneBit(v - 1) << 1;
    }

    /** Sets a kernel's arguments in order. */
    private static final class Args {
        private final cl_kernel k;
        private int i;

        Args(cl_kernel k) {
            this.k = k;
        }

        /** The index the next argument gets. */
        int next() {
            return i;
        }

        Args mem(DeviceBuffer b) {
            CL.clSetKernelArg(k, i++, Sizeof.cl_mem, Pointer.to(OpenClRuntime.mem(b)));
            return this;
        }

        Args ulong(long v) {
            CL.clSetKernelArg(k, i++, Sizeof.cl_ulong, Pointer.to(new long[] {v}));
            return this;
        }

        Args integer(int v) {
            CL.clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {v}));
            return this;
        }

        Args f32(double v) {
            CL.clSetKernelArg(k, i++, Sizeof.cl_float, Pointer.to(new float[] {(float) v}));
            return this;
        }

        Args f64(double v) {
            CL.clSetKernelArg(k, i++, Sizeof.cl_double, Pointer.to(new double[] {v}));
            return this;
        }

        Args local(long bytes) {
            CL.clSetKernelArg(k, i++, bytes, null);
            return this;
        }
    }
}
