package dev.soma.backend.cuda;

import dev.soma.backend.Availability;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.DeviceInfo;
import dev.soma.backend.device.DeviceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.driver.CUdevice;

/**
 * The CUDA backend's entry: probes for built kernels, the NVIDIA driver and devices (never
 * throwing: a missing libcuda.so.1 is a reason, not an Error), and opens a {@link CudaRuntime}
 * wrapped in the shared {@link DeviceBackend}.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** The oldest GPU the fatbin carries code for (sm_75, Turing). */
    static final int MIN_COMPUTE_CAPABILITY = 75;

    @Override
    public BackendKind kind() {
        return BackendKind.CUDA;
    }

    @Override
    public Availability probe() {
        try {
            CudaKernelImage image = CudaKernelImage.get();
            if (!image.isBuilt()) {
                return Availability.unavailable(BackendKind.CUDA, image.unavailableReason());
            }
            CudaDriver.State s = CudaDriver.state();
            if (!s.reason().isEmpty()) {
                return Availability.unavailable(BackendKind.CUDA, s.reason());
            }
            List<DeviceInfo> devices = new ArrayList<>();
            for (int i = 0; i < s.deviceCount(); i++) {
                devices.add(describe(i, s));
            }
            return Availability.available(BackendKind.CUDA, devices);
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable(BackendKind.CUDA, "probing CUDA failed (" + e + ")");
        }
    }

    private static DeviceInfo describe(int index, CudaDriver.State s) {
        CUdevice d = CudaDriver.device(index);
        String cc = CudaDriver.computeCapability(d);
        String notes = "compute capability " + cc + ", driver " + CudaDriver.versionString(s.driverVersion());
        if (ccValue(cc) < MIN_COMPUTE_CAPABILITY) {
            notes += "; older than 7.5: Soma's kernels do not run here";
        }
        return new DeviceInfo(index, CudaDriver.name(d), true, CudaDriver.totalMemory(d),
                CudaDriver.limits(d).multiprocessors(), 4, notes);
    }

    private static int ccValue(String cc) {
        String[] p = cc.split("\\.");
        return Integer.parseInt(p[0]) * 10 + Integer.parseInt(p[1]);
    }

    @Override
    public Backend open(String device) {
        Availability a = probe();
        if (!a.isAvailable()) {
            throw new BackendUnavailableException("cuda backend is not available: " + a.reason());
        }
        DeviceInfo chosen = select(a.devices(), device);
        if (chosen.notes().contains("do not run here")) {
            throw new BackendUnavailableException("cuda device " + chosen.index() + " (" + chosen.name()
                    + ") is " + chosen.notes() + "; use --backend opencl or cpu");
        }
        try {
            return new DeviceBackend(CudaRuntime.open(chosen.index()));
        } catch (CudaCallException e) {
            throw new BackendUnavailableException("cuda device " + chosen.index() + " (" + chosen.name()
                    + ") failed to start: " + e.getMessage(), e);
        }
    }

    /** Picks a device by index or by a case-insensitive substring of its name; null takes the first. */
    static DeviceInfo select(List<DeviceInfo> devices, String device) {
        if (device == null || device.isBlank()) {
            return devices.get(0);
        }
        String key = device.trim();
        if (key.chars().allMatch(Character::isDigit)) {
            int i;
            try {
                i = Integer.parseInt(key);
            } catch (NumberFormatException e) {
                i = -1;
            }
            for (DeviceInfo d : devices) {
                if (d.index() == i) {
                    return d;
                }
            }
        } else {
            for (DeviceInfo d : devices) {
                if (d.name().toLowerCase(Locale.ROOT).contains(key.toLowerCase(Locale.ROOT))) {
                    return d;
                }
            }
        }
        StringBuilder known = new StringBuilder();
        for (DeviceInfo d : devices) {
            known.append(known.isEmpty() ? "" : ", ").append(d.index()).append(" (").append(d.name()).append(')');
        }
        throw new BackendUnavailableException("no cuda device matches --device " + device + "; devices: " + known);
    }
}
