package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The names the Java side looks up are exactly the kernels the .cu sources define, and nvcc compiled them all. */
class CudaKernelNamesTest {
    private static final Path KERNELS = Path.of("..", "cuda", "kernels");
    private static final Path PTXAS_LOG = Path.of("..", "cuda", "target", "ptxas.log");
    private static final Pattern ENTRY = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");
    private static final Pattern COMPILED = Pattern.compile("Compiling entry function '(\\w+)' for 'sm_(\\d+)'");

    static Set<String> namesInSources() throws IOException {
        assumeTrue(Files.isDirectory(KERNELS), "kernel sources not found at " + KERNELS.toAbsolutePath());
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(KERNELS)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).toList()) {
                Matcher m = ENTRY.matcher(Files.readString(f));
                while (m.find()) {
                    assertTrue(names.add(m.group(1)), "kernel " + m.group(1) + " defined twice");
                }
            }
        }
        return names;
    }

    @Test
    void javaLooksUpExactlyTheKernelsTheSourcesDefine() throws IOException {
        Set<String> sources = namesInSources();
        Set<String> java = new TreeSet<>(CudaKernelNames.all());
        assertEquals(java.size(), CudaKernelNames.all().size(), "CudaKernelNames.all() repeats a name");
        Set<String> missing = new TreeSet<>(java);
        missing.removeAll(sources);
        Set<String> unused = new TreeSet<>(sources);
        unused.removeAll(java);
        assertTrue(missing.isEmpty(), "Java looks up kernels no .cu file defines: " + missing);
        assertTrue(unused.isEmpty(), ".cu kernels the Java side never uses: " + unused);
    }

    @Test
    void nvccCompiledEveryKernelForEveryArchitecture() throws IOException {
        assumeTrue(CudaKernelImage.get().isBuilt() && Files.isRegularFile(PTXAS_LOG),
                "the fatbin was not built here, so there is no ptxas log to check");
        Map<Integer, Set<String>> byArch = new TreeMap<>();
        String log = Files.readString(PTXAS_LOG);
        Matcher m = COMPILED.matcher(log);
        while (m.find()) {
            byArch.computeIfAbsent(Integer.valueOf(m.group(2)), k -> new TreeSet<>()).add(m.group(1));
        }
        assertEquals(CudaFatbinTest.SASS, byArch.keySet(), "architectures in " + PTXAS_LOG);
        Set<String> sources = namesInSources();
        byArch.forEach((arch, names) -> assertEquals(sources, names, "kernels compiled for sm_" + arch));
        assertFalse(Pattern.compile("[1-9]\\d* bytes spill (stores|loads)").matcher(log).find(),
                "a kernel spills registers; see " + PTXAS_LOG.toAbsolutePath());
    }

    @Test
    void everyKernelFileIsInTheOneTranslationUnit() throws IOException {
        assumeTrue(Files.isDirectory(KERNELS), "kernel sources not found at " + KERNELS.toAbsolutePath());
        String unit = Files.readString(KERNELS.resolve("soma.cu"));
        try (Stream<Path> files = Files.list(KERNELS)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cuh")).toList()) {
                assertTrue(unit.contains("#include \"" + f.getFileName() + "\""),
                        f.getFileName() + " is not included by soma.cu, so nvcc never compiles its kernels");
            }
        }
        assertTrue(unit.contains("#include \"soma_math.h\""), "soma.cu must use the shared per-element math");
    }

    /** The math relies on accurate expf/expm1f/erfcf and IEEE division: no fast-math flag may creep in. */
    @Test
    void theBuildNeverAsksForFastMath() throws IOException {
        Path script = KERNELS.resolveSibling("build-fatbin.sh");
        assumeTrue(Files.isRegularFile(script), "build script not found at " + script.toAbsolutePath());
        String code = Files.readString(script).lines().filter(l -> !l.trim().startsWith("#"))
                .reduce("", (a, b) -> a + b + "\n");
        for (String flag : new String[] {"use_fast_math", "use-fast-math", "-ftz=true", "-prec-div=false",
            "-prec-sqrt=false"}) {
            assertFalse(code.contains(flag), "build-fatbin.sh passes " + flag);
        }
    }

    @Test
    void warpKernelsCoverTheirCutOver() {
        assertEquals(1, CudaLaunchPlan.warpPerLane(1));
        assertEquals(1, CudaLaunchPlan.warpPerLane(32));
        assertEquals(2, CudaLaunchPlan.warpPerLane(33));
        assertEquals(32, CudaLaunchPlan.warpPerLane(1024));
        assertTrue(CudaKernelNames.all().contains("soma_softmax_warp_f32_k32"));
        assertFalse(CudaKernelNames.all().contains("soma_softmax_warp_f64_k32"), "f64 warp rows stop at 512");
    }
}
