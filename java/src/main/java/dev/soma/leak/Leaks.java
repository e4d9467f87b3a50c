package dev.soma.leak;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The leak reporter: every native resource Soma owns (device buffers, pinned host memory, device
 * queues and contexts, engines, device tensors, off-heap tensors) registers here when it is made
 * and deregisters when it is closed. A resource that becomes unreachable while still open is
 * reported by a {@link Cleaner}: recorded here ({@link #reports()}) and logged as one warning line
 * on the "dev.soma" {@link System.Logger}. The reporter never frees anything: device memory can
 * only be freed safely by its owner's thread, with the device's context current, so a leaked
 * buffer stays allocated until its runtime closes.
 *
 * <p>Strict mode, {@code -Dsoma.leaks=strict}, also records each resource's allocation site (a
 * stack trace), so a report names the line that should have closed it. Soma's test suite runs
 * strict and fails any test class that leaves a resource open or leaks one.
 */
public final class Leaks {
    /** The system property that turns strict mode on ({@code strict}). */
    public static final String PROPERTY = "soma.leaks";
    private static final System.Logger LOG = System.getLogger("dev.soma");
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "soma-leak-reporter");
        t.setDaemon(true);
        return t;
    });
    private static final Set<LeakGuard> OPEN = ConcurrentHashMap.newKeySet();
    /** Reports kept for {@link #reports()}: the latest ones, so a program leaking in a loop does not grow without bound. */
    static final int MAX_KEPT_REPORTS = 1024;
    private static final ConcurrentLinkedQueue<NativeResource> REPORTS = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger KEPT = new AtomicInteger();
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final AtomicLong CLOSED = new AtomicLong();
    private static final AtomicLong LEAKED = new AtomicLong();

    private Leaks() {
    }

    /** True when {@code soma.leaks=strict}: allocation sites are recorded. Read at each allocation. */
    public static boolean strict() {
        return "strict".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());
    }

    /**
     * Registers a resource that was just allocated. The resource keeps the guard and calls
     * {@link LeakGuard#close()} when it frees its memory.
     *
     * @param resource    the object whose reachability is watched (never referenced by the guard)
     * @param kind        what it is, e.g. "OpenCL buffer"
     * @param bytes       native bytes it holds, 0 for handles
     * @param description the resource in words, with its device
     */
    public static LeakGuard track(Object resource, String kind, long bytes, String description) {
        Throwable site = strict() ? new AllocationSite(kind) : null;
        LeakGuard g = new LeakGuard(new NativeResource(SEQUENCE.incrementAndGet(), kind, bytes, description, site, null));
        OPEN.add(g);
        g.attach(CLEANER.register(resource, g));
        return g;
    }

    /** Resources registered and not yet closed nor reported, oldest first. */
    public static List<NativeResource> open() {
        List<NativeResource> out = new ArrayList<>();
        for (LeakGuard g : OPEN) {
            out.add(g.resource());
        }
        out.sort(Comparator.comparingLong(NativeResource::sequence));
        return out;
    }

    /** How many resources are open now. */
    public static int openCount() {
        return OPEN.size();
    }

    /** The sequence number of the last resource registered (resources opened later have larger ones). */
    public static long lastSequence() {
        return SEQUENCE.get();
    }

    /** Resources ever registered. */
    public static long registeredCount() {
        return SEQUENCE.get();
    }

    /** Resources closed properly (each counted once, however often close() was called). */
    public static long closedCount() {
        return CLOSED.get();
    }

    /** Leaks reported since the start (not reset by {@link #takeReports()}). */
    public static long leakCount() {
        return LEAKED.get();
    }

    /** The leaks reported and not yet taken, oldest first (at most the latest 1024). */
    public static List<NativeResource> reports() {
        return List.copyOf(REPORTS);
    }

    /** Returns the leaks reported so far and forgets them (tests, monitors that poll). */
    public static List<NativeResource> takeReports() {
        List<NativeResource> out = new ArrayList<>();
        for (NativeResource r; (r = REPORTS.poll()) != null; ) {
            KEPT.decrementAndGet();
            out.add(r);
        }
        return out;
    }

    /** Removes and returns the report of the resource registered as {@code sequence}, or null (tests). */
    static NativeResource takeReport(long sequence) {
        for (NativeResource r : REPORTS) {
            if (r.sequence() == sequence && REPORTS.remove(r)) {
                KEPT.decrementAndGet();
                return r;
            }
        }
        return null;
    }

    /** The Cleaner every guard is registered with (the test suite waits on it). */
    static Cleaner cleaner() {
        return CLEANER;
    }

    static void closed(LeakGuard g) {
        OPEN.remove(g);
        CLOSED.incrementAndGet();
    }

    static void leaked(LeakGuard g, String how, boolean log) {
        OPEN.remove(g);
        NativeResource r = g.resource().leaked(how);
        REPORTS.add(r);
        LEAKED.incrementAndGet();
        if (KEPT.incrementAndGet() > MAX_KEPT_REPORTS && REPORTS.poll() != null) {
            KEPT.decrementAndGet();
        }
        if (log) {
            LOG.log(System.Logger.Level.WARNING, "leak: " + r.summary() + "; close it (try-with-resources)"
                    + (r.allocationSite() == null ? ", or run with -D" + PROPERTY + "=strict to see where it was allocated" : ""));
        }
    }
}
