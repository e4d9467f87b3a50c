package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the CUDA kernels' logic on the CPU (cuda/test/host: a small CUDA emulation over std::thread,
 * compiled with g++): elementwise plumbing bit for bit against the shared per-element functions,
 * PReLU and every softmax kernel against float64 with the row rules. The one check of the kernels
 * themselves that needs no GPU; skipped where g++ (C++20) is missing.
 */
class CudaHostEmulationTest {
    private static final Path RUN = Path.of("..", "cuda", "test", "host", "run.sh");
    private static final Path HEADER = Path.of("..", "opencl", "include", "soma_math.h");

    @Test
    void kernelsComputeTheReferenceOnEmulatedThreads() throws Exception {
        assumeTrue(Files.isRegularFile(RUN), "emulation not found at " + RUN.toAbsolutePath());
        assumeTrue(Files.isRegularFile(HEADER), "the shared header is not at " + HEADER.toAbsolutePath());
        assumeTrue(CudaFatbinTest.findOnPath("g++") != null, "g++ is not installed (the emulation is C++20)");
        Process p = new ProcessBuilder("bash", RUN.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "the emulation hung");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains(" 0 failed"), out);
    }
}
