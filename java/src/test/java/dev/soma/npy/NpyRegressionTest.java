package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every file that once broke the reader's rules, found by the fuzzer or by reading the code, kept in
 * {@code npy/regressions} and listed with its reason in {@code index.txt}: each must now be refused
 * with the expected one-line message (or read), within {@link NpyReadOracle}'s bounds.
 */
class NpyRegressionTest {
    private static final String DIR = "/npy/regressions/";

    static Stream<Arguments> regressions() throws IOException {
        List<String> lines;
        try (InputStream in = Objects.requireNonNull(NpyRegressionTest.class.getResourceAsStream(DIR + "index.txt"))) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
        return lines.stream().map(l -> {
            String[] f = l.split(" \\| ", 3);
            return Arguments.of(f[0], f[1], f[2]);
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("regressions")
    void stillHandled(String file, String expected, String why) throws IOException, URISyntaxException {
        Path p = Path.of(Objects.requireNonNull(getClass().getResource(DIR + file), file).toURI());
        NpyReadOracle.Outcome o = NpyReadOracle.check(p);
        if (expected.equals("read")) {
            assertTrue(o.read(), file + " (" + why + "): refused: " + o.message());
        } else {
            assertTrue(expected.startsWith("refused: "), "index.txt: outcome must be 'read' or 'refused: ...'");
            assertFalse(o.read(), file + " (" + why + "): was read");
            assertTrue(o.message().contains(expected.substring("refused: ".length())), file + ": " + o.message());
        }
    }

    @Test
    void indexListsEveryFile() throws IOException, URISyntaxException {
        Path dir = Path.of(Objects.requireNonNull(getClass().getResource(DIR)).toURI());
        List<String> files;
        try (Stream<Path> s = java.nio.file.Files.list(dir)) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".npy")).sorted().toList();
        }
        assertEquals(files, regressions().map(a -> (String) a.get()[0]).sorted().toList(),
                "every file in " + DIR + " needs a line in index.txt saying why it is there");
    }
}
