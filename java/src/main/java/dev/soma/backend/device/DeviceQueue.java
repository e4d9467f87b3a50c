package dev.soma.backend.device;

import java.lang.foreign.MemorySegment;

/**
 * One extra in-order queue of a device (an OpenCL command queue, a CUDA stream), for the offload
 * pipeline: work enqueued on different queues may run at the same time (an upload on one, kernels
 * on another, a download on a third), work on one queue runs in order.
 *
 * <p>Kernels are enqueued through the runtime's ordinary launch methods, called inside
 * {@link #enqueue}: while it runs, every launch of the runtime made by the calling thread goes to
 * this queue. Transfers here never wait: the host memory must be {@link PinnedMemory} (or other
 * memory that stays valid and untouched) until {@link #synchronize()} returns.
 */
public interface DeviceQueue extends AutoCloseable {

    /** Enqueues a copy of {@code bytes} from host memory {@code src} to {@code dst} at {@code dstOffset}; returns at once. */
    void uploadAsync(MemorySegment src, DeviceBuffer dst, long dstOffset, long bytes);

    /** Enqueues a copy of {@code bytes} from {@code src} at {@code srcOffset} into host memory {@code dst}; returns at once. */
    void downloadAsync(DeviceBuffer src, long srcOffset, MemorySegment dst, long bytes);

    /** Runs {@code launches} (calls of the runtime's launch methods) with this queue as their target. */
    void enqueue(Runnable launches);

    /** Waits until everything enqueued here has finished; rethrows a failure of that work. */
    void synchronize();

    /** Waits for the queue's work and releases it; idempotent. */
    @Override
    void close();
}
