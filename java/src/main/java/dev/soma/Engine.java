package dev.soma;

import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.Backends;
import dev.soma.backend.ChainStep;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceRuntime;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;

/**
 * Runs Soma's ops, forward and backward, on one backend. The entry point of the API:
 * <pre>{@code
 * try (Engine engine = Engine.create()) {                      // auto: a GPU if present, else the CPU
 *     Tensor x = Tensor.of(new float[] {-1f, 0f, 2f});
 *     Tensor y = engine.forward(Op.GELU, x);                     // new output
 *     engine.forward(OpArgs.of(Op.LEAKY_RELU).withAlpha(0.2), x, x); // in place
 *     Tensor dx = engine.backward(Op.GELU, x, dy);
 * }
 * }</pre>
 * Every argument is validated here, with messages that name the argument and the fix, before any
 * backend runs. An engine is safe to use from many threads at once; {@link #close()} waits for
 * calls in flight, and calls after it fail with {@link IllegalStateException}.
 */
public final class Engine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.soma");
    private final Backend backend;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;
    private final Set<DeviceTensor> liveDevice = ConcurrentHashMap.newKeySet();
    /** Runs the asynchronous variants in submission order, off the caller's thread; made on first use. */
    private volatile ExecutorService asyncWorker;

    private Engine(Backend backend) {
        this.backend = backend;
    }

    /** An engine on the best backend here: a GPU when one is usable, else the CPU. */
    public static Engine create() {
        return create(BackendKind.AUTO, null);
    }

    /** An engine on the named backend ("auto", "cpu", "opencl", "cuda"). */
    public static Engine create(String backend) {
        return create(BackendKind.parse(backend), null);
    }

    public static Engine create(BackendKind kind) {
        return create(kind, null);
    }

    /**
     * An engine on one backend and device.
     *
     * @param device device index or name substring; null for the backend's default
     * @throws dev.soma.backend.BackendUnavailableException when that backend cannot run here, saying why
     */
    public static Engine create(BackendKind kind, String device) {
        if (kind == null) {
            throw new IllegalArgumentException("backend kind is null; use BackendKind.AUTO for the default");
        }
        return new Engine(Backends.open(kind, device));
    }

    /** An engine over a backend built elsewhere (tests, benchmarks); the engine closes it. */
    public static Engine over(Backend backend) {
        if (backend == null) {
            throw new IllegalArgumentException("backend is null");
        }
        return new Engine(backend);
    }

    /** Which backend this engine runs on. */
    public BackendKind backendKind() {
        return backend.kind();
    }

    /** The backend and device in words. */
    public String description() {
        return backend.description();
    }

    /** The backend itself, for the offload and benchmark layers. */
    public Backend backend() {
        return backend;
    }

    /**
     * Caps the device memory one call may use (the CLI's {@code --device-memory}); tensors that do
     * not fit are streamed through the device in chunks. No effect on the CPU backend, which
     * computes in host memory without copies.
     *
     * @return this engine
     */
    public Engine setDeviceMemory(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device memory budget must be positive, got " + bytes + " bytes");
        }
        if (backend instanceof DeviceBackend d) {
            d.setMemoryBudget(bytes);
        }
        return this;
    }

    /** A chain of forward ops into a new tensor: see {@link #forwardChain(List, Tensor, Tensor, LongConsumer)}. */
    public Tensor forwardChain(List<ChainStep> steps, Tensor x) {
        return forwardChain(steps, x, null, null);
    }

    /**
     * {@code steps[n-1](... steps[0](x))} into {@code out} (may be {@code x}; null for a new tensor).
     * On a GPU each chunk crosses the bus once for the whole chain; on the CPU each chunk runs every
     * step while it is hot in the cache.
     *
     * @param progress told the output bytes done so far, now and then; may be null
     */
    public Tensor forwardChain(List<ChainStep> steps, Tensor x, Tensor out, LongConsumer progress) {
        if (steps == null || steps.isEmpty()) {
            throw new IllegalArgumentException("a chain needs at least one op");
        }
        return run(() -> {
            for (ChainStep s : steps) {
                if (s == null) {
                    throw new IllegalArgumentException("a chain step is null");
                }
                checkInput("x", x, s.args());
                if (s.weight() != null) {
                    checkWeight(x, s.weight());
                }
            }
            Tensor y = outputFor("out", out, x);
            backend.forwardChain(List.copyOf(steps), x, y, progress);
            return y;
        });
    }

    /**
     * {@code op(xs[i])} for many tensors at once (an optimizer's parameters, a network's layers):
     * one kernel launch over a table of offsets on a GPU, one parallel task set on the CPU.
     * Elementwise ops only (not PReLU or softmax); every tensor of one dtype.
     *
     * @return new tensors, one per input, in order
     */
    public List<Tensor> forwardMany(OpArgs args, List<Tensor> xs) {
        requireArgs(args);
        return run(() -> {
            checkMany(args, xs, null);
            List<Tensor> ys = xs.stream().map(Tensor::newLike).toList();
            backend.forwardMany(args, List.copyOf(xs), ys);
            return ys;
        });
    }

    /** dL/dx for many tensors at once ({@code dys[i]} matching {@code xs[i]}); see {@link #forwardMany}. */
    public List<Tensor> backwardMany(OpArgs args, List<Tensor> xs, List<Tensor> dys) {
        requireArgs(args);
        return run(() -> {
            checkMany(args, xs, dys);
            List<Tensor> dxs = xs.stream().map(Tensor::newLike).toList();
            backend.backwardMany(args, List.copyOf(xs), List.copyOf(dys), dxs);
            return dxs;
        });
    }

    private static void checkMany(OpArgs args, List<Tensor> xs, List<Tensor> dys) {
        if (args.op().family() != Family.ELEMENTWISE) {
            throw new IllegalArgumentException(args.op() + " is not elementwise; forwardMany/backwardMany take elementwise"
                    + " ops only (call forward per tensor for prelu and softmax)");
        }
        if (xs == null || xs.isEmpty()) {
            throw new IllegalArgumentException("xs is null or empty; pass at least one tensor");
        }
        if (dys != null && dys.size() != xs.size()) {
            throw new IllegalArgumentException("dys has " + dys.size() + " tensors but xs has " + xs.size());
        }
        for (int i = 0; i < xs.size(); i++) {
            Tensor x = xs.get(i);
            if (x == null) {
                throw new IllegalArgumentException("xs[" + i + "] is null");
            }
            if (x.dtype() != xs.get(0).dtype()) {
                throw new IllegalArgumentException("xs[" + i + "] is " + x.dtype().numpyName() + " but xs[0] is "
                        + xs.get(0).dtype().numpyName() + "; one call takes one dtype");
            }
            if (dys != null) {
                checkLike("dys[" + i + "]", dys.get(i), x);
            }
        }
    }

    // ---- device-resident tensors ----------------------------------------------------------------

    /** Copies a host tensor to the device (on the CPU backend: wraps a copy, so later host writes do not leak in). */
    public DeviceTensor upload(Tensor x) {
        return run(() -> {
            if (x == null) {
                throw new IllegalArgumentException("x is null");
            }
            if (backend instanceof DeviceBackend d) {
                DeviceRuntime rt = d.runtime();
                requireDeviceSupports(rt, x.dtype());
                DeviceBuffer b = rt.allocate(x.byteSize());
                try {
                    rt.upload(x.segment(), b, 0, x.byteSize());
                } catch (RuntimeException e) {
                    b.close();
                    throw e;
                }
                return track(new DeviceTensor(this, x.dtype(), x.shape(), b, null, "upload"));
            }
            return track(new DeviceTensor(this, x.dtype(), x.shape(), null, x.copy(), "upload"));
        });
    }

    /** The device tensor's elements in a new host tensor; waits for the ops before it. */
    public Tensor download(DeviceTensor d) {
        return run(() -> {
            checkDevice("d", d);
            Tensor out = Tensor.allocate(d.dtype(), d.shape());
            downloadInto(d, out);
            return out;
        });
    }

    /** Downloads on the engine's worker thread: host work can go on meanwhile. */
    public CompletableFuture<Tensor> downloadAsync(DeviceTensor d) {
        return async(() -> download(d));
    }

    /** {@code op(x)} for a device tensor, into a new device tensor; the host is not touched. */
    public DeviceTensor forward(OpArgs args, DeviceTensor x) {
        requireArgs(args);
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("prelu on device tensors is not supported; download, or use engine.prelu on host tensors");
        }
        return run(() -> {
            checkDevice("x", x);
            checkInputRank(args, x.rank());
            DeviceTensor y = allocateLike(x, args.op() + " forward");
            try {
                if (backend instanceof DeviceBackend d) {
                    DeviceRuntime rt = d.runtime();
                    OpLayout l = OpLayout.of(args, x.shape());
                    if (args.op().family() == Family.ROW_REDUCTION) {
                        rt.softmaxForward(args, x.dtype(), x.buffer(), y.buffer(), l);
                    } else {
                        rt.forward(args, x.dtype(), x.buffer(), y.buffer(), x.elementCount());
                    }
                } else {
                    backend.forward(args, x.host(), null, y.host());
                }
                return y;
            } catch (RuntimeException e) {
                y.close();
                throw e;
            }
        });
    }

    /** dL/dx for device tensors, into a new device tensor; the host is not touched. */
    public DeviceTensor backward(OpArgs args, DeviceTensor x, DeviceTensor dy) {
        requireArgs(args);
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("prelu on device tensors is not supported; use engine.preluBackward on host tensors");
        }
        return run(() -> {
            checkDevice("x", x);
            checkDevice("dy", dy);
            checkInputRank(args, x.rank());
            if (dy.dtype() != x.dtype() || !dy.sameShape(x)) {
                throw new IllegalArgumentException("dy is " + dy + " but x is " + x + "; they must match");
            }
            DeviceTensor g = allocateLike(x, args.op() + " backward");
            try {
                if (backend instanceof DeviceBackend d) {
                    DeviceRuntime rt = d.runtime();
                    OpLayout l = OpLayout.of(args, x.shape());
                    if (args.op().family() == Family.ROW_REDUCTION) {
                        rt.softmaxBackward(args, x.dtype(), x.buffer(), dy.buffer(), g.buffer(), l);
                    } else {
                        rt.backward(args, x.dtype(), x.buffer(), dy.buffer(), g.buffer(), x.elementCount());
                    }
                } else {
                    backend.backward(args, x.host(), null, dy.host(), g.host(), null);
                }
                return g;
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
        });
    }

    /** {@link #forward(OpArgs, DeviceTensor)} on the engine's worker thread; completes when the kernel has run. */
    public CompletableFuture<DeviceTensor> forwardAsync(OpArgs args, DeviceTensor x) {
        return async(() -> finished(forward(args, x)));
    }

    /** {@link #backward(OpArgs, DeviceTensor, DeviceTensor)} on the engine's worker thread. */
    public CompletableFuture<DeviceTensor> backwardAsync(OpArgs args, DeviceTensor x, DeviceTensor dy) {
        return async(() -> finished(backward(args, x, dy)));
    }

    /** Device tensors of this engine not yet closed. */
    public int liveDeviceTensors() {
        return liveDevice.size();
    }

    void released(DeviceTensor d) {
        liveDevice.remove(d);
    }

    private DeviceTensor track(DeviceTensor d) {
        liveDevice.add(d);
        return d;
    }

    private DeviceTensor allocateLike(DeviceTensor x, String origin) {
        if (backend instanceof DeviceBackend d) {
            return track(new DeviceTensor(this, x.dtype(), x.shape(), d.runtime().allocate(x.byteSize()), null, origin));
        }
        return track(new DeviceTensor(this, x.dtype(), x.shape(), null, Tensor.allocate(x.dtype(), x.shape()), origin));
    }

    private void downloadInto(DeviceTensor d, Tensor out) {
        if (backend instanceof DeviceBackend b) {
            b.runtime().download(d.buffer(), 0, out.segment(), out.byteSize());
        } else {
            java.lang.foreign.MemorySegment.copy(d.host().segment(), 0, out.segment(), 0, out.byteSize());
        }
    }

    private DeviceTensor finished(DeviceTensor t) {
        if (backend instanceof DeviceBackend d) {
            d.runtime().synchronize();
        }
        return t;
    }

    private <T> CompletableFuture<T> async(java.util.function.Supplier<T> work) {
        ExecutorService w = asyncWorker;
        if (w == null) {
            synchronized (this) {
                w = asyncWorker;
                if (w == null) {
                    w = Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(r, "soma-engine-async");
                        t.setDaemon(true);
                        return t;
                    });
                    asyncWorker = w;
                }
            }
        }
        return CompletableFuture.supplyAsync(work, w);
    }

    private void checkDevice(String name, DeviceTensor d) {
        if (d == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (d.engine() != this) {
            throw new IllegalArgumentException(name + " belongs to another engine; upload it to this one");
        }
        d.requireOpen();
    }

    private static void checkInputRank(OpArgs args, int rank) {
        if (args.op().family() == Family.ROW_REDUCTION) {
            args.resolveAxis(rank);
        }
    }

    private static void requireDeviceSupports(DeviceRuntime rt, dev.soma.op.DType t) {
        if (!rt.supports(t)) {
            throw new IllegalArgumentException(rt.description() + " cannot compute " + t.numpyName()
                    + " (no double-precision support); use float32 or --backend cpu");
        }
    }

    /** {@code op(x)} with PyTorch's default parameters, into a new tensor. */
    public Tensor forward(Op op, Tensor x) {
        return forward(OpArgs.of(op), x, null);
    }

    /** {@code op(x)} into a new tensor. */
    public Tensor forward(OpArgs args, Tensor x) {
        return forward(args, x, null);
    }

    /** {@code op(x)} into {@code out} (which may be {@code x}: in place), or a new tensor when null; returns it. */
    public Tensor forward(OpArgs args, Tensor x, Tensor out) {
        requireArgs(args);
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("prelu needs its weight: call engine.prelu(x, weight)");
        }
        return run(() -> {
            checkInput("x", x, args);
            Tensor y = outputFor("out", out, x);
            backend.forward(args, x, null, y);
            return y;
        });
    }

    /** PReLU: {@code x > 0 ? x : w[c]·x}, channel c along axis 1; {@code weight} has 1 or C elements. */
    public Tensor prelu(Tensor x, Tensor weight) {
        return prelu(x, weight, null);
    }

    /** PReLU into {@code out} (may be {@code x}), or a new tensor when null. */
    public Tensor prelu(Tensor x, Tensor weight, Tensor out) {
        OpArgs args = OpArgs.of(Op.PRELU);
        return run(() -> {
            checkInput("x", x, args);
            checkWeight(x, weight);
            Tensor y = outputFor("out", out, x);
            backend.forward(args, x, weight, y);
            return y;
        });
    }

    /** dL/dx of {@code op} at {@code x} given dL/dy, into a new tensor. */
    public Tensor backward(Op op, Tensor x, Tensor dy) {
        return backward(OpArgs.of(op), x, dy, null);
    }

    public Tensor backward(OpArgs args, Tensor x, Tensor dy) {
        return backward(args, x, dy, null);
    }

    /** dL/dx into {@code dx} (may alias {@code x} or {@code dy}), or a new tensor when null; returns it. */
    public Tensor backward(OpArgs args, Tensor x, Tensor dy, Tensor dx) {
        requireArgs(args);
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("prelu's backward needs its weight: call engine.preluBackward(x, weight, dy)");
        }
        return run(() -> {
            checkInput("x", x, args);
            checkLike("dy", dy, x);
            Tensor g = outputFor("dx", dx, x);
            backend.backward(args, x, null, dy, g, null);
            return g;
        });
    }

    /** PReLU's gradients with respect to x and to the weight, into new tensors. */
    public PreluGradients preluBackward(Tensor x, Tensor weight, Tensor dy) {
        return preluBackward(x, weight, dy, null, null);
    }

    /** PReLU's gradients into {@code dx} and {@code dw} (either may be null for a new tensor). */
    public PreluGradients preluBackward(Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw) {
        OpArgs args = OpArgs.of(Op.PRELU);
        return run(() -> {
            checkInput("x", x, args);
            checkWeight(x, weight);
            checkLike("dy", dy, x);
            Tensor gx = outputFor("dx", dx, x);
            Tensor gw = outputFor("dw", dw, weight);
            if (gw == weight || gw == x || gw == dy) {
                throw new IllegalArgumentException("dw must not alias weight, x or dy: it is written while they are read");
            }
            backend.backward(args, x, weight, dy, gx, gw);
            return new PreluGradients(gx, gw);
        });
    }

    /** Waits for calls in flight, then closes the backend; idempotent. */
    @Override
    public void close() {
        // Asynchronous calls finish first (they take the read lock, so waiting under the write lock would deadlock).
        ExecutorService w = asyncWorker;
        if (w != null) {
            w.shutdown();
            try {
                w.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                if (!liveDevice.isEmpty()) {
                    List<String> leaked = liveDevice.stream().map(DeviceTensor::toString).toList();
                    LOG.log(System.Logger.Level.WARNING, leaked.size() + " device tensor(s) were not closed and are freed"
                            + " with the engine: " + leaked);
                    for (DeviceTensor d : List.copyOf(liveDevice)) {
                        d.close();
                    }
                }
                backend.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private <T> T run(java.util.function.Supplier<T> call) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("engine is closed; create a new Engine to run more ops");
            }
            return call.get();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private static void requireArgs(OpArgs args) {
        if (args == null) {
            throw new IllegalArgumentException("op arguments are null; use OpArgs.of(op) for PyTorch's defaults");
        }
    }

    private static void checkInput(String name, Tensor t, OpArgs args) {
        if (t == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (args.op().family() == Family.ROW_REDUCTION) {
            args.resolveAxis(t.rank());
        }
    }

    private static void checkLike(String name, Tensor t, Tensor x) {
        if (t == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(name + " is " + t.dtype().numpyName() + " but x is "
                    + x.dtype().numpyName() + "; convert one so both match");
        }
        if (!t.sameShape(x)) {
            throw new IllegalArgumentException(name + " has shape " + t.shapeString() + " but x has "
                    + x.shapeString() + "; they must match");
        }
    }

    private static Tensor outputFor(String name, Tensor out, Tensor like) {
        if (out == null) {
            return like.newLike();
        }
        checkLike(name, out, like);
        return out;
    }

    private static void checkWeight(Tensor x, Tensor w) {
        if (w == null) {
            throw new IllegalArgumentException("prelu weight is null; pass a 1-D tensor of 1 or C elements");
        }
        if (w.dtype() != x.dtype()) {
            throw new IllegalArgumentException("prelu weight is " + w.dtype().numpyName() + " but x is "
                    + x.dtype().numpyName() + "; convert one so both match");
        }
        if (w.rank() != 1) {
            throw new IllegalArgumentException("prelu weight must be 1-D, got shape " + w.shapeString());
        }
        long channels = x.rank() >= 2 ? x.dim(1) : 1;
        long n = w.elementCount();
        if (n != 1 && n != channels) {
            throw new IllegalArgumentException("prelu weight has " + n + " elements but x " + x.shapeString()
                    + " has " + channels + " channel(s) along axis 1; pass 1 or " + channels + " weights");
        }
    }
}
