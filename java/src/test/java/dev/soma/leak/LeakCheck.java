package dev.soma.leak;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The checks {@link LeakCheckExtension} runs around every test: nothing a test opened is still open
 * after it, nothing at all is open after its class, and, after a garbage collection, the Cleaner
 * reported no leak. Failures name each resource and, in strict mode, where it was allocated.
 * Tests of the reporter call these directly.
 */
public final class LeakCheck {
    /** Resources already blamed on one test or class, so one leak does not fail every later class too. */
    private static final Set<Long> BLAMED = ConcurrentHashMap.newKeySet();

    private LeakCheck() {
    }

    /** Fails if a resource registered after {@code sinceSequence} is still open. */
    public static void assertNoneOpenSince(long sinceSequence, String scope) {
        List<NativeResource> open = Leaks.open().stream()
                .filter(r -> r.sequence() > sinceSequence && !BLAMED.contains(r.sequence()))
                .toList();
        fail(open, "native resource(s) opened by " + scope + " are still open after it; close each one"
                + " (try-with-resources), or open shared ones in @BeforeAll and close them in @AfterAll");
    }

    /** Fails if any resource is still open. */
    public static void assertNoneOpen(String scope) {
        List<NativeResource> open = Leaks.open().stream().filter(r -> !BLAMED.contains(r.sequence())).toList();
        fail(open, "native resource(s) are still open after " + scope + "; close each one (try-with-resources)");
    }

    /** Collects garbage, lets the Cleaner run, and fails if it (or a closing owner) reported leaks. */
    public static void assertNoLeaksReported(String scope) {
        awaitCleaner();
        List<NativeResource> leaks = Leaks.takeReports();
        fail(leaks, "native resource(s) leaked during " + scope + " (never closed)");
    }

    /**
     * Runs the garbage collector until a fresh object registered with the leak reporter's Cleaner
     * has been cleaned, then waits until no further reports arrive for a moment: the Cleaner's queue
     * is last-in first-out, so other references found by the same collection may still be queued.
     */
    public static void awaitCleaner() {
        CountDownLatch cleaned = new CountDownLatch(1);
        Leaks.cleaner().register(new Object(), cleaned::countDown);
        try {
            for (int i = 0; i < 100 && cleaned.getCount() > 0; i++) {
                System.gc();
                cleaned.await(20, TimeUnit.MILLISECONDS);
            }
            if (cleaned.getCount() > 0) {
                throw new AssertionError("the leak reporter's Cleaner did not run within 2 s of System.gc()");
            }
            long before;
            do {
                before = Leaks.leakCount();
                Thread.sleep(20);
            } while (Leaks.leakCount() != before);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the leak reporter", e);
        }
    }

    /**
     * Collects garbage until the resource registered as {@code sequence} is reported as leaked, and
     * takes its report (so the suite's own check does not fail on a leak a test made on purpose).
     */
    public static NativeResource awaitReport(long sequence) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            awaitCleaner();
            NativeResource r = Leaks.takeReport(sequence);
            if (r != null) {
                return r;
            }
        }
        throw new AssertionError("resource #" + sequence + " was not reported within 5 s; open: " + Leaks.open());
    }

    /**
     * Lets the Cleaner run, then takes the reports of the resources registered after
     * {@code afterSequence} up to {@code upToSequence} (leaks a test made on purpose).
     */
    public static List<NativeResource> takeReportsBetween(long afterSequence, long upToSequence) {
        awaitCleaner();
        List<NativeResource> out = new java.util.ArrayList<>();
        for (long s = afterSequence + 1; s <= upToSequence; s++) {
            NativeResource r = Leaks.takeReport(s);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    /** Takes the report of resource {@code sequence} if there is one (a leak an owner's close reported). */
    public static NativeResource takeReport(long sequence) {
        return Leaks.takeReport(sequence);
    }

    private static void fail(List<NativeResource> found, String what) {
        if (found.isEmpty()) {
            return;
        }
        found.forEach(r -> BLAMED.add(r.sequence()));
        throw new AssertionError(found.size() + " " + what + ":\n" + found.stream()
                .map(r -> "  - " + r.details()).collect(Collectors.joining("\n")));
    }
}
