package dev.soma.npy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.soma.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NumPy itself reads what Soma writes (skipped, with the reason, where python3 with numpy is absent). */
class NpyNumPyInteropTest {
    @TempDir
    Path dir;

    private static String python(String script) throws IOException, InterruptedException {
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true);
            // The test JVM may run with libjsig preloaded (the pom's signal-chaining profile); Python
            // does not need it, and libjsig prints a warning into Python's output when it calls signal().
            pb.environment().remove("LD_PRELOAD");
            p = pb.start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed: " + e.getMessage());
            return "";
        }
        // The JDK's process-launch helper inherits the preload and libjsig warns there; not Python's output.
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .replaceAll("(?m)^OpenJDK VM warning: the use of signal\\(\\) and sigset\\(\\).*\\R?", "");
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("python3 did not finish");
        }
        Assumptions.assumeFalse(out.contains("No module named 'numpy'"), "numpy is not installed for python3");
        assertEquals(0, p.exitValue(), out);
        return out.strip();
    }

    @Test
    void numpyReadsSomaOutput() throws Exception {
        Path f32 = dir.resolve("a.npy");
        Path f64 = dir.resolve("b.npy");
        Path zeroD = dir.resolve("c.npy");
        Path empty = dir.resolve("d.npy");
        Tensor t = Tensor.allocate(dev.soma.op.DType.F32, 2, 3, 4);
        for (int i = 0; i < 24; i++) {
            t.set(i, NpyTestFiles.value(i));
        }
        NpyWriter.write(f32, t);
        NpyWriter.write(f64, Tensor.of(new double[] {Double.NaN, Double.NEGATIVE_INFINITY, -0.0, 1e300}));
        Tensor scalar = Tensor.allocate(dev.soma.op.DType.F64);
        scalar.set(0, 2.5);
        NpyWriter.write(zeroD, scalar);
        NpyWriter.write(empty, Tensor.allocate(dev.soma.op.DType.F32, 0, 7));
        String out = python("""
                import numpy as np, sys
                a = np.load(sys.argv[1] if len(sys.argv) > 1 else '%s', allow_pickle=False)
                b = np.load('%s', allow_pickle=False)
                c = np.load('%s', allow_pickle=False)
                d = np.load('%s', allow_pickle=False)
                ok = (a.dtype == np.float32 and a.shape == (2, 3, 4)
                      and np.array_equal(a.ravel(), np.arange(24) * 0.25 - 1)
                      and b.dtype == np.float64 and np.isnan(b[0]) and b[1] == -np.inf and b[3] == 1e300
                      and c.shape == () and c == 2.5 and d.shape == (0, 7) and d.dtype == np.float32)
                print("ok" if ok else ("bad", a, b, c, d))
                """.formatted(f32, f64, zeroD, empty));
        assertEquals("ok", out);
    }
}
