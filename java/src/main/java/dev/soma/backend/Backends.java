package dev.soma.backend;

import dev.soma.backend.cpu.CpuBackendProvider;
import dev.soma.backend.cuda.CudaBackendProvider;
import dev.soma.backend.opencl.OpenClBackendProvider;
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
     * Opens a backend. An explicit kind either opens or throws with the reason; {@code auto} takes
     * the first provider with a GPU device and falls back to the CPU, logging one warning line when
     * a GPU backend fails to start.
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
        for (BackendProvider p : providers()) {
            if (p.kind() == BackendKind.CPU) {
                continue;
            }
            try {
                Availability a = p.probe();
                if (a.hasGpu()) {
                    return p.open(device);
                }
            } catch (RuntimeException | LinkageError e) {
                LOG.log(System.Logger.Level.WARNING, "auto: " + p.kind().id() + " failed to start ("
                        + e.getMessage() + "); using the CPU");
            }
        }
        return provider(BackendKind.CPU).open(null);
    }
}
