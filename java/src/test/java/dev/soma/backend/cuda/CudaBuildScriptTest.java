package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without nvcc the kernel build succeeds and leaves a marker saying why there are no kernels. */
class CudaBuildScriptTest {
    private static final Path SCRIPT = Path.of("..", "cuda", "build-fatbin.sh");

    @Test
    void withoutNvccTheBuildSucceedsAndSaysWhy(@TempDir Path out) throws IOException, InterruptedException {
        assumeTrue(Files.isRegularFile(SCRIPT), "build script not found at " + SCRIPT.toAbsolutePath());
        assumeTrue(CudaFatbinTest.findOnPath("bash") != null, "bash is not installed");
        Files.writeString(out.resolve("soma.fatbin"), "stale");
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), out.toString()).redirectErrorStream(true);
        pb.environment().put("NVCC", "none");
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "script hung");
        assertEquals(0, p.exitValue(), "the build must not fail without nvcc:\n" + log);
        assertTrue(log.contains("nvcc not found"), log);
        assertFalse(Files.exists(out.resolve("soma.fatbin")), "a stale fatbin must not survive a build without nvcc");
        Properties marker = new Properties();
        try (InputStream in = Files.newInputStream(out.resolve("build.properties"))) {
            marker.load(in);
        }
        assertEquals("not-built", marker.getProperty("status"));
        CudaKernelImage image = CudaKernelImage.of(marker, false);
        assertEquals("kernels not built (nvcc was not found at build time)", image.unavailableReason());
    }
}
