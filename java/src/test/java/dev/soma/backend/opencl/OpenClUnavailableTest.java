package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.Availability;
import dev.soma.backend.BackendUnavailableException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without an OpenCL driver the backend says so, with what to install, and never throws from
 * {@code probe()}. Runs a child JVM whose ICD loader sees an empty vendor directory (no driver at
 * all), since a JVM that has loaded OpenCL once cannot unload it. Needs no device.
 */
class OpenClUnavailableTest {

    /** The child: probes, then tries to open, and prints what it saw. */
    public static void main(String[] args) {
        OpenClBackendProvider p = new OpenClBackendProvider();
        Availability a = p.probe();
        System.out.println("available=" + a.isAvailable());
        System.out.println("reason=" + a.reason());
        try {
            p.open(null);
            System.out.println("open=succeeded");
        } catch (BackendUnavailableException e) {
            System.out.println("open=" + e.getMessage());
        }
    }

    @Test
    void noDriverIsReportedWithWhatToInstall(@TempDir Path emptyVendors) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), OpenClUnavailableTest.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString()); // ocl-icd: look for drivers only here
        pb.environment().remove("OPENCL_VENDOR_PATH");
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "child JVM hung: " + out);
        assertEquals(0, proc.exitValue(), "the child must not crash: " + out);
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("install ocl-icd-libopencl1 (and a driver such as pocl-opencl-icd)"), out);
        assertTrue(out.contains("open=opencl backend is not available"), out);
    }
}
