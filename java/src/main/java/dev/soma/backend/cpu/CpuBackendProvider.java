package dev.soma.backend.cpu;

import dev.soma.backend.Availability;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.DeviceInfo;
import dev.soma.fallback.CpuKernelsProvider;
import java.util.List;

/** The CPU is always there: one device, all cores. */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public Availability probe() {
        var k = CpuKernelsProvider.fastest();
        int cores = Runtime.getRuntime().availableProcessors();
        String notes = k.name() + " kernels";
        return Availability.available(BackendKind.CPU, List.of(new DeviceInfo(0, cpuName(), false,
                Runtime.getRuntime().maxMemory(), cores, CpuKernelsProvider.floatLanes(), notes)));
    }

    @Override
    public Backend open(String device) {
        if (device != null && !device.isBlank() && !device.trim().equals("0")) {
            throw new BackendUnavailableException("the CPU backend has one device, 0; got --device " + device);
        }
        return new CpuBackend(CpuKernelsProvider.fastest());
    }

    private static String cpuName() {
        String arch = System.getProperty("os.arch");
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim() + " (" + arch + ")")
                    .orElse(arch);
        } catch (java.io.IOException | RuntimeException e) {
            return arch;
        }
    }
}
