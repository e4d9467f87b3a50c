package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.backend.BackendKind;
import dev.soma.backend.ChainStep;
import dev.soma.leak.LeakCheck;
import dev.soma.leak.Leaks;
import dev.soma.leak.NativeResource;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Engine#close()} while other threads are using the engine: every call either completes
 * with the right result or fails with "engine is closed", never anything else; close returns once
 * the calls in flight are done; afterwards nothing is left (device buffers, pinned memory, device
 * tensors) and every entry point refuses. Also the two ways a close could wait for itself.
 */
class EngineCloseTest {
    private static final int THREADS = 12;
    private static final String CLOSED = "engine is closed";

    static Engine open(String kind) {
        if (kind.equals("opencl")) {
            Engine e = EngineConcurrencyTest.openClOrNull();
            org.junit.jupiter.api.Assumptions.assumeTrue(e != null, "no OpenCL device (printed above)");
            return e;
        }
        return Engine.create(BackendKind.CPU);
    }

    /**
     * Calls whose results are the same bits on every JIT tier (piecewise-linear ops, PReLU), so a
     * result that comes back is checked exactly: a buffer freed under a kernel would show here.
     */
    private static List<EngineCall> calls(Engine e) {
        SplittableRandom r = new SplittableRandom(7);
        Op[] ops = {Op.RELU, Op.LEAKY_RELU, Op.RELU6, Op.HARDSIGMOID, Op.HARDSWISH, Op.PRELU};
        List<EngineCall> out = new ArrayList<>();
        for (EngineCall.Entry entry : EngineCall.Entry.values()) {
            for (int k = 0; k < 3; k++) {
                Op op = ops[r.nextInt(ops.length)];
                if (op == Op.PRELU && entry.name().startsWith("DEVICE") || op == Op.PRELU && entry.name().endsWith("MANY")) {
                    op = Op.RELU;
                }
                DType t = EngineConcurrencyTest.supportsF64(e) && r.nextBoolean() ? DType.F64 : DType.F32;
                long[] shape = EngineCall.randomShape(r, k == 0);
                out.add(EngineCall.of(entry, EngineCall.randomArgs(r, op, shape.length), t, shape, r.nextLong()));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void closeWhileThreadsHammerWaitsOrFailsCleanlyAndLeavesNothing(String kind) throws Exception {
        Engine e = open(kind);
        List<EngineCall> calls = calls(e);
        List<List<Tensor>> expected = new ArrayList<>();
        for (EngineCall c : calls) {
            expected.add(c.run(e));
        }
        long beforeHammer = Leaks.lastSequence();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch running = new CountDownLatch(THREADS);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            long seed = i;
            Thread th = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(seed);
                boolean first = true;
                while (true) {
                    int k = r.nextInt(calls.size());
                    try {
                        List<Tensor> got = calls.get(k).run(e);
                        for (int o = 0; o < got.size(); o++) {
                            String d = Bits.firstDifference(expected.get(k).get(o), got.get(o));
                            if (d != null) {
                                failures.add(calls.get(k) + ": " + d);
                            }
                        }
                        completed.incrementAndGet();
                    } catch (IllegalStateException ex) {
                        if (ex.getMessage() == null || !ex.getMessage().startsWith(CLOSED)) {
                            failures.add(calls.get(k) + ": threw " + ex);
                        }
                        refused.incrementAndGet();
                        return;
                    } catch (RuntimeException | Error ex) {
                        failures.add(calls.get(k) + ": threw " + ex);
                        return;
                    } finally {
                        if (first) {
                            running.countDown();
                            first = false;
                        }
                    }
                }
            }, "hammer-" + i);
            threads.add(th);
            th.start();
        }
        assertTrue(running.await(120, TimeUnit.SECONDS), "the threads never got going");
        Thread.sleep(200);
        long t0 = System.nanoTime();
        assertTimeoutPreemptively(Duration.ofSeconds(120), e::close, "close did not return");
        double closeMs = (System.nanoTime() - t0) / 1e6;
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(120));
            assertTrue(!th.isAlive(), th.getName() + " is still running after the close");
        }
        System.out.printf("close under load (%s): %d calls completed, %d refused, close took %.0f ms%n", kind,
                completed.get(), refused.get(), closeMs);
        if (!failures.isEmpty()) {
            fail(failures.size() + " calls failed other than cleanly:\n" + String.join("\n", failures.stream().limit(10).toList()));
        }
        assertEquals(THREADS, refused.get(), "every thread ends on the 'engine is closed' refusal");
        // A thread inside a device-tensor call (between its upload and its try-with-resources close)
        // still holds its device tensors when the close lands: the engine frees them and reports
        // them as leaks, as it must, and the thread's own close is then a no-op. Those reports are
        // the only ones allowed: device tensors freed by the engine's close (not dropped: a report
        // from the Cleaner would be a real leak), at most three per thread (DEVICE_BACKWARD holds
        // x, dy and the gradient). Device buffers and pinned memory are never reported.
        List<NativeResource> freedByClose = LeakCheck.takeReportsBetween(beforeHammer, Leaks.lastSequence());
        assertTrue(freedByClose.stream().allMatch(r -> r.kind().equals("device tensor")
                        && r.leak().startsWith("not closed; freed by the close of engine")),
                () -> "only device tensors held across the close may be reported, freed by the close: " + freedByClose);
        assertTrue(freedByClose.size() <= 3 * THREADS, () -> freedByClose.size() + " device tensors freed by the close,"
                + " more than the threads can hold: " + freedByClose);
        EngineConcurrencyTest.assertNothingLeft(e);
        assertRefusesEverything(e);
    }

    /** Every entry point of a closed engine: IllegalStateException naming the closed engine, never a crash. */
    private static void assertRefusesEverything(Engine e) {
        Tensor x = Tensor.of(new float[] {-1f, 0f, 2f});
        OpArgs relu = OpArgs.of(Op.RELU);
        List<Runnable> refusals = List.of(
                () -> e.forward(relu, x),
                () -> e.forward(relu, x, x),
                () -> e.backward(relu, x, x),
                () -> e.prelu(x, Tensor.of(new float[] {0.25f})),
                () -> e.preluBackward(x, Tensor.of(new float[] {0.25f}), x),
                () -> e.forwardChain(List.of(ChainStep.of(relu)), x),
                () -> e.forwardMany(relu, List.of(x)),
                () -> e.backwardMany(relu, List.of(x), List.of(x)),
                () -> e.upload(x),
                () -> e.forwardAsync(relu, null),
                () -> e.backwardAsync(relu, null, null),
                () -> e.downloadAsync(null));
        for (Runnable call : refusals) {
            IllegalStateException ex = assertThrows(IllegalStateException.class, call::run);
            assertTrue(ex.getMessage().startsWith(CLOSED), ex.getMessage());
        }
        e.close();  // idempotent
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void closeFromInsideAProgressCallbackIsRefusedInsteadOfWaitingForItself(String kind) {
        // Not try-with-resources: if the close inside the call deadlocked, a second close would hang the suite.
        Engine e = open(kind);
        Tensor x = Tensor.of(new float[] {-1f, 0f, 2f});
        IllegalStateException ex = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(
                IllegalStateException.class,
                () -> e.forwardChain(List.of(ChainStep.of(OpArgs.of(Op.RELU))), x, null, done -> e.close())));
        assertTrue(ex.getMessage().contains("from inside one of its own calls"), ex.getMessage());
        assertEquals(2.0, e.forward(Op.RELU, x).get(2), "the engine is still open and works");
        e.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void closeFromAFutureCallbackDoesNotWaitForItself(String kind) throws Exception {
        Engine e = open(kind);
        OpArgs tanh = OpArgs.of(Op.TANH);
        // Large enough that the callback is attached long before the kernel is done, so it runs on the worker.
        // Left open across the close on purpose: the engine must free it (and report it, taken below).
        DeviceTensor d = e.upload(Tensor.allocate(DType.F32, 1 << 22));
        long upload = Leaks.lastSequence();
        String[] callbackThread = new String[1];
        CompletableFuture<Void> closed = e.forwardAsync(tanh, d).thenAccept(y -> {
            callbackThread[0] = Thread.currentThread().getName();
            // The result is the callback's to close, before the engine (afterwards it would already be
            // freed and reported by the engine's close as a tensor its owner never closed).
            y.close();
            e.close();
        });
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> closed.get(), "close on the worker thread hung");
        assertEquals("soma-engine-async", callbackThread[0], "the callback should have run on the engine's worker");
        assertEquals(0, e.liveDeviceTensors(), "the device tensors are freed with the engine");
        EngineConcurrencyTest.assertNothingLeft(e);
        NativeResource input = LeakCheck.takeReport(upload);
        assertTrue(input != null && input.leak().startsWith("not closed; freed by the close of engine"),
                () -> "the input left open across the close is freed and reported by the engine's close: " + input);
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> e.forwardAsync(tanh, d));
        assertTrue(ex.getMessage().startsWith(CLOSED), ex.getMessage());
        d.close();  // already freed by the engine: a no-op
    }
    /**
     * A device tensor closed by one thread while another runs ops on it: each op either completes
     * or fails with an IllegalStateException saying the tensor (or its buffer) is closed; never a
     * driver error from a released buffer, never a crash; nothing leaks.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void closingADeviceTensorWhileAnotherThreadUsesItFailsCleanly(String kind) throws Exception {
        try (Engine e = open(kind)) {
            OpArgs relu = OpArgs.of(Op.RELU);
            Tensor x = Tensor.allocate(DType.F32, 1 << 16);
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            AtomicInteger refused = new AtomicInteger();
            for (int round = 0; round < 100; round++) {
                DeviceTensor d = e.upload(x);
                CountDownLatch started = new CountDownLatch(1);
                Thread user = new Thread(() -> {
                    while (true) {
                        try (DeviceTensor y = e.forward(relu, d)) {
                            started.countDown();
                        } catch (IllegalStateException ex) {
                            if (ex.getMessage() == null || !ex.getMessage().matches("(?s).*(is closed|already freed|already closed).*")) {
                                failures.add("threw " + ex);
                            }
                            refused.incrementAndGet();
                            return;
                        } catch (RuntimeException | Error ex) {
                            failures.add("threw " + ex);
                            return;
                        } finally {
                            started.countDown();
                        }
                    }
                });
                user.start();
                assertTrue(started.await(60, TimeUnit.SECONDS));
                d.close();
                user.join(TimeUnit.SECONDS.toMillis(60));
                assertTrue(!user.isAlive(), "the op loop did not stop after its tensor was closed");
            }
            if (!failures.isEmpty()) {
                fail(failures.size() + " ops failed other than cleanly: " + failures.stream().limit(5).toList());
            }
            assertEquals(100, refused.get());
            EngineConcurrencyTest.assertNothingLeft(e);
        }
    }
}
