package dev.soma.backend.opencl;

import dev.soma.backend.Availability;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.device.DeviceBackend;
import java.util.List;

/**
 * OpenCL through JOCL: every device of every platform (GPUs, and CPU drivers such as PoCL).
 * {@code auto} only takes this backend when a device is a GPU; a CPU OpenCL device is used only
 * when asked for ({@code --backend opencl}). A missing libOpenCL or driver is reported, not thrown.
 */
public final class OpenClBackendProvider implements BackendProvider {

    @Override
    public BackendKind kind() {
        return BackendKind.OPENCL;
    }

    @Override
    public Availability probe() {
        OpenClPlatforms.Discovery d = OpenClPlatforms.discover();
        if (d.devices().isEmpty()) {
            return Availability.unavailable(BackendKind.OPENCL, d.reason());
        }
        List<DeviceInfo> infos = d.devices().stream().map(OpenClPlatforms.Found::info).toList();
        return Availability.available(BackendKind.OPENCL, infos);
    }

    @Override
    public Backend open(String device) {
        return new DeviceBackend(openRuntime(device));
    }

    /** The runtime alone, for the offload pipeline, benchmarks and tests. */
    public OpenClRuntime openRuntime(String device) {
        OpenClPlatforms.Discovery d = OpenClPlatforms.discover();
        if (d.devices().isEmpty()) {
            throw new BackendUnavailableException("opencl backend is not available: " + d.reason());
        }
        OpenClPlatforms.Found f;
        try {
            f = OpenClPlatforms.select(d.devices(), device);
        } catch (IllegalArgumentException e) {
            throw new BackendUnavailableException(e.getMessage(), e);
        }
        try {
            return new OpenClRuntime(f);
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("could not open OpenCL device " + f.info().name() + ": " + e.getMessage()
                    + "; check the driver (clinfo lists what OpenCL sees) or use --backend cpu", e);
        }
    }
}
