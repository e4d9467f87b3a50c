package dev.soma.leak;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A native resource's registration with the leak reporter, made by {@link Leaks#track}. The
 * resource keeps its guard and calls {@link #close()} when it frees its memory. The guard is also
 * the resource's {@link Cleaner} action, so it must never reference the resource: it holds only a
 * description. If the resource becomes unreachable while still open, the action records the leak
 * and logs one warning; it never frees native memory (that would run on the Cleaner's thread,
 * possibly while the device is in use, and without the context current).
 *
 * <p>A resource's close must keep the resource reachable until this guard is closed, with
 * {@link java.lang.ref.Reference#reachabilityFence} after the release when the close otherwise
 * stops using the resource early: compiled code may drop a reference at its last use, and a
 * collection during a slow release (one waiting for a lock) would then report a resource that is
 * being closed as dropped without close().
 */
public final class LeakGuard implements Runnable {
    private final NativeResource resource;
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Cleaner.Cleanable cleanable;

    LeakGuard(NativeResource resource) {
        this.resource = resource;
    }

    void attach(Cleaner.Cleanable c) {
        this.cleanable = c;
    }

    NativeResource resource() {
        return resource;
    }

    /**
     * The resource was freed by its own close(): no report. Returns true the first time only, so a
     * double close is counted once.
     */
    public boolean close() {
        if (!done.compareAndSet(false, true)) {
            return false;
        }
        Leaks.closed(this);
        deregister();
        return true;
    }

    /**
     * The resource was never closed, and its owner (an engine, a device runtime) is freeing it on
     * its own close: recorded as a leak without a log line (the owner logs one line for all).
     */
    public void closeAsLeak(String owner) {
        if (done.compareAndSet(false, true)) {
            Leaks.leaked(this, "not closed; freed by the close of " + owner, false);
            deregister();
        }
    }

    /** True once closed, or reported as leaked. */
    public boolean isDone() {
        return done.get();
    }

    /** The Cleaner's action: runs when the resource became unreachable, or (doing nothing) on close. */
    @Override
    public void run() {
        if (done.compareAndSet(false, true)) {
            Leaks.leaked(this, "unreachable without close(); the reporter freed nothing", true);
        }
    }

    private void deregister() {
        Cleaner.Cleanable c = cleanable;
        if (c != null) {
            c.clean(); // runs run() here, which sees done and does nothing; drops the Cleaner's reference
        }
    }
}
