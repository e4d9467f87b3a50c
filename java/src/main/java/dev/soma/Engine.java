package dev.soma;

import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.Backends;
import dev.soma.backend.ChainStep;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * Beyond one op on host tensors: {@link #forwardChain} runs several ops per chunk (one trip over
 * the bus on a GPU), {@link #setDeviceMemory} caps device memory (larger tensors are streamed),
 * {@link #upload} and the {@link DeviceTensor} overloads keep a training loop's tensors on the
 * device, and {@link #forwardMany} runs many small tensors in one launch.
 * Every argument is validated here, with messages that name the argument and the fix, before any
 * allocation or backend work ({@link Checks}): {@link NullPointerException} for a null,
 * {@link IllegalStateException} for a closed engine or tensor, {@link IllegalArgumentException} for a
 * bad value (shapes, dtypes, overlapping outputs, axes, PReLU weights, dtypes the device lacks).
 * An engine is safe to use from many threads at once; {@link #close()} waits for calls in flight,
 * and calls after it fail with {@link IllegalStateException}. An engine dropped without close() is
 * reported by the leak reporter ({@link dev.soma.leak.Leaks}); its device context is not freed
 * until the process ends.
 */
public final class Engine implements AutoCloseable {
    private final Backend backend;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;
    private final DeviceResidency residency;
    /** Reports an engine dropped without close() (its backend's device context leaks with it). */
    private final LeakGuard guard;

    private Engine(Backend backend) {
        this.backend = backend;
        this.residency = new DeviceResidency(this, backend);
        this.guard = Leaks.track(this, "engine", 0, "engine on " + backend.description());
    }

    /**
     * An engine on the best backend here: a GPU when one is usable, else the CPU. A GPU that fails
     * at start-up (its context, or a first kernel built and checked on three values) is closed and
     * the CPU used instead, with one warning line on the {@code dev.soma} System.Logger; an explicit
     * backend never changes, it fails with the reason.
     */
    public static Engine create() {
        return create(BackendKind.AUTO, null);
    }

    /** An engine on the named backend ("auto", "cpu", "opencl", "cuda"). */
    public static Engine create(String backend) {
        Checks.notNull(backend, "backend", "pass \"auto\", \"cpu\", \"opencl\" or \"cuda\"");
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
        Checks.notNull(kind, "kind", "use BackendKind.AUTO for the default");
        return new Engine(Backends.open(kind, device));
    }

    /** An engine over a backend built elsewhere (tests, benchmarks); the engine closes it. */
    public static Engine over(Backend backend) {
        Checks.notNull(backend, "backend", "pass an open Backend, or use Engine.create()");
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
            throw new IllegalArgumentException("bytes: the device memory budget must be positive, got " + bytes
                    + "; pass a size in bytes, e.g. 512L << 20 for 512 MiB");
        }
        return run(() -> {
            if (backend instanceof DeviceBackend d) {
                d.setMemoryBudget(bytes);
            }
            return this;
        });
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
        Checks.notNull(steps, "steps", "pass a list of at least one ChainStep");
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("steps is empty; a chain needs at least one op");
        }
        return run(() -> {
            checkInput("x", x);
            Checks.writable("out", out, "x", x);
            Checks.noOverlap("out", out, "x", x, true);
            for (int i = 0; i < steps.size(); i++) {
                ChainStep s = Checks.notNull(steps.get(i), "steps[" + i + "]", "pass ChainStep.of(args) for each op");
                checkAxis(s.args(), x);
                if (s.weight() != null) {
                    Checks.preluWeight("steps[" + i + "].weight", s.weight(), x);
                    Checks.noOverlap("out", out, "steps[" + i + "].weight", s.weight(), false);
                }
            }
            Tensor y = Checks.output("out", out, "x", x);
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
            checkMany(args, xs, null, false);
            List<Tensor> ys = xs.stream().map(Tensor::newLike).toList();
            backend.forwardMany(args, List.copyOf(xs), ys);
            return ys;
        });
    }

    /** dL/dx for many tensors at once ({@code dys[i]} matching {@code xs[i]}); see {@link #forwardMany}. */
    public List<Tensor> backwardMany(OpArgs args, List<Tensor> xs, List<Tensor> dys) {
        requireArgs(args);
        return run(() -> {
            checkMany(args, xs, dys, true);
            List<Tensor> dxs = xs.stream().map(Tensor::newLike).toList();
            backend.backwardMany(args, List.copyOf(xs), List.copyOf(dys), dxs);
            return dxs;
        });
    }

    private void checkMany(OpArgs args, List<Tensor> xs, List<Tensor> dys, boolean backward) {
        if (args.op().family() != Family.ELEMENTWISE) {
            throw new IllegalArgumentException("args: " + args.op() + " is not elementwise; forwardMany/backwardMany take"
                    + " elementwise ops only (call forward per tensor for prelu and softmax)");
        }
        Checks.notNull(xs, "xs", "pass a list of at least one tensor");
        if (xs.isEmpty()) {
            throw new IllegalArgumentException("xs is empty; pass at least one tensor");
        }
        if (backward) {
            Checks.notNull(dys, "dys", "pass one gradient per tensor of xs");
            if (dys.size() != xs.size()) {
                throw new IllegalArgumentException("dys has " + dys.size() + " tensors but xs has " + xs.size()
                        + "; pass one gradient per tensor of xs, in the same order");
            }
        }
        for (int i = 0; i < xs.size(); i++) {
            Tensor x = checkInput("xs[" + i + "]", xs.get(i));
            if (x.dtype() != xs.get(0).dtype()) {
                throw new IllegalArgumentException("xs[" + i + "] is " + x.dtype().numpyName() + " but xs[0] is "
                        + xs.get(0).dtype().numpyName() + "; one call takes one dtype (split the list by dtype)");
            }
            if (backward) {
                Checks.like("dys[" + i + "]", dys.get(i), "xs[" + i + "]", x);
            }
        }
    }

    // ---- device-resident tensors (the work is in DeviceResidency) -------------------------------

    /** Copies a host tensor to the device (on the CPU backend: wraps a copy, so later host writes do not leak in). */
    public DeviceTensor upload(Tensor x) {
        return run(() -> residency.upload(x));
    }

    /** The device tensor's elements in a new host tensor; waits for the ops before it. */
    public Tensor download(DeviceTensor d) {
        return run(() -> residency.download(d));
    }

    /**
     * Downloads on the engine's worker thread: host work can go on meanwhile.
     *
     * @throws IllegalStateException "engine is closed" when the engine is closed or closing
     */
    public CompletableFuture<Tensor> downloadAsync(DeviceTensor d) {
        // Bad arguments and a closed engine fail here, on the caller's thread, not inside the future.
        validate(() -> residency.check("d", d));
        return residency.async(() -> download(d));
    }

    /** {@code op(x)} for a device tensor, into a new device tensor; the host is not touched. Not for PReLU. */
    public DeviceTensor forward(OpArgs args, DeviceTensor x) {
        requireArgs(args);
        return run(() -> residency.forward(args, x));
    }

    /** dL/dx for device tensors, into a new device tensor; the host is not touched. Not for PReLU. */
    public DeviceTensor backward(OpArgs args, DeviceTensor x, DeviceTensor dy) {
        requireArgs(args);
        return run(() -> residency.backward(args, x, dy));
    }

    /**
     * {@link #forward(OpArgs, DeviceTensor)} on the engine's worker thread; completes when the kernel has run.
     *
     * @throws IllegalStateException "engine is closed" when the engine is closed or closing
     */
    public CompletableFuture<DeviceTensor> forwardAsync(OpArgs args, DeviceTensor x) {
        requireArgs(args);
        validate(() -> residency.checkForward(args, x));
        return residency.async(() -> residency.finished(forward(args, x)));
    }

    /**
     * {@link #backward(OpArgs, DeviceTensor, DeviceTensor)} on the engine's worker thread.
     *
     * @throws IllegalStateException "engine is closed" when the engine is closed or closing
     */
    public CompletableFuture<DeviceTensor> backwardAsync(OpArgs args, DeviceTensor x, DeviceTensor dy) {
        requireArgs(args);
        validate(() -> residency.checkBackward(args, x, dy));
        return residency.async(() -> residency.finished(backward(args, x, dy)));
    }

    /** Device tensors of this engine not yet closed. */
    public int liveDeviceTensors() {
        return residency.live();
    }

    void released(DeviceTensor.Memory m) {
        residency.released(m);
    }

    /** {@code op(x)} with PyTorch's default parameters, into a new tensor. */
    public Tensor forward(Op op, Tensor x) {
        return forward(OpArgs.of(Checks.notNull(op, "op", "pass one of " + Op.names())), x, null);
    }

    /** {@code op(x)} into a new tensor. */
    public Tensor forward(OpArgs args, Tensor x) {
        return forward(args, x, null);
    }

    /** {@code op(x)} into {@code out} (which may be {@code x}: in place), or a new tensor when null; returns it. */
    public Tensor forward(OpArgs args, Tensor x, Tensor out) {
        requireArgs(args);
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("args: prelu needs its weight tensor; call engine.prelu(x, weight)");
        }
        return run(() -> {
            checkInput("x", x);
            checkAxis(args, x);
            Checks.writable("out", out, "x", x);
            Checks.noOverlap("out", out, "x", x, true);
            Tensor y = Checks.output("out", out, "x", x);
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
            checkInput("x", x);
            Checks.preluWeight("weight", weight, x);
            Checks.writable("out", out, "x", x);
            Checks.noOverlap("out", out, "x", x, true);
            Checks.noOverlap("out", out, "weight", weight, false);
            Tensor y = Checks.output("out", out, "x", x);
            backend.forward(args, x, weight, y);
            return y;
        });
    }

    /** dL/dx of {@code op} at {@code x} given dL/dy, into a new tensor. */
    public Tensor backward(Op op, Tensor x, Tensor dy) {
        return backward(OpArgs.of(Checks.notNull(op, "op", "pass one of " + Op.names())), x, dy, null);
    }

    public Tensor backward(OpArgs args, Tensor x, Tensor dy) {
        return backward(args, x, dy, null);
    }

    /** dL/dx into {@code dx} (may alias {@code x} or {@code dy}), or a new tensor when null; returns it. */
    public Tensor backward(OpArgs args, Tensor x, Tensor dy, Tensor dx) {
        requireArgs(args);
        if (args.op() == Op.PRELU) {
            throw new IllegalArgumentException("args: prelu's backward needs its weight tensor; call"
                    + " engine.preluBackward(x, weight, dy)");
        }
        return run(() -> {
            checkInput("x", x);
            checkAxis(args, x);
            Checks.like("dy", dy, "x", x);
            Checks.writable("dx", dx, "x", x);
            Checks.noOverlap("dx", dx, "x", x, true);
            Checks.noOverlap("dx", dx, "dy", dy, true);
            Tensor g = Checks.output("dx", dx, "x", x);
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
            checkInput("x", x);
            Checks.preluWeight("weight", weight, x);
            Checks.like("dy", dy, "x", x);
            Checks.writable("dx", dx, "x", x);
            Checks.writable("dw", dw, "weight", weight);
            Checks.noOverlap("dx", dx, "x", x, true);
            Checks.noOverlap("dx", dx, "dy", dy, true);
            Checks.noOverlap("dx", dx, "weight", weight, false);
            Checks.noOverlap("dw", dw, "weight", weight, false);
            Checks.noOverlap("dw", dw, "x", x, false);
            Checks.noOverlap("dw", dw, "dy", dy, false);
            Checks.noOverlap("dw", dw, "dx", dx, false);
            Tensor gx = Checks.output("dx", dx, "x", x);
            Tensor gw = Checks.output("dw", dw, "weight", weight);
            backend.backward(args, x, weight, dy, gx, gw);
            return new PreluGradients(gx, gw);
        });
    }

    /**
     * Waits for calls in flight, then frees every device tensor still open and closes the backend;
     * idempotent, and safe to call from any thread while others are using the engine.
     *
     * <p>What callers see: a call that began before {@code close()} completes normally (its result is
     * valid), and so does an asynchronous call submitted before it; an asynchronous submission once
     * the close has begun, and any call after it, fails with {@link IllegalStateException} "engine is
     * closed" (asynchronous ones at submission, not in the future); a call racing with the close does
     * one or the other, never anything else. Device work still queued behind a finished call is
     * waited for before any memory is freed, so no kernel ever reads a freed buffer.
     *
     * @throws IllegalStateException when called from inside one of this engine's calls (a progress
     *         callback): waiting there for the calls in flight would wait forever for itself
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0) {
            throw new IllegalStateException("engine.close() was called from inside one of its own calls (a progress"
                    + " callback?); close it after the call returns");
        }
        // Asynchronous calls finish first (they take the read lock, so waiting under the write lock would deadlock).
        residency.finishAsync();
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                try {
                    residency.drainDevice();
                    residency.freeLeaked();
                } finally {
                    try {
                        backend.close();
                    } finally {
                        guard.close();
                    }
                }
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private <T> T run(java.util.function.Supplier<T> call) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw closedException();
            }
            return call.get();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Runs checks under the lifecycle lock: a closed engine is refused first. */
    private void validate(Runnable checks) {
        run(() -> {
            checks.run();
            return null;
        });
    }

    /** The one message every call on a closed engine gets, synchronous or asynchronous. */
    static IllegalStateException closedException() {
        return new IllegalStateException("engine is closed; create a new Engine to run more ops");
    }

    private static void requireArgs(OpArgs args) {
        Checks.notNull(args, "args", "use OpArgs.of(op) for PyTorch's defaults");
    }

    /** An input tensor: there, open, and of a dtype this engine's device computes. */
    private Tensor checkInput(String name, Tensor t) {
        Checks.open(name, t);
        Checks.supported(backend, name, t.dtype());
        return t;
    }

    private static void checkAxis(OpArgs args, Tensor x) {
        if (args.op().family() == Family.ROW_REDUCTION) {
            args.resolveAxis(x.rank());
        }
    }
}
