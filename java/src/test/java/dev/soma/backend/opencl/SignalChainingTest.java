package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignalChainingTest {
    private static final String JSIG_LINE =
            "7f3a1c000000-7f3a1c001000 r-xp 00000000 08:01 123 /usr/lib/jvm/temurin-25/lib/libjsig.so";
    private static final String OTHER_LINE =
            "7f3a1d000000-7f3a1d001000 r-xp 00000000 08:01 124 /usr/lib/x86_64-linux-gnu/libjsig.so.bak";

    @Test
    void recognisesOnlyTheLibraryItself() {
        assertTrue(SignalChaining.mapsLibjsig(JSIG_LINE));
        assertFalse(SignalChaining.mapsLibjsig(OTHER_LINE));
        assertFalse(SignalChaining.mapsLibjsig("7f3a1e000000-7f3a1e001000 rw-p 00000000 00:00 0 [heap]"));
    }

    @Test
    void readsAMapsFile(@TempDir Path dir) throws IOException {
        Path with = Files.write(dir.resolve("with"), List.of(OTHER_LINE, JSIG_LINE));
        Path without = Files.write(dir.resolve("without"), List.of(OTHER_LINE));
        assertEquals(Boolean.TRUE, SignalChaining.loaded(with));
        assertEquals(Boolean.FALSE, SignalChaining.loaded(without));
        assertNull(SignalChaining.loaded(dir.resolve("absent")), "unknown, so stay silent");
    }

    @Test
    void seesThePreloadOfThisTestJvm() {
        String preload = System.getenv("LD_PRELOAD");
        assumeTrue(preload != null && preload.contains("libjsig"),
                "this test JVM was started without libjsig in LD_PRELOAD (the pom's signal-chaining profile sets it on Linux)");
        assertEquals(Boolean.TRUE, SignalChaining.loaded(Path.of("/proc/self/maps")));
    }
}
