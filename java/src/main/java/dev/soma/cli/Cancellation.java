package dev.soma.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT, SIGTERM) during a long run: a shutdown hook interrupts the working thread, which
 * stops between chunks and unwinds (the output's temporary file deleted, device buffers freed),
 * and the hook waits for that before the JVM exits. Closing this once the work is done removes
 * the hook.
 */
final class Cancellation implements AutoCloseable {
    /** How long the JVM's exit waits for the working thread to clean up. */
    private static final long GRACE_SECONDS = 20;

    private final Thread worker = Thread.currentThread();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook = new Thread(this::cancel, "soma-cancel");
    private volatile boolean requested;

    private Cancellation() {
    }

    /** Installs the hook for the calling thread's work. */
    static Cancellation onShutdown() {
        Cancellation c = new Cancellation();
        Runtime.getRuntime().addShutdownHook(c.hook);
        return c;
    }

    private void cancel() {
        requested = true;
        worker.interrupt();
        try {
            finished.await(GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Throws if Ctrl-C came while the work ran (a kernel that does not look at interrupts may finish
     * anyway): call it just before committing outputs, so a cancelled run never replaces a file.
     *
     * @param what the outputs, for the message
     */
    void checkNotCancelled(String what) {
        if (requested || Thread.currentThread().isInterrupted()) {
            throw new IllegalStateException("cancelled; " + what + " was not written");
        }
    }

    /**
     * Marks the work finished; list this resource first in a try-with-resources so it closes last,
     * after the output and engine it guards.
     */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is running and was waiting for this.
        }
    }
}
