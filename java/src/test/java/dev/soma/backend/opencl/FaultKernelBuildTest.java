package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.op.Op;
import org.junit.jupiter.api.Test;

/**
 * A kernel program that does not build, fed to PoCL's real compiler through the runtime's
 * {@code overrideSource} seam: the error is one line naming the program, the device, the driver's
 * code and the compiler's first error, the whole log is kept for --debug, nothing leaks, and the
 * engine keeps running the programs that do build (and never switches backend).
 */
class FaultKernelBuildTest {
    /** Valid OpenCL C up to an undeclared identifier, so the compiler's error names it. */
    static final String BROKEN = "__kernel void soma_fwd_f32(__global float *x) { x[0] = soma_no_such_function(x[0]); }\n";

    @Test
    void aProgramThatFailsToBuildIsOneClearErrorAndTheRestStillRuns() {
        OpenClRuntime own = OpenClTestDevice.open();
        own.overrideSource("elementwise.cl", BROKEN);
        int nativeBefore = own.nativeObjectCount();
        try (Engine e = Engine.over(new DeviceBackend(own))) {
            Tensor x = Tensor.of(new float[] {-1f, 0f, 2f}, 3);
            KernelBuildException b = assertThrows(KernelBuildException.class, () -> e.forward(Op.GELU, x));
            String m = b.getMessage();
            assertFalse(m.contains("\n"), "one line: " + m);
            assertTrue(m.startsWith("OpenCL could not build elementwise.cl for " + own.description()), m);
            assertTrue(m.contains("CL_BUILD_PROGRAM_FAILURE"), m);
            assertTrue(m.contains("soma_no_such_function"), "the compiler's first error reaches the message: " + m);
            assertTrue(m.contains("--backend cpu"), m);
            assertTrue(b.buildLog().contains("soma_no_such_function"), b.buildLog());
            assertTrue(b.getCause().getMessage().contains(b.buildLog()), "--debug's stack trace prints the whole log");
            assertEquals(nativeBefore, own.nativeObjectCount(), "the failed program was released, not cached");
            assertEquals(0, own.allocator().liveBuffers(), () -> "leaked " + own.allocator().describeLive());
            // Asked again, it fails again the same way (no half-built program was cached).
            String again = assertThrows(KernelBuildException.class, () -> e.forward(Op.GELU, x)).getMessage();
            assertTrue(again.contains("CL_BUILD_PROGRAM_FAILURE") && again.contains("soma_no_such_function"), again);
            // Other programs still build and run; the engine never moved to another backend.
            Tensor p = e.forward(Op.SOFTMAX, x);
            assertEquals(1.0, p.get(0) + p.get(1) + p.get(2), 1e-6);
            assertEquals(BackendKind.OPENCL, e.backendKind());
            assertEquals(0, own.allocator().liveBuffers());
        }
    }

    @Test
    void theFirstErrorLineIsPickedFromTheLog() {
        assertEquals("<source>:3:9: error: use of undeclared identifier 'q'", KernelBuildException.firstError(
                "\n  <source>:1:1: warning: unused\n<source>:3:9: error: use of undeclared identifier 'q'\n  q;\n"));
        assertEquals("something odd", KernelBuildException.firstError("\n something odd \nmore\n"));
        assertEquals("the driver gave no build log", KernelBuildException.firstError(" \n"));
        assertTrue(KernelBuildException.firstError("error " + "x".repeat(1000)).endsWith("..."));
    }
}
