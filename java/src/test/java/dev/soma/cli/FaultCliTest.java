package dev.soma.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.Backends;
import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.fallback.Samples;
import dev.soma.npy.NpyWriter;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device faults as the CLI reports them: a real out-of-memory in the middle of {@code soma apply}
 * (after the output's temporary file was created) is one line and exit 1, the existing output is
 * untouched and no temporary file remains; device errors and a SIGBUS on a mapped file are never
 * reported as internal errors.
 */
class FaultCliTest {
    @TempDir
    Path dir;

    private static void assumeOpenCl() {
        var a = Backends.provider(BackendKind.OPENCL).probe();
        if (!a.isAvailable() && (System.getenv("SOMA_REQUIRE_OPENCL") != null || Boolean.getBoolean("soma.requireOpenCL"))) {
            throw new AssertionError("OpenCL is required here but unavailable: " + a.reason());
        }
        Assumptions.assumeTrue(a.isAvailable(), "no OpenCL device: " + a.reason());
    }

    @Test
    void aDeviceOutOfMemoryMidRunLeavesTheExistingOutput() throws IOException {
        assumeOpenCl();
        Path in = dir.resolve("rows.npy");
        NpyWriter.write(in, Tensor.wrap(Samples.input(OpArgs.of(Op.SOFTMAX), DType.F32, 2 * 5000, 1), DType.F32, 2, 5000));
        Path chans = dir.resolve("chans.npy");
        NpyWriter.write(chans, Tensor.wrap(Samples.input(OpArgs.of(Op.PRELU), DType.F32, 2 * 5000, 2), DType.F32, 1, 2, 5000));
        Path w = dir.resolve("w.npy");
        NpyWriter.write(w, Tensor.of(new float[] {0.25f, 0.5f}, 2));
        Path out = dir.resolve("y.npy");
        NpyWriter.write(out, Tensor.of(new float[] {1f, 2f, 3f}, 3));
        byte[] before = Files.readAllBytes(out);
        List<List<String>> runs = List.of(
                // Not even one piece of a 5000-float row fits 8 bytes.
                List.of("apply", "--backend", "opencl", "--device-memory", "8", "--op", "softmax", "--in", in.toString(),
                        "--out", out.toString()),
                // One PReLU channel of 5000 floats does not fit 4 KiB.
                List.of("apply", "--backend", "opencl", "--device-memory", "4K", "--op", "prelu", "--weight", w.toString(),
                        "--in", chans.toString(), "--out", out.toString()));
        for (List<String> args : runs) {
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(1, r.code(), r.toString());
            List<String> lines = r.errLines().stream().filter(l -> !l.contains("libjsig")).toList();
            assertEquals(1, lines.size(), r.toString());
            assertTrue(lines.get(0).startsWith("soma: ") && lines.get(0).contains("raise --device-memory")
                    && !lines.get(0).contains("internal error"), r.toString());
            assertArrayEquals(before, Files.readAllBytes(out), "the existing output must be untouched");
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".")).toList(),
                        "temporary files left");
            }
        }
    }

    @Test
    void deviceFaultsAndMappedFileFaultsAreNotInternalErrors() {
        String lost = ErrorReport.describe(new DeviceLostException("Some GPU", "a kernel launch", "CL_OUT_OF_RESOURCES", null));
        assertTrue(lost.startsWith("Some GPU failed during a kernel launch (CL_OUT_OF_RESOURCES)"), lost);
        assertEquals("out of device memory on G: asked for 8 bytes with 4 free; use a smaller tensor or a smaller"
                + " --device-memory budget", ErrorReport.describe(new DeviceOutOfMemoryException("G", 8, 4)));
        String sigbus = ErrorReport.describe(new InternalError("a fault occurred in an unsafe memory access operation"));
        assertTrue(sigbus.startsWith("a memory-mapped file could not be read or written"), sigbus);
        for (String s : List.of(lost, sigbus)) {
            assertFalse(s.contains("internal error") || s.contains("\n"), s);
        }
        assertTrue(ErrorReport.describe(new InternalError("something else")).startsWith("internal error"));
    }
}
