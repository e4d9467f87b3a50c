package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue #8: the same input gives bit-identical output across runs, JIT tiers and thread counts.
 * Every elementwise op and prelu, forward and backward, float32 and float64 (see
 * {@link DeterminismProbe}), is fingerprinted in this JVM (20 rounds, which must agree) and in child
 * JVMs: interpreter only, C1 only, C2 (compile thresholds scaled to 5%, synchronous compilation, 6
 * rounds that must agree), and 1, 2 and 16 processors with the parallel split forced down to small sizes so that the work is
 * cut into a different number of chunks each time. Every fingerprint must match this JVM's.
 *
 * <p>What it catches: transcendental functions whose compiled form differs from the interpreted
 * one (the Vector API's EXP and EXPM1 are SVML calls under C2 and per-lane Java under the
 * interpreter and C1: one ulp apart), floating-point reductions whose order depends on the tier
 * or on the chunking.
 */
class DeterminismTest {
    /**
     * In-process rounds, each checked against the first: the hot helpers reach C2 here while the loops
     * move from the interpreter to C1 (a mix of tiers). The child with scaled-down thresholds and
     * synchronous compilation is the one that runs every loop compiled by C2.
     */
    private static final int WARM_ROUNDS = 20;
    private static Map<String, String> warmed;

    @BeforeAll
    static void warmInProcess() {
        Map<String, String> first = DeterminismProbe.fingerprints();
        Map<String, String> last = first;
        for (int r = 1; r < WARM_ROUNDS; r++) {
            last = DeterminismProbe.fingerprints();
            List<String> changed = differences(first, last);
            assertTrue(changed.isEmpty(), "in-process round " + r + " gave other bits than round 0 for " + changed);
        }
        warmed = last;
        assertTrue(warmed.size() > 60, "too few cases: " + warmed.keySet());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "-Xint",
        "-XX:TieredStopAtLevel=1",
        "-Xbatch -XX:CompileThresholdScaling=0.05",
        "-XX:ActiveProcessorCount=1 -Dsoma.cpu.parallelThreshold=512",
        "-XX:ActiveProcessorCount=2 -Dsoma.cpu.parallelThreshold=512",
        "-XX:ActiveProcessorCount=16 -Dsoma.cpu.parallelThreshold=512",
    })
    void childJvmGivesTheSameBits(String flags) throws Exception {
        // Thresholds at 5% and synchronous compilation: by the third of 6 rounds every loop runs as
        // C2 code (checked with -XX:+PrintCompilation when this test was written); every round must
        // give the same bits.
        int rounds = flags.contains("Xbatch") ? 6 : 1;
        Map<String, String> child = runChild(List.of(flags.split(" ")), rounds);
        List<String> differ = differences(warmed, child);
        assertTrue(differ.isEmpty(), "child JVM with " + flags + " gave other bits for " + differ.size()
                + " cases: " + differ);
        assertEquals(warmed.keySet(), child.keySet());
    }

    private static List<String> differences(Map<String, String> expected, Map<String, String> actual) {
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            if (!e.getValue().equals(actual.get(e.getKey()))) {
                differ.add(e.getKey() + " (" + e.getValue() + " vs " + actual.get(e.getKey()) + ")");
            }
        }
        return differ;
    }

    private static Map<String, String> runChild(List<String> flags, int rounds) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow(
                () -> new IllegalStateException("cannot tell which java runs the tests; run them with a JDK"));
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        // The kernels' own switches (e.g. -Dsoma.cpu.svml=true, the non-deterministic opt-in) go to
        // the child too, so that both sides run the same code paths.
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("soma.cpu.") && flags.stream().noneMatch(f -> f.startsWith("-D" + key + "="))) {
                cmd.add("-D" + key + "=" + System.getProperty(key));
            }
        }
        cmd.addAll(flags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DeterminismProbe.class.getName());
        cmd.add(Integer.toString(rounds));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish: " + cmd);
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM failed: " + cmd + "\n" + text);
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int sp = line.lastIndexOf(' ');
            // Other lines (the JDK's warning about the incubator module, libjsig's) are not cases.
            if (sp > 0 && (line.contains(" F32 ") || line.contains(" F64 "))) {
                map.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return map;
    }
}
