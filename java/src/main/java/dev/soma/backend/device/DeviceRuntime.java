package dev.soma.backend.device;

import dev.soma.backend.BackendKind;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.OpLayout;
import dev.soma.op.DType;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;

/**
 * What the shared host layer ({@link DeviceBackend}, and the offload pipeline) needs from one GPU
 * device: an OpenCL context and queue, or a CUDA context and stream. Both GPU backends implement
 * this; everything above it is shared, so PoCL's runs exercise the host logic CUDA runs.
 *
 * <p>Launch methods enqueue work in order on the runtime's queue/stream and may return before
 * it finishes; {@link #download} and {@link #synchronize} wait. The offload pipeline opens extra
 * queues ({@link #openQueue}): launch methods called inside {@link DeviceQueue#enqueue} go to that
 * queue instead, and {@link DeviceQueue}'s transfers from {@link #allocatePinned pinned} memory
 * never wait, so several chunks can be uploaded, computed and downloaded at once. Offsets and counts are in
 * elements and 64-bit throughout. Implementations are thread-safe (callers from many threads are
 * serialised onto the one queue).
 */
public interface DeviceRuntime extends AutoCloseable {

    BackendKind kind();

    DeviceInfo info();

    /** The device in words. */
    String description();

    /** True when the device computes this dtype (float64 needs cl_khr_fp64 on OpenCL). */
    boolean supports(DType t);

    /** The counting allocator that owns every buffer of this device. */
    DeviceAllocator allocator();

    /** A new uninitialised buffer of {@code bytes} bytes. */
    DeviceBuffer allocate(long bytes);

    /** Copies {@code bytes} from host memory to {@code dst} at byte offset {@code dstOffset}. */
    void upload(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes);

    /** Copies {@code bytes} from {@code src} at byte offset {@code srcOffset} to host memory; waits. */
    void download(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes);

    void forward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n);

    void backward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n);

    /**
     * Elementwise forward over many tensors in one launch: {@code table} holds {@code blocks}
     * entries of three int64 values (input offset, output offset, length), in elements, each
     * length at most {@link #MULTI_BLOCK_ELEMENTS}; entry e computes
     * {@code y[yo + i] = f(x[xo + i])} for {@code i < length}. Elementwise ops only.
     */
    void forwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, DeviceBuffer table, long blocks);

    /** As {@link #forwardMulti}, backward: {@code dy} at the input offsets, {@code dx} at the output offsets. */
    void backwardMulti(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer table,
                       long blocks);

    /** Longest block of a multi-tensor table. */
    long MULTI_BLOCK_ELEMENTS = 4096;

    void preluForward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer y, OpLayout l);

    /** Writes dx and dw (dw overwritten with per-channel sums). */
    void preluBackward(DType t, DeviceBuffer x, DeviceBuffer w, long weightCount, DeviceBuffer dy,
                       DeviceBuffer dx, DeviceBuffer dw, OpLayout l);

    /**
     * Multi-pass softmax for rows longer than a chunk, pass 1: reduces {@code x[0, n)} to its max
     * (NaN-propagating) and the sum of {@code exp(x - max)} (0 when the max is not finite), written
     * as two float64 values at {@code stats[2 * slot]} and {@code stats[2 * slot + 1]}.
     *
     * @throws UnsupportedOperationException when the device has no float64 (OpenCL without cl_khr_fp64)
     */
    void softmaxPieceStats(DType t, DeviceBuffer x, long n, DeviceBuffer stats, long slot);

    /**
     * Pass 2: {@code y = exp(x - rowMax) / rowSum}, for log-softmax {@code x - rowMax - log(rowSum)}
     * ({@code args.op()}); {@code mode} 1 writes NaN (a NaN or +inf row, or an all -inf row),
     * 2 a fully masked row in safe mode (softmax 0, log-softmax -inf).
     */
    void softmaxPieceApply(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, long n, double rowMax, double rowSum,
                           int mode);

    /**
     * Multi-pass softmax backward, pass 2: the sum over {@code x[0, n)} of {@code dy * p} (softmax)
     * or of {@code dy} (log-softmax), {@code p = exp(x - rowMax) / rowSum}, as one float64 at
     * {@code dots[slot]}.
     */
    void softmaxPieceDot(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, long n, double rowMax, double rowSum,
                         DeviceBuffer dots, long slot);

    /**
     * Pass 3: {@code dx = p (dy - dot)} (softmax) or {@code dy - p dot} (log-softmax); {@code mode}
     * 1 writes NaN, 2 zeros (a fully masked row in safe mode).
     */
    void softmaxPieceBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long n,
                              double rowMax, double rowSum, double dot, int mode);

    void softmaxForward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer y, OpLayout l);

    void softmaxBackward(OpArgs args, DType t, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, OpLayout l);

    /**
     * Enqueues a device-to-device copy of the first {@code bytes} bytes of {@code src} into
     * {@code dst} (OpenCL {@code clEnqueueCopyBuffer}, CUDA {@code cuMemcpyDtoDAsync}). The copy is
     * the bandwidth roofline {@code soma bench} reports elementwise kernels against.
     *
     * @throws UnsupportedOperationException when the runtime has no device copy (the default)
     */
    default void copy(DeviceBuffer src, DeviceBuffer dst, long bytes) {
        throw new UnsupportedOperationException(description() + " has no device-to-device copy; "
                + "implement DeviceRuntime.copy to get the copy roofline in soma bench");
    }

    /**
     * The largest single buffer {@link #allocate} can make (OpenCL's CL_DEVICE_MAX_MEM_ALLOC_SIZE);
     * larger tensors are streamed.
     */
    default long maxBufferBytes() {
        return Long.MAX_VALUE;
    }

    /** A new queue (OpenCL) or stream (CUDA) for overlapping transfers and kernels; close it after use. */
    DeviceQueue openQueue();

    /** {@code bytes} of page-locked host memory for {@link DeviceQueue}'s asynchronous transfers. */
    PinnedMemory allocatePinned(long bytes);

    /** Waits until everything enqueued has finished. */
    void synchronize();

    /** Frees every buffer, kernel and context; idempotent. */
    @Override
    void close();
}
