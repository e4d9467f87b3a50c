package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.CpuKernelsProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The provider picks the vector path when the module is there, falls back to scalar with one log
 * line (and no NoClassDefFoundError) when it is not, and honours -Dsoma.cpu.kernels.
 */
class VectorProviderTest {

    /** Surefire runs with --add-modules jdk.incubator.vector: the fast path is chosen. */
    @Test
    void vectorIsChosenWhenTheModuleIsPresent() {
        assertEquals("vector", CpuKernelsProvider.fastest().name());
        assertTrue(CpuKernelsProvider.floatLanes() >= 2, "lanes " + CpuKernelsProvider.floatLanes());
        assertEquals(VectorKernels.preferredFloatLanes(), CpuKernelsProvider.floatLanes());
    }

    @Test
    void withoutTheModuleTheScalarPathRunsAndSaysHowToEnable() throws Exception {
        Result r = runChild(List.of());
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("kernels=scalar lanes=1"), r.output);
        assertTrue(r.output.contains("--add-modules jdk.incubator.vector"), "the log line says how to enable: " + r.output);
    }

    @Test
    void propertyForcesScalar() throws Exception {
        Result r = runChild(List.of("--add-modules", "jdk.incubator.vector", "-Dsoma.cpu.kernels=scalar"));
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("kernels=scalar lanes=1"), r.output);
    }

    @Test
    void forcingVectorWithoutTheModuleFailsWithTheFix() throws Exception {
        Result r = runChild(List.of("-Dsoma.cpu.kernels=vector"));
        assertTrue(r.exit != 0, r.output);
        assertTrue(r.output.contains("--add-modules jdk.incubator.vector"), r.output);
    }

    @Test
    void unknownPathIsRefused() throws Exception {
        Result r = runChild(List.of("--add-modules", "jdk.incubator.vector", "-Dsoma.cpu.kernels=gpu"));
        assertTrue(r.exit != 0, r.output);
        assertTrue(r.output.contains("use vector or scalar"), r.output);
    }

    private record Result(int exit, String output) {
    }

    /** Runs {@link ProviderProbe} in a fresh JVM with the given flags and the test classpath. */
    private static Result runChild(List<String> flags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ProviderProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
