package dev.soma.fallback.vector;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Splits a range of work items into chunks run on a shared daemon pool sized to the machine, with the
 * calling thread working too. Chunk boundaries depend only on the range and the grain, never on
 * timing, so results are the same however the chunks land on threads.
 *
 * <p>Claiming chunks from a shared counter (instead of handing each thread a fixed slice) balances
 * the load when other processes take cores away, and means a caller never waits on a helper that
 * has not started: a helper that arrives late finds nothing left and returns.
 */
final class Parallel {
    /** Threads that compute (the caller plus pool helpers). */
    static final int THREADS = Math.max(1, Integer.getInteger("soma.cpu.threads",
            Runtime.getRuntime().availableProcessors()));
    /** Chunks per thread: enough to rebalance when a core is busy, few enough to keep chunks large. */
    private static final int CHUNKS_PER_THREAD = 4;

    private static final ForkJoinPool POOL = THREADS == 1 ? null : new ForkJoinPool(THREADS - 1, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("soma-cpu-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }, null, true);

    private Parallel() {
    }

    /** Work on the items [from, to) of a range. */
    @FunctionalInterface
    interface Body {
        void run(long from, long to);
    }

    /** Work on chunk number {@code chunk}, items [from, to). */
    @FunctionalInterface
    interface ChunkBody {
        void run(int chunk, long from, long to);
    }

    /** How a range is cut: {@code chunks} chunks of {@code size} items, the last one shorter. */
    record Plan(long items, long size, int chunks) {
        long from(int c) {
            return c * size;
        }

        long to(int c) {
            return Math.min(items, (c + 1) * size);
        }
    }

    /**
     * Cuts [0, items) for {@link #run}: one chunk when {@code items * cost} is below
     * {@code threshold} (the calling thread does it all), else up to {@value #CHUNKS_PER_THREAD} chunks
     * per thread, each at least half the threshold's work and a whole multiple of {@code align} items.
     *
     * @param cost work per item in the threshold's unit (elements per row for softmax, else 1)
     */
    static Plan plan(long items, long cost, long threshold, long align) {
        long work = items * cost;
        if (items <= 0 || POOL == null || work < threshold || items < 2 * align) {
            return new Plan(Math.max(0, items), Math.max(1, items), items <= 0 ? 0 : 1);
        }
        long byWork = Math.max(2, work / Math.max(1, threshold / 2));
        int chunks = (int) Math.min(Math.min((long) THREADS * CHUNKS_PER_THREAD, byWork), items / align);
        long size = ceilDiv(ceilDiv(items, chunks), align) * align;
        return new Plan(items, size, (int) ceilDiv(items, size));
    }

    /**
     * Most chunks of a {@link #planIndependentOfThreads} plan: enough to keep 32 threads busy,
     * few enough that per-chunk partial sums (one per PReLU channel) stay small.
     */
    static final int FIXED_MAX_CHUNKS = 32;

    /**
     * Cuts [0, items) as {@link #plan} does, but into a number of chunks that depends on the work
     * alone, never on the machine's thread count: for reductions whose per-chunk partial results
     * are combined afterwards (PReLU's dw), so that the sum, and its rounding, is the same on one
     * core and on sixty-four. The chunks still run on every thread there is.
     */
    static Plan planIndependentOfThreads(long items, long cost, long threshold, long align) {
        long work = items * cost;
        if (items <= 0 || work < threshold || items < 2 * align) {
            return new Plan(Math.max(0, items), Math.max(1, items), items <= 0 ? 0 : 1);
        }
        long byWork = Math.max(2, work / Math.max(1, threshold / 2));
        int chunks = (int) Math.min(Math.min(FIXED_MAX_CHUNKS, byWork), items / align);
        long size = ceilDiv(ceilDiv(items, chunks), align) * align;
        return new Plan(items, size, (int) ceilDiv(items, size));
    }

    /** Runs every chunk of the plan: on the calling thread alone when there is one. */
    static void run(Plan plan, ChunkBody body) {
        if (plan.chunks() == 1) {
            body.run(0, 0, plan.items());
        } else if (plan.chunks() > 1) {
            new Job(body, plan).runWithHelpers();
        }
    }

    /** {@link #plan} then {@link #run}. */
    static void forRange(long items, long cost, long threshold, long align, Body body) {
        run(plan(items, cost, threshold, align), (c, from, to) -> body.run(from, to));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static final class Job implements Runnable {
        private final ChunkBody body;
        private final Plan plan;
        private final int chunks;
        private final AtomicInteger next = new AtomicInteger();
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(ChunkBody body, Plan plan) {
            this.body = body;
            this.plan = plan;
            this.chunks = plan.chunks();
            this.done = new CountDownLatch(chunks);
        }

        void runWithHelpers() {
            int helpers = Math.min(chunks, THREADS) - 1;
            for (int h = 0; h < helpers; h++) {
                POOL.execute(this);
            }
            run();
            boolean interrupted = false;
            // Never return while a helper may still write the output, even when interrupted.
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error err) {
                throw err;
            }
            if (t != null) {
                throw new IllegalStateException("CPU kernel chunk failed", t);
            }
        }

        @Override
        public void run() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    body.run(c, plan.from(c), plan.to(c));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            }
        }
    }
}
