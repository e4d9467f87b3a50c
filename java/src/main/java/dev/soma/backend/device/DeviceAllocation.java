package dev.soma.backend.device;

import dev.soma.leak.LeakGuard;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the allocator keeps of one live {@link DeviceBuffer}: its size, its description and how to
 * free its native handle. It never references the buffer, so a buffer dropped without close()
 * becomes unreachable (and is reported by the leak reporter) while its memory stays counted here
 * until the buffer's runtime closes and frees it.
 */
final class DeviceAllocation {
    private final DeviceAllocator allocator;
    private final long bytes;
    private final String description;
    private final Runnable release;
    private final LeakGuard guard;
    private final AtomicBoolean freed = new AtomicBoolean();

    DeviceAllocation(DeviceAllocator allocator, long bytes, String description, Runnable release, LeakGuard guard) {
        this.allocator = allocator;
        this.bytes = bytes;
        this.description = description;
        this.release = release;
        this.guard = guard;
    }

    long bytes() {
        return bytes;
    }

    boolean isFreed() {
        return freed.get();
    }

    /** Frees the native memory the first time; later calls do nothing (a double close is counted once). */
    void free() {
        if (freed.compareAndSet(false, true)) {
            try {
                release.run();
            } finally {
                allocator.released(this);
                guard.close();
            }
        }
    }

    /** Frees it for an owner that is closing while the buffer is still open, and reports the leak. */
    void freeAsLeak(String owner) {
        if (freed.compareAndSet(false, true)) {
            try {
                release.run();
            } finally {
                allocator.released(this);
                guard.closeAsLeak(owner);
            }
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
