package dev.soma.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.cpu.CpuBackendProvider;
import dev.soma.backend.opencl.GpuPretender;
import dev.soma.backend.opencl.GpuPretender.Failure;
import dev.soma.op.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code auto} with a GPU that fails at start-up (its kernels do not build on the real compiler, or
 * its context cannot be created) falls back to the CPU with exactly one warning line, through the
 * System.Logger the API logs to (the CLI prints it on stderr), and closes what it opened; a GPU
 * that works is taken silently; an explicit backend never changes.
 */
class FaultAutoFallbackTest {
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                synchronized (records) {
                    records.add(r);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        Logger.getLogger("dev.soma").addHandler(capture);
    }

    @AfterEach
    void stopListening() {
        Logger.getLogger("dev.soma").removeHandler(capture);
    }

    private static void assumeOpenCl() {
        Availability a = new dev.soma.backend.opencl.OpenClBackendProvider().probe();
        boolean required = System.getenv("SOMA_REQUIRE_OPENCL") != null || Boolean.getBoolean("soma.requireOpenCL");
        if (!a.isAvailable() && required) {
            throw new AssertionError("OpenCL is required here but unavailable: " + a.reason());
        }
        Assumptions.assumeTrue(a.isAvailable(), "no OpenCL device: " + a.reason());
    }

    private List<String> warnings() {
        synchronized (records) {
            return records.stream().map(LogRecord::getMessage).toList();
        }
    }

    private void fallsBackWithOneWarning(Failure failure, String reason) {
        assumeOpenCl();
        GpuPretender gpu = new GpuPretender(failure);
        try (Engine e = Engine.over(Backends.openAuto(List.of(gpu, new CpuBackendProvider()), null))) {
            assertEquals(BackendKind.CPU, e.backendKind());
            List<String> w = warnings();
            assertEquals(1, w.size(), "one warning line: " + w);
            String line = w.get(0);
            assertFalse(line.contains("\n") || line.contains("\r"), "one line: " + line);
            assertTrue(line.startsWith("auto: opencl failed to start (") && line.endsWith("; using cpu instead"), line);
            assertTrue(line.contains(reason), line);
            Tensor y = e.forward(Op.RELU, Tensor.of(new float[] {-1f, 2f}, 2));
            assertEquals(2.0, y.get(1));
            assertTrue(gpu.allClosed(), "the GPU backend that failed its start-up check was closed");
        } finally {
            gpu.closeAll();
        }
    }

    @Test
    void aKernelThatDoesNotBuildFallsBackToTheCpuWithOneWarning() {
        fallsBackWithOneWarning(Failure.KERNEL_BUILD, "soma_no_such_function");
    }

    @Test
    void aContextThatCannotBeCreatedFallsBackToTheCpuWithOneWarning() {
        fallsBackWithOneWarning(Failure.CONTEXT, "CL_OUT_OF_HOST_MEMORY");
    }

    @Test
    void twoFailingGpuBackendsStillGiveOneWarningLine() {
        assumeOpenCl();
        GpuPretender a = new GpuPretender(Failure.CONTEXT);
        GpuPretender b = new GpuPretender(Failure.KERNEL_BUILD);
        try (Engine e = Engine.over(Backends.openAuto(List.of(a, b, new CpuBackendProvider()), null))) {
            assertEquals(BackendKind.CPU, e.backendKind());
            assertEquals(1, warnings().size(), warnings().toString());
            assertTrue(b.allClosed());
        } finally {
            b.closeAll();
        }
    }

    @Test
    void aWorkingGpuIsTakenWithoutAWarning() {
        assumeOpenCl();
        GpuPretender gpu = new GpuPretender(Failure.NONE);
        try (Engine e = Engine.over(Backends.openAuto(List.of(gpu, new CpuBackendProvider()), null))) {
            assertEquals(BackendKind.OPENCL, e.backendKind());
            assertEquals(List.of(), warnings());
        } finally {
            gpu.closeAll();
        }
    }

    @Test
    void anExplicitBackendFailsWithTheReasonAndNeverChanges() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Engine.create(BackendKind.OPENCL, "no-such-device-xyz"));
        assertTrue(e.getMessage().contains("no-such-device-xyz") || e.getMessage().contains("not available"),
                e.getMessage());
        if (!new dev.soma.backend.cuda.CudaBackendProvider().probe().isAvailable()) {
            BackendUnavailableException c = assertThrows(BackendUnavailableException.class, () -> Engine.create("cuda"));
            assertTrue(c.getMessage().startsWith("cuda backend is not available: "), c.getMessage());
        }
        assertEquals(List.of(), warnings(), "an explicit backend never logs a fallback");
    }

    @Test
    void aGpuCheckThatComputesWrongValuesIsRejected() {
        Backend liar = new dev.soma.backend.cpu.CpuBackendProvider().open(null);
        Backend wrong = new Backend() {
            @Override
            public BackendKind kind() {
                return BackendKind.OPENCL;
            }

            @Override
            public String description() {
                return "a GPU that computes garbage";
            }

            @Override
            public void forward(dev.soma.op.OpArgs args, Tensor x, Tensor weight, Tensor y) {
                liar.forward(dev.soma.op.OpArgs.of(Op.TANH), x, weight, y);  // the wrong op
            }

            @Override
            public void backward(dev.soma.op.OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void close() {
                liar.close();
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.startupCheck(wrong));
        assertTrue(e.getMessage().contains("a GPU that computes garbage computed sigmoid(-2.0)"), e.getMessage());
        wrong.close();
    }
}
