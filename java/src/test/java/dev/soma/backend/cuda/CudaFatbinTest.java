package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The packaged fatbin holds SASS for every supported GPU generation and PTX for the newest. */
class CudaFatbinTest {
    static final Set<Integer> SASS = Set.of(75, 80, 86, 89, 90, 100, 120);
    static final int PTX = 120;

    private static byte[] fatbinOrSkip() {
        CudaKernelImage image = CudaKernelImage.get();
        assumeTrue(image.isBuilt(), "CUDA kernels were not built here: " + image.unavailableReason());
        return image.fatbin();
    }

    @Test
    void everyArchitectureHasItsCubinAndTheNewestItsPtx() {
        List<FatbinContainer.Entry> entries = FatbinContainer.entries(fatbinOrSkip());
        Set<Integer> elf = new TreeSet<>();
        Set<Integer> ptx = new TreeSet<>();
        for (FatbinContainer.Entry e : entries) {
            if (e.isElf()) {
                assertEquals(e.arch(), e.elfArch(), "cubin listed as sm_" + e.arch() + " says sm_" + e.elfArch() + " in its ELF header");
                assertTrue(elf.add(e.arch()), "two cubins for sm_" + e.arch());
            } else {
                assertEquals(FatbinContainer.KIND_PTX, e.kind(), "unknown entry kind " + e.kind());
                ptx.add(e.arch());
            }
        }
        assertEquals(new TreeSet<>(SASS), elf, "SASS architectures in soma.fatbin");
        assertEquals(Set.of(PTX), ptx, "PTX in soma.fatbin (JIT for GPUs newer than sm_120)");
    }

    @Test
    void markerRecordsTheArchitectures() {
        fatbinOrSkip();
        Set<Integer> recorded = java.util.Arrays.stream(CudaKernelImage.get().archs().trim().split("\\s+"))
                .map(Integer::valueOf).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(SASS), recorded);
    }

    @Test
    void parserRejectsGarbage() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FatbinContainer.entries(new byte[64]));
        byte[] real = fatbinOrSkip();
        byte[] truncated = java.util.Arrays.copyOf(real, real.length / 2);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FatbinContainer.entries(truncated));
    }

    /** cuobjdump, where installed, must list the same cubins; skipped where it is not (as on this build machine). */
    @Test
    void cuobjdumpAgreesWhenInstalled() throws IOException, InterruptedException {
        byte[] fatbin = fatbinOrSkip();
        Path tool = findOnPath("cuobjdump");
        assumeTrue(tool != null, "cuobjdump is not installed; the container parser above covers this check");
        Path file = Files.createTempFile("soma", ".fatbin");
        try {
            Files.write(file, fatbin);
            Process p = new ProcessBuilder(tool.toString(), "--list-elf", file.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "cuobjdump failed: " + out);
            for (int a : SASS) {
                assertTrue(out.contains("sm_" + a), "cuobjdump lists no sm_" + a + " cubin:\n" + out);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    static Path findOnPath(String exe) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path c = Path.of(dir, exe);
            if (Files.isExecutable(c)) {
                return c;
            }
        }
        return null;
    }
}
