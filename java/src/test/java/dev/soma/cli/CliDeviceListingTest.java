package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.soma.backend.Availability;
import dev.soma.backend.BackendKind;
import dev.soma.backend.DeviceInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How devices and unavailable backends are printed and selected, without probing real hardware. */
class CliDeviceListingTest {
    static final DeviceInfo H200 = new DeviceInfo(0, "NVIDIA H200", true, 150_000_000_000L, 132, 1, "");
    static final DeviceInfo POCL = new DeviceInfo(1, "pthread-skylake", false, -1, 2, 16, "OpenCL CPU device");
    static final DeviceInfo CPU = new DeviceInfo(0, "AMD EPYC (amd64)", false, 6L << 30, 2, 16, "vector kernels");

    static final Targets TARGETS = new Targets(
            List.of(new Targets.Target(BackendKind.CPU, CPU), new Targets.Target(BackendKind.OPENCL, POCL),
                    new Targets.Target(BackendKind.CUDA, H200)),
            List.of(new Targets.Probe(BackendKind.CPU, Availability.available(BackendKind.CPU, List.of(CPU)), ""),
                    new Targets.Probe(BackendKind.OPENCL, Availability.unavailable(BackendKind.OPENCL,
                            "no OpenCL platform (install an ICD such as pocl-opencl-icd)"), "no OpenCL platform (install an ICD such as pocl-opencl-icd)"),
                    new Targets.Probe(BackendKind.CUDA, Availability.available(BackendKind.CUDA, List.of(H200)), "")));

    @Test
    void listing() {
        StringWriter s = new StringWriter();
        DeviceListing.print(TARGETS, new PrintWriter(s));
        assertEquals("""
                cpu: 1 device
                  [0] AMD EPYC (amd64): 6.0 GiB memory, 2 compute units, vector width 16; vector kernels
                opencl: not available: no OpenCL platform (install an ICD such as pocl-opencl-icd)
                cuda: 1 device
                  [0] NVIDIA H200 (GPU): 139.7 GiB memory, 132 compute units, vector width 1
                """, s.toString());
        assertEquals("[1] pthread-skylake: memory unknown, 2 compute units, vector width 16; OpenCL CPU device",
                DeviceListing.describe(POCL));
    }

    @Test
    void selection() {
        assertEquals(3, TARGETS.select(BackendKind.AUTO, null).size());
        assertEquals(List.of("opencl:1"), TARGETS.select(BackendKind.OPENCL, null).stream().map(Targets.Target::label).toList());
        assertEquals(List.of("cuda:0"), TARGETS.select(BackendKind.AUTO, "h200").stream().map(Targets.Target::label).toList());
        assertEquals(List.of("cpu", "cuda:0"), TARGETS.select(BackendKind.AUTO, "0").stream().map(Targets.Target::label).toList());
        assertEquals(List.of(), TARGETS.select(BackendKind.CUDA, "7"));
    }
}
