package dev.soma;

import dev.soma.backend.Backend;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The device-tensor side of one {@link Engine}: uploads, downloads and ops on {@link DeviceTensor}s
 * straight through the GPU runtime (no host copies), or over host tensors on the CPU backend; the
 * count of live device tensors, the leak report, and the worker thread behind the asynchronous
 * variants. The engine validates its lifecycle and calls in here.
 */
final class DeviceResidency {
    private static final System.Logger LOG = System.getLogger("dev.soma");

    private final Engine engine;
    private final Backend backend;
    /** The GPU runtime, or null on the CPU backend. */
    private final DeviceRuntime rt;
    /** The memory of each open device tensor (never the tensors: a dropped one must become unreachable to be reported). */
    private final Set<DeviceTensor.Memory> live = ConcurrentHashMap.newKeySet();
    /** Runs the asynchronous variants in submission order, off the caller's thread; made on first use. */
    private volatile ExecutorService worker;
    /** The worker's thread, so a close called from a future's callback on it does not wait for itself. */
    private volatile Thread workerThread;
    /** Set when the engine's close begins: asynchronous submissions are refused from then on. */
    private volatile boolean closing;

    DeviceResidency(Engine engine, Backend backend) {
        this.engine = engine;
        this.backend = backend;
        this.rt = backend instanceof DeviceBackend d ? d.runtime() : null;
    }

    DeviceTensor upload(Tensor x) {
        Checks.open("x", x);
        if (rt == null) {
            return track(new DeviceTensor(engine, x.dtype(), x.shape(), null, x.copy(), "upload"));
        }
        Checks.supported(backend, "x", x.dtype());
        DeviceBuffer b = rt.allocate(x.byteSize());
        try {
            rt.upload(x.segment(), b, 0, x.byteSize());
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return track(new DeviceTensor(engine, x.dtype(), x.shape(), b, null, "upload"));
    }

    Tensor download(DeviceTensor d) {
        check("d", d);
        Tensor out = Tensor.allocate(d.dtype(), d.shape());
        if (rt == null) {
            MemorySegment.copy(d.host().segment(), 0, out.segment(), 0, out.byteSize());
        } else {
            rt.download(d.buffer(), 0, out.segment(), out.byteSize());
        }
        return out;
    }

    /** The checks of {@link #forward}, also run eagerly by the asynchronous variant. */
    void checkForward(OpArgs args, DeviceTensor x) {
        refusePrelu(args);
        check("x", x);
        checkAxis(args, x.rank());
    }

    DeviceTensor forward(OpArgs args, DeviceTensor x) {
        checkForward(args, x);
        DeviceTensor y = allocateLike(x, args.op() + " forward");
        try {
            if (rt == null) {
                backend.forward(args, x.host(), null, y.host());
            } else if (args.op().family() == Family.ROW_REDUCTION) {
                rt.softmaxForward(args, x.dtype(), x.buffer(), y.buffer(), OpLayout.of(args, x.shape()));
            } else {
                rt.forward(args, x.dtype(), x.buffer(), y.buffer(), x.elementCount());
            }
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The checks of {@link #backward}, also run eagerly by the asynchronous variant. */
    void checkBackward(OpArgs args, DeviceTensor x, DeviceTensor dy) {
        refusePrelu(args);
        check("x", x);
        check("dy", dy);
        checkAxis(args, x.rank());
        if (dy.dtype() != x.dtype()) {
            throw new IllegalArgumentException("dy is " + dy.dtype().numpyName() + " but x is " + x.dtype().numpyName()
                    + "; upload gradients of x's dtype (float32 and float64 do not mix)");
        }
        if (!dy.sameShape(x)) {
            throw new IllegalArgumentException("dy has shape " + Tensor.shapeString(dy.shape()) + " but x has "
                    + Tensor.shapeString(x.shape()) + "; pass a device tensor of x's shape");
        }
    }

    DeviceTensor backward(OpArgs args, DeviceTensor x, DeviceTensor dy) {
        checkBackward(args, x, dy);
        DeviceTensor g = allocateLike(x, args.op() + " backward");
        try {
            if (rt == null) {
                backend.backward(args, x.host(), null, dy.host(), g.host(), null);
            } else if (args.op().family() == Family.ROW_REDUCTION) {
                rt.softmaxBackward(args, x.dtype(), x.buffer(), dy.buffer(), g.buffer(), OpLayout.of(args, x.shape()));
            } else {
                rt.backward(args, x.dtype(), x.buffer(), dy.buffer(), g.buffer(), x.elementCount());
            }
            return g;
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** Waits for the device work enqueued so far, then returns {@code t} (the async variants complete after the kernel). */
    DeviceTensor finished(DeviceTensor t) {
        if (rt != null) {
            rt.synchronize();
        }
        return t;
    }

    /**
     * Runs {@code work} on the worker thread, in submission order.
     *
     * @throws IllegalStateException "engine is closed" once the engine's close has begun: a
     *         submission then is refused at once rather than queued behind the close
     */
    <T> CompletableFuture<T> async(Supplier<T> work) {
        ExecutorService w = worker;
        if (w == null) {
            synchronized (this) {
                if (closing) {
                    throw Engine.closedException();
                }
                w = worker;
                if (w == null) {
                    w = Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(r, "soma-engine-async");
                        t.setDaemon(true);
                        workerThread = t;
                        return t;
                    });
                    worker = w;
                }
            }
        }
        if (closing) {
            throw Engine.closedException();
        }
        try {
            return CompletableFuture.supplyAsync(work, w);
        } catch (RejectedExecutionException e) {
            // The close shut the worker down between the check above and this submission.
            throw Engine.closedException();
        }
    }

    /**
     * Refuses new asynchronous submissions and lets the queued ones finish (called by the engine's
     * close before it takes its write lock). On the worker thread itself (a future's callback
     * closing the engine) it cannot wait for itself: the calls queued behind it then fail with
     * "engine is closed" instead of running.
     */
    void finishAsync() {
        ExecutorService w;
        synchronized (this) {
            closing = true;
            w = worker;
        }
        if (w == null) {
            return;
        }
        w.shutdown();
        if (Thread.currentThread() == workerThread) {
            return;
        }
        try {
            while (!w.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.log(System.Logger.Level.WARNING, "engine close is still waiting for asynchronous calls to finish");
            }
        } catch (InterruptedException e) {
            // The synchronous calls in flight are still waited for (the write lock); queued ones then fail cleanly.
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits for the device work that finished calls left queued (a device-tensor op returns once
     * its kernel is enqueued), so freeing the tensors that leaked never pulls memory from under a
     * running kernel. A device that fails here is reported and the close goes on.
     */
    void drainDevice() {
        if (rt == null) {
            return;
        }
        try {
            rt.synchronize();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "device work did not finish cleanly before the engine closed: " + e);
        }
    }

    /** Frees device tensors still open, naming them in a warning (the engine is closing). */
    void freeLeaked() {
        if (live.isEmpty()) {
            return;
        }
        List<String> leaked = live.stream().map(DeviceTensor.Memory::toString).toList();
        LOG.log(System.Logger.Level.WARNING, leaked.size() + " device tensor(s) were not closed and are freed with the"
                + " engine: " + leaked);
        for (DeviceTensor.Memory m : List.copyOf(live)) {
            m.freeAsLeak("engine on " + engine.description());
            live.remove(m);
        }
    }

    int live() {
        return live.size();
    }

    void released(DeviceTensor.Memory m) {
        live.remove(m);
    }

    private DeviceTensor track(DeviceTensor d) {
        live.add(d.memory());
        return d;
    }

    private DeviceTensor allocateLike(DeviceTensor x, String origin) {
        if (rt == null) {
            return track(new DeviceTensor(engine, x.dtype(), x.shape(), null, Tensor.allocate(x.dtype(), x.shape()), origin));
        }
        return track(new DeviceTensor(engine, x.dtype(), x.shape(), rt.allocate(x.byteSize()), null, origin));
    }

    /** A device tensor of this engine, still open. */
    void check(String name, DeviceTensor d) {
        Checks.notNull(d, name, "pass a device tensor from engine.upload or an op of this engine");
        if (d.engine() != engine) {
            throw new IllegalArgumentException(name + " belongs to another engine (" + d.engine().description()
                    + "); download it there and upload it to this one");
        }
        if (d.isClosed()) {
            throw new IllegalStateException(name + " (" + d + ") is closed; keep it open while ops use it");
        }
    }

    private static void refusePrelu(OpArgs args) {
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("args: prelu on device tensors is not supported yet; use engine.prelu and"
                    + " engine.preluBackward on host tensors");
        }
    }

    private static void checkAxis(OpArgs args, int rank) {
        if (args.op().family() == Family.ROW_REDUCTION) {
            args.resolveAxis(rank);
        }
    }
}
