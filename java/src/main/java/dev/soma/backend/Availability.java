package dev.soma.backend;

import java.util.List;

/**
 * Whether a backend can run here: its devices, or the reason it cannot (no driver, no library,
 * kernels not built), phrased so a user knows what to install or change.
 */
public record Availability(BackendKind kind, List<DeviceInfo> devices, String reason) {

    public static Availability available(BackendKind kind, List<DeviceInfo> devices) {
        return new Availability(kind, List.copyOf(devices), "");
    }

    public static Availability unavailable(BackendKind kind, String reason) {
        return new Availability(kind, List.of(), reason);
    }

    public boolean isAvailable() {
        return !devices.isEmpty();
    }

    /** True when at least one device is a GPU (what {@code auto} looks for). */
    public boolean hasGpu() {
        return devices.stream().anyMatch(DeviceInfo::gpu);
    }
}
