package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.soma.backend.device.DeviceBackend;
import dev.soma.leak.LeakCheck;
import dev.soma.leak.Leaks;
import dev.soma.leak.NativeResource;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Two threads on one OpenCL engine: one makes host-tensor calls (each allocates device buffers and
 * closes them before it returns), the other holds the runtime's lock, as a launch of a second
 * caller does, so a buffer's close waits there to release its {@code cl_mem}. A garbage collection
 * during that wait must not make the leak reporter report the buffer being closed: the close keeps
 * the buffer reachable until its registration is closed.
 *
 * <p>What this guards against: {@code DeviceBuffer.close()} reads its allocation record and then
 * no longer uses the buffer, so once the JIT has compiled it, the buffer was unreachable during the
 * wait for the lock; a collection then let the Cleaner report it as "unreachable without close()"
 * (16 threads sharing one engine found this in {@link EngineConcurrencyTest}). The race needs
 * compiled code, so the caller loops long enough to be compiled before the lock is taken; the test
 * then catches it waiting in the release many times and collects garbage each time.
 */
class BufferReleaseUnderContentionTest {
    /** Calls before the first round: enough for the JIT to compile the caller's loop with the close inlined. */
    private static final int WARM_UP_CALLS = 30_000;
    /** Rounds that must catch the caller waiting inside a buffer's release. */
    private static final int CAUGHT_ROUNDS = 20;
    private static final long DEADLINE_NANOS = 60_000_000_000L;

    @Test
    void aBufferWhoseReleaseWaitsForTheRuntimeLockIsNotReportedAsLeaked() throws Exception {
        try (Engine e = EngineConcurrencyTest.openClOrNull()) {
            assumeTrue(e != null, "no OpenCL device (printed above)");
            Object runtimeLock = ((DeviceBackend) e.backend()).runtime();
            Tensor x = Tensor.allocate(DType.F32, 64);
            OpArgs relu = OpArgs.of(Op.RELU);
            long before = Leaks.lastSequence();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong calls = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        e.forward(relu, x);
                        calls.incrementAndGet();
                    }
                } catch (RuntimeException | Error ex) {
                    failure.set(ex);
                }
            }, "host-calls");
            caller.start();
            int caught = 0;
            int rounds = 0;
            long deadline = System.nanoTime() + DEADLINE_NANOS;
            try {
                while (calls.get() < WARM_UP_CALLS && failure.get() == null && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                while (caught < CAUGHT_ROUNDS && failure.get() == null && System.nanoTime() < deadline) {
                    rounds++;
                    synchronized (runtimeLock) {
                        if (waitUntilBlocked(caller) && isReleasingABuffer(caller)) {
                            caught++;
                            LeakCheck.awaitCleaner();  // garbage collection while the close waits for the lock
                        }
                    }
                    Thread.sleep(1);  // let the caller run some calls between rounds
                }
            } finally {
                stop.set(true);
                caller.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a host call failed", failure.get());
            }
            List<NativeResource> reported = LeakCheck.takeReportsBetween(before, Leaks.lastSequence());
            assertEquals(List.of(), reported, "buffers closed by their call were reported as leaked while their"
                    + " close waited for the runtime lock (" + caught + " of " + rounds + " rounds caught a close)");
            assertTrue(caught >= CAUGHT_ROUNDS, "only " + caught + " of " + rounds + " rounds caught the caller inside"
                    + " a buffer's release within 60 s: the test did not exercise the race");
            EngineConcurrencyTest.assertNothingLeft(e);
        }
    }

    /** Waits (up to 2 s) until {@code t} is blocked on a monitor: the lock this thread holds. */
    private static boolean waitUntilBlocked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (t.getState() != Thread.State.BLOCKED) {
            if (!t.isAlive() || System.nanoTime() > deadline) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /** True when {@code t} is inside a device buffer's close (not in an allocation or a launch). */
    private static boolean isReleasingABuffer(Thread t) {
        for (StackTraceElement f : t.getStackTrace()) {
            if (f.getClassName().equals("dev.soma.backend.device.DeviceAllocation") && f.getMethodName().equals("free")) {
                return true;
            }
        }
        return false;
    }
}
