package dev.soma.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The generated kernel sources are what their generators write today: each generator, run with
 * {@code --check}, compares instead of writing. A hand edit of a generated file (or a template
 * edit without a rerun) fails here with the generator's name. Needs python3 (skipped, and said so,
 * where there is none).
 */
class GeneratedSourcesTest {
    @ParameterizedTest
    @ValueSource(strings = {"gen_elementwise_loops.py", "gen_softmax_pipeline_arrays.py", "gen_strided_columns.py"})
    void generatedFilesAreUpToDate(String generator) throws IOException, InterruptedException {
        Path script = Path.of("tools", generator).toAbsolutePath();
        Assumptions.assumeTrue(Files.exists(script), "not run from the fallback module: " + script);
        Process p;
        try {
            p = new ProcessBuilder("python3", script.toString(), "--check").redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), generator + " --check: " + out.strip());
    }
}
