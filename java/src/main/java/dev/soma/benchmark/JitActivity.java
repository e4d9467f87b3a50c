package dev.soma.benchmark;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * How much the JIT has compiled so far, so warm-up can wait until it has finished with the kernel.
 * Needs the java.management module; without it (a trimmed runtime) the answer is always the same,
 * and warm-up relies on time and steadiness alone.
 */
final class JitActivity {
    private static final CompilationMXBean BEAN = bean();

    private JitActivity() {
    }

    /** Total milliseconds the JIT compilers have spent, or -1 when the JVM does not say. */
    static long compileMillis() {
        return BEAN == null ? -1 : BEAN.getTotalCompilationTime();
    }

    private static CompilationMXBean bean() {
        try {
            CompilationMXBean b = ManagementFactory.getCompilationMXBean();
            return b != null && b.isCompilationTimeMonitoringSupported() ? b : null;
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
