package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** All-or-nothing output: failures and crashes never leave a partial file at the target. */
class NpyAtomicWriteTest {
    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void failedWriteLeavesExistingOutputUntouchedAndNoTempFiles() throws IOException {
        Path out = dir.resolve("out.npy");
        NpyWriter.write(out, Tensor.of(new float[] {1, 2, 3}));
        byte[] before = Files.readAllBytes(out);

        RuntimeException boom = assertThrows(RuntimeException.class, () -> {
            try (NpyOutput o = NpyOutput.create(out, DType.F64, 1000, 1000)) {
                assertTrue(Files.exists(o.temp()), "work happens in a temporary file");
                o.tensor().fill(7);
                throw new RuntimeException("simulated failure mid-run");
            }
        });
        assertEquals("simulated failure mid-run", boom.getMessage());
        assertArrayEquals(before, Files.readAllBytes(out));
        assertEquals(List.of(out), listing(), "no temporary file left behind");
    }

    @Test
    void commitReplacesAtomicallyAndDeletesNothingElse() throws IOException {
        Path out = dir.resolve("out.npy");
        Files.writeString(dir.resolve("other.txt"), "keep me");
        NpyWriter.write(out, Tensor.of(new float[] {1, 2, 3}));
        NpyWriter.write(out, Tensor.of(new double[] {4, 5}));
        try (NpyArray a = NpyReader.read(out)) {
            assertArrayEquals(new double[] {4, 5}, a.tensor().toDoubleArray());
        }
        assertEquals(List.of(dir.resolve("other.txt"), out), listing());
        assertFalse(Files.getPosixFilePermissions(out).isEmpty());
    }

    @Test
    void missingDirectoryIsNamed() {
        Path out = dir.resolve("no/such/dir/out.npy");
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> NpyWriter.write(out, Tensor.of(new float[] {1})));
        assertTrue(e.getMessage().contains("does not exist; create it first"), e.getMessage());
    }

    @Test
    void outputOverADirectoryIsRefused() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> NpyWriter.write(sub, Tensor.of(new float[] {1})));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void killedWriterLeavesNoPartialOutput() throws Exception {
        Path fresh = dir.resolve("fresh.npy");
        Path existing = dir.resolve("existing.npy");
        NpyWriter.write(existing, Tensor.of(new float[] {9, 8, 7}));
        byte[] before = Files.readAllBytes(existing);

        for (Path target : List.of(fresh, existing)) {
            Path temp = killMidWrite(target, 32L << 20);
            assertTrue(temp.getFileName().toString().startsWith("." + target.getFileName()), temp.toString());
            assertTrue(temp.getFileName().toString().endsWith(NpyOutput.TEMP_SUFFIX), temp.toString());
            Files.deleteIfExists(temp);
        }
        assertFalse(Files.exists(fresh), "a killed writer must not leave a partial output");
        assertArrayEquals(before, Files.readAllBytes(existing), "a killed writer must leave the old output intact");
        assertEquals(List.of(existing), listing());
    }

    /** Runs {@link NpyCrashWriter} in a child JVM, SIGKILLs it halfway, returns its temporary file. */
    private static Path killMidWrite(Path target, long elements) throws Exception {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                NpyCrashWriter.class.getName(), target.toString(), Long.toString(elements))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            assertTrue(line != null && line.startsWith("HALFWAY "), "child did not reach the middle: " + line);
            Path temp = Path.of(line.substring("HALFWAY ".length()));
            assertTrue(Files.exists(temp));
            assertTrue(Files.size(temp) > elements * 4, "the temporary file holds the mapped data");
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child did not die");
            return temp;
        } finally {
            p.destroyForcibly();
        }
    }
}
