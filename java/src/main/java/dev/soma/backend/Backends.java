package dev.soma.backend;

import dev.soma.backend.cpu.CpuBackendProvider;
import dev.soma.backend.cuda.CudaBackendProvider;
import dev.soma.backend.opencl.OpenClBackendProvider;
import dev.soma.Tensor;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;

/**
 * The registry of backend providers, in the order {@code auto} tries them: CUDA, then OpenCL GPUs,
 * then the CPU. Backends whose classes are missing or whose native libraries fail to load are
 * reported unavailable, never thrown at the caller.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.soma");

    private Backends() {
    }

    /** Every provider, CUDA and OpenCL first (auto's preference), the CPU last. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        list.add(new CudaBackendProvider());
        list.add(new OpenClBackendProvider());
        list.add(new CpuBackendProvider());
        return List.copyOf(list);
    }

    public static BackendProvider provider(BackendKind kind) {
        if (kind == null) {
            throw new NullPointerException("kind is null; pass BackendKind.CPU, OPENCL or CUDA");
        }
        if (kind == BackendKind.AUTO) {
            throw new IllegalArgumentException("kind: auto is a choice among providers, not a provider; pass CPU, OPENCL"
                    + " or CUDA, or call Backends.open(AUTO, device)");
        }
        for (BackendProvider p : providers()) {
            if (p.kind() == kind) {
                return p;
            }
        }
        throw new BackendUnavailableException(kind.id() + " backend is not available: it is not built into this version of Soma");
    }

    /**
     * Opens a backend. An explicit kind either opens or throws with the reason, and never changes;
     * {@code auto} takes the first provider with a GPU device that starts and passes
     * {@link #startupCheck}, else the CPU, logging one warning line that names each GPU backend that
     * failed to start and why.
     */
    public static Backend open(BackendKind kind, String device) {
        if (kind == null) {
            throw new NullPointerException("kind is null; use BackendKind.AUTO for the default");
        }
        if (kind != BackendKind.AUTO) {
            BackendProvider p = provider(kind);
            Availability a = p.probe();
            if (!a.isAvailable()) {
                throw new BackendUnavailableException(kind.id() + " backend is not available: " + a.reason());
            }
            return p.open(device);
        }
        return openAuto(providers(), device);
    }

    /** {@code auto} over these providers, in order (package-private: tests pass their own). */
    static Backend openAuto(List<BackendProvider> providers, String device) {
        List<String> failures = new ArrayList<>();
        Backend chosen = null;
        for (BackendProvider p : providers) {
            if (p.kind() == BackendKind.CPU) {
                continue;
            }
            try {
                if (p.probe().hasGpu()) {
                    chosen = startChecked(p, device);
                    break;
                }
            } catch (RuntimeException | LinkageError e) {
                failures.add(p.kind().id() + " failed to start (" + oneLine(e) + ")");
            }
        }
        if (chosen == null) {
            chosen = provider(BackendKind.CPU).open(null);
        }
        if (!failures.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "auto: " + String.join("; ", failures) + "; using "
                    + chosen.kind().id() + " instead");
        }
        return chosen;
    }

    /** Opens {@code p} and runs the start-up check; closes it again if the check fails. */
    private static Backend startChecked(BackendProvider p, String device) {
        Backend b = p.open(device);
        try {
            startupCheck(b);
            return b;
        } catch (RuntimeException | LinkageError e) {
            b.close();
            throw e;
        }
    }

    /**
     * Computes sigmoid of three values on {@code b} and checks them: the context, a kernel build
     * (OpenCL compiles at first use), a launch and both transfers, before {@code auto} commits to a
     * GPU. An explicit backend skips it: its failures surface at first use, with the reason.
     */
    static void startupCheck(Backend b) {
        float[] in = {-2f, 0f, 3f};
        Tensor x = Tensor.of(in, 3);
        Tensor y = Tensor.of(new float[] {Float.NaN, Float.NaN, Float.NaN}, 3);
        b.forward(OpArgs.of(Op.SIGMOID), x, null, y);
        for (int i = 0; i < in.length; i++) {
            double want = 1 / (1 + Math.exp(-in[i]));
            double got = y.get(i);
            if (!(Math.abs(got - want) <= 1e-6)) {
                throw new IllegalStateException(b.description() + " computed sigmoid(" + in[i] + ") = " + got
                        + " instead of " + (float) want + " in the start-up check");
            }
        }
    }

    /** A failure's message on one line (build logs and driver messages may span several). */
    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.strip().replaceAll("\\s*\\R\\s*", " | ");
    }
}
