package dev.soma.benchmark;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * Whether the JIT has been compiling lately, so warm-up can wait until it has finished with the
 * kernel (Vector API code runs orders of magnitude slower before C2 compiles it, and on a busy
 * machine a C2 compilation can take a long time). Needs the java.management module; without it
 * (a trimmed runtime) the JIT always counts as quiet and warm-up relies on time and steadiness.
 */
final class JitActivity {
    private static final CompilationMXBean BEAN = bean();
    private static long lastTotalMillis = -1;
    private static long lastChangeNanos = System.nanoTime();

    private JitActivity() {
    }

    /**
     * Nanoseconds since the JIT's total compilation time last grew, as seen by the calls to this
     * method (so poll it after every sample); {@code Long.MAX_VALUE} when the JVM does not say.
     */
    static synchronized long quietNanos() {
        if (BEAN == null) {
            return Long.MAX_VALUE;
        }
        long total = BEAN.getTotalCompilationTime();
        long now = System.nanoTime();
        if (total != lastTotalMillis) {
            lastTotalMillis = total;
            lastChangeNanos = now;
        }
        return now - lastChangeNanos;
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
