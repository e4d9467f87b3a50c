package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of bench/gpu-check.sh that run without a GPU: clean refusals and the results table. */
class CudaGpuCheckScriptTest {
    private static final Path SCRIPT = Path.of("..", "bench", "gpu-check.sh").toAbsolutePath().normalize();

    record Result(int status, String output) {
    }

    private static Result run(Path dir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        assumeTrue(Files.isRegularFile(SCRIPT), "script not found at " + SCRIPT);
        assumeTrue(CudaFatbinTest.findOnPath("bash") != null, "bash is not installed");
        String[] cmd = new String[args.length + 2];
        cmd[0] = "bash";
        cmd[1] = SCRIPT.toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gpu-check.sh hung");
        return new Result(p.exitValue(), out);
    }

    @Test
    void withoutTheCarryFolderItSaysHowToMakeIt(@TempDir Path dir) throws Exception {
        Result r = run(dir, Map.of());
        assertEquals(2, r.status(), r.output());
        assertTrue(r.output().contains("bench/prepare-gpu-carry.sh"), r.output());
    }

    @Test
    void withoutAGpuItStopsBeforeRunningAnything(@TempDir Path dir) throws Exception {
        String plainPath = "/usr/bin:/bin";
        for (String d : plainPath.split(":")) {
            assumeTrue(!Files.exists(Path.of(d, "nvidia-smi")), "nvidia-smi is installed here: this machine may have a GPU");
        }
        Path bin = Files.createDirectories(dir.resolve(".carry/jdk/bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho java-was-run >> \"$0.ran\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve(".carry/soma.jar"), "");
        Result r = run(dir, Map.of("PATH", plainPath, "OUT", dir.resolve("out").toString()));
        assertEquals(3, r.status(), r.output());
        assertTrue(r.output().contains("no NVIDIA GPU here"), r.output());
        assertTrue(!Files.exists(bin.resolve("java.ran")), "nothing may run without a GPU");
    }

    @Test
    void tableJoinsSomaAndTorchBySizeAndOp(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("cuda-bench.csv"), """
                kind,op,direction,size,ms,gbps,fraction_of_copy
                validation,all,both,812,,,pass
                copy,memcpy_dtod,fwd,268435456,0.5000,4294.9,1.000
                elementwise,gelu,bwd,268435456,0.7800,4129.0,0.961
                softmax,log_softmax[online],fwd,32768,0.1,3900.0,0.908
                """);
        Files.writeString(dir.resolve("torch-bench.csv"), """
                kind,op,direction,size,ms,gbps,fraction_of_copy
                elementwise,gelu,bwd,268435456,0.9,3579.1,0.852
                softmax,log_softmax,fwd,32768,0.12,3300.0,0.786
                """);
        Files.writeString(dir.resolve("summary.tsv"), "cuda-bench\tpass\t12s\n");
        Result r = run(dir, Map.of(), "--table", dir.toString());
        assertEquals(0, r.status(), r.output());
        assertTrue(r.output().contains("validation: 812 checks, pass"), r.output());
        assertTrue(r.output().matches("(?s).*gelu +bwd +268435456 +4129\\.0 +0\\.96 +3579\\.1 +0\\.85.*"), r.output());
        assertTrue(r.output().matches("(?s).*log_softmax\\[online\\] +fwd +32768 +3900\\.0 +0\\.91 +3300\\.0 +0\\.79.*"), r.output());
        assertTrue(r.output().matches("(?s).*memcpy_dtod +fwd +268435456 +4294\\.9 +1\\.00 +- +-.*"), r.output());
        assertTrue(r.output().contains("cuda-bench") && r.output().contains("pass"), r.output());
    }
}
