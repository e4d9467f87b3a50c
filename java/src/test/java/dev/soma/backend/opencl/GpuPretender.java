package dev.soma.backend.opencl;

import dev.soma.backend.Availability;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.device.DeviceBackend;
import java.util.ArrayList;
import java.util.List;

/**
 * For tests of {@code auto}, which takes only GPUs: the real OpenCL provider on this machine's device
 * (PoCL, a CPU device), reported as a GPU, and optionally broken at start-up in one real way: its
 * kernels fail to build (a source the real compiler rejects), or opening the context fails. Keeps
 * every runtime it opened so tests can check that a rejected one was closed.
 */
public final class GpuPretender implements BackendProvider {
    /** How the pretend GPU fails at start-up. */
    public enum Failure { NONE, KERNEL_BUILD, CONTEXT }

    private final Failure failure;
    private final List<OpenClRuntime> opened = new ArrayList<>();

    public GpuPretender(Failure failure) {
        this.failure = failure;
    }

    @Override
    public BackendKind kind() {
        return BackendKind.OPENCL;
    }

    @Override
    public Availability probe() {
        Availability real = new OpenClBackendProvider().probe();
        if (!real.isAvailable()) {
            return real;
        }
        DeviceInfo d = real.devices().get(0);
        return Availability.available(BackendKind.OPENCL, List.of(new DeviceInfo(d.index(), d.name(), true,
                d.memoryBytes(), d.computeUnits(), d.vectorWidth(), d.notes())));
    }

    @Override
    public Backend open(String device) {
        if (failure == Failure.CONTEXT) {
            // What OpenClBackendProvider throws when clCreateContext fails.
            throw new BackendUnavailableException("could not open OpenCL device Pretend GPU: CL_OUT_OF_HOST_MEMORY"
                    + "\nCLException details on a second line; check the driver (clinfo lists what OpenCL sees) or use"
                    + " --backend cpu");
        }
        OpenClRuntime rt = OpenClTestDevice.open();
        opened.add(rt);
        if (failure == Failure.KERNEL_BUILD) {
            rt.overrideSource("elementwise.cl", FaultKernelBuildTest.BROKEN);
        }
        return new DeviceBackend(rt);
    }

    /** True when every runtime this provider opened has been closed again (its allocator then refuses). */
    public boolean allClosed() {
        for (OpenClRuntime rt : opened) {
            try {
                rt.allocate(1).close();
                return false;
            } catch (IllegalStateException e) {
                // closed, as expected
            }
        }
        return true;
    }

    public int openedCount() {
        return opened.size();
    }

    /** Closes what a test kept open. */
    public void closeAll() {
        opened.forEach(OpenClRuntime::close);
    }
}
