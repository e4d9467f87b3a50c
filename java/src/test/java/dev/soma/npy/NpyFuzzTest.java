package dev.soma.npy;

import com.code_intelligence.jazzer.api.Jazzer;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the .npy reader with Jazzer (libFuzzer on the JVM). Every input is
 * decoded by {@link NpyFuzzInput} into a file and held to {@link NpyReadOracle}'s rules: read
 * consistently or refused with a one-line {@link NpyFormatException}, nothing else.
 *
 * <p>{@code mvn verify} runs it in fuzzing mode for a fixed number of executions (50,000) from a fixed
 * seed, in its own fork (the {@code npy-fuzz} surefire execution in java/pom.xml, which says how to
 * run longer or with another seed). Alone: {@code mvn verify -pl java -am -DskipITs -Dtest=NpyFuzzTest
 * -Dsoma.fuzz.skip=false}. Its seeds and every input that ever crashed it live in
 * {@code src/test/resources/dev/soma/npy/NpyFuzzTestInputs} and replay as plain tests; each crash
 * also has its decoded .npy file, with the reason, in {@code npy/regressions} (see
 * {@link NpyRegressionTest}).
 */
class NpyFuzzTest {
    /**
     * Where each input is written for the reader. A fixed path (the pom's soma.fuzz.workDir, in
     * target/): the name appears in every message, and a random one would change the coverage the
     * messages produce and so the fuzzer's path from one run to the next.
     */
    private static final Path FILE;

    static {
        try {
            String work = System.getProperty("soma.fuzz.workDir");
            Path dir = work != null ? Files.createDirectories(Path.of(work)) : Files.createTempDirectory("soma-npy-fuzz");
            FILE = dir.resolve("fuzz.npy");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Outcomes so far in this JVM, for the summary line (the README quotes it). */
    private static long read;
    private static long refused;

    @AfterAll
    static void summary() {
        System.out.printf("npy fuzz: %d inputs, %d refused with a one-line NpyFormatException, %d read and "
                + "checked element by element; no other outcome%n", read + refused, refused, read);
    }

    /**
     * The working corpus (the pom names it in target/, as libFuzzer's third argument) starts empty,
     * so that a run depends only on the seed, the checked-in inputs and the execution count; with
     * {@code -Dsoma.fuzz.keepCorpus=true} a run builds on what earlier runs found. libFuzzer also
     * refuses a corpus directory that does not exist, which a clean build has not made yet.
     */
    @BeforeAll
    static void prepareCorpusDirectory() throws IOException {
        for (int i = 1; System.getProperty("jazzer.internal.arg." + i) != null; i++) {
            String arg = System.getProperty("jazzer.internal.arg." + i);
            if (arg.startsWith("-")) {
                continue;
            }
            Path corpus = Path.of(arg);
            if (!Boolean.getBoolean("soma.fuzz.keepCorpus") && Files.isDirectory(corpus)) {
                try (Stream<Path> files = Files.list(corpus)) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
            }
            Files.createDirectories(corpus);
        }
    }

    @FuzzTest(maxExecutions = 200_000)
    @DictionaryEntries({"'descr'", "'fortran_order'", "'shape'", "'<f4'", "'>f4'", "'<f8'", "'>f8'", "'=f4'",
        "'|O'", "'<i8'", "[('a', '<f4')]", "True", "False", "None", "()", "(0,)", "(1,)", "(3, 2)", ", ", ": ",
        "9223372036854775807", "4611686018427387904", "18446744073709551616", "-1", "2147483648", "65536",
        "1L", "\\'", "\\\\", "\\n", "\"", "{", "}", "(", ")", "[", "]", "PK"})
    void readerRefusesOrReadsConsistently(byte[] input) throws IOException {
        NpyFuzzInput.Decoded d = NpyFuzzInput.decode(input);
        if (d.header() != null) {
            // Feedback beyond code coverage: the Fortran conversion runs the same lines for every
            // shape, but its mistakes show only in some (a first axis of 3 or more, rank 3 and up),
            // so ask the fuzzer to reach every mix of rank, order and small dimensions.
            long[] shape = d.header().shape();
            int dims = 0;
            for (int a = 0; a < Math.min(3, shape.length); a++) {
                dims = dims * 4 + (int) Math.min(shape[a], 3);
            }
            Jazzer.exploreState((byte) (dims | (d.header().fortranOrder() ? 64 : 0)), Math.min(shape.length, 15));
        }
        if (NpyReadOracle.check(FILE, d.file()).read()) {
            read++;
        } else {
            refused++;
        }
    }
}
