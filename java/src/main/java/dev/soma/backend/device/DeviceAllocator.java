package dev.soma.backend.device;

import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts every device buffer of one device context, as Arrow's allocators do: each buffer is
 * registered when allocated and released exactly once, so tests can assert that nothing leaked and
 * {@link #close()} can name what did. Thread-safe.
 */
public final class DeviceAllocator {
    private final String owner;
    private final long budgetBytes;
    /** What is needed to free each live buffer; never the buffers themselves, so a dropped one can be reported. */
    private final Set<DeviceAllocation> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private final AtomicLong totalAllocations = new AtomicLong();
    private final AtomicLong totalFrees = new AtomicLong();
    private final AtomicLong livePinned = new AtomicLong();
    private final AtomicLong livePinnedBytes = new AtomicLong();

    /**
     * @param owner       the device in words, for messages
     * @param budgetBytes the most this allocator may hold at once (the device's memory, or a user budget)
     */
    public DeviceAllocator(String owner, long budgetBytes) {
        this.owner = owner;
        this.budgetBytes = budgetBytes;
    }

    /**
     * Reserves {@code bytes} before the native allocation, so exhaustion is reported with what was
     * asked and what was free.
     *
     * @throws DeviceOutOfMemoryException when the budget would be exceeded
     */
    void reserve(long bytes) {
        long now = liveBytes.addAndGet(bytes);
        if (now > budgetBytes) {
            liveBytes.addAndGet(-bytes);
            throw new DeviceOutOfMemoryException(owner, bytes, Math.max(0, budgetBytes - (now - bytes)));
        }
        peakBytes.accumulateAndGet(now, Math::max);
    }

    /** Undoes {@link #reserve} when the native allocation itself failed. */
    void unreserve(long bytes) {
        liveBytes.addAndGet(-bytes);
    }

    /** Counts a buffer whose native allocation succeeded and registers it with the leak reporter. */
    DeviceAllocation registered(DeviceBuffer b, String kind, long bytes, Runnable release) {
        String description = b + " on " + owner;
        LeakGuard guard = Leaks.track(b, kind, bytes, description);
        DeviceAllocation a = new DeviceAllocation(this, bytes, description, release, guard);
        live.add(a);
        totalAllocations.incrementAndGet();
        return a;
    }

    void released(DeviceAllocation a) {
        if (live.remove(a)) {
            liveBytes.addAndGet(-a.bytes());
            totalFrees.incrementAndGet();
        }
    }

    void pinnedAllocated(long bytes) {
        livePinned.incrementAndGet();
        livePinnedBytes.addAndGet(bytes);
    }

    void pinnedFreed(long bytes) {
        livePinned.decrementAndGet();
        livePinnedBytes.addAndGet(-bytes);
    }

    /** Pinned host allocations ({@link PinnedMemory}) still open. */
    public long livePinned() {
        return livePinned.get();
    }

    public long livePinnedBytes() {
        return livePinnedBytes.get();
    }

    public long liveBuffers() {
        return live.size();
    }

    public long liveBytes() {
        return liveBytes.get();
    }

    public long peakBytes() {
        return peakBytes.get();
    }

    public long totalAllocations() {
        return totalAllocations.get();
    }

    /** Buffers freed so far, each counted once however often it was closed. */
    public long totalFrees() {
        return totalFrees.get();
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** Descriptions of the buffers still live, for leak reports. */
    public List<String> describeLive() {
        List<String> out = new ArrayList<>();
        for (DeviceAllocation a : live) {
            out.add(a.toString());
        }
        return out;
    }

    /**
     * Frees whatever is still live (the runtime is closing) and reports each as a leak to
     * {@link Leaks}: a buffer should have been closed by whoever allocated it.
     *
     * @return the leaked buffers' descriptions (empty when everything had been freed)
     */
    public List<String> closeAndReportLeaks() {
        List<String> leaked = describeLive();
        for (DeviceAllocation a : List.copyOf(live)) {
            try {
                a.freeAsLeak(owner);  // counted as released even if the native free fails (a lost device)
            } catch (RuntimeException e) {
                leaked.add("(freeing " + a + " failed: " + e.getMessage() + ")");
            }
        }
        return leaked;
    }
}
