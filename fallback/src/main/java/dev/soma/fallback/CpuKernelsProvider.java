package dev.soma.fallback;

/**
 * Chooses the CPU kernels at start-up, as Lucene's VectorizationProvider does: the Vector API path
 * when the {@code jdk.incubator.vector} module is present and the hardware has SIMD, else the scalar
 * path, logging one line with the reason and how to enable the fast path.
 * The system property {@code soma.cpu.kernels} ({@code vector} or {@code scalar}) forces a path.
 */
public final class CpuKernelsProvider {
    private CpuKernelsProvider() {
    }

    /** The scalar double-precision reference: the truth for every test. */
    public static CpuKernels reference() {
        return new dev.soma.fallback.scalar.ScalarKernels(); // stateless: a fresh one costs nothing
    }

    /** float32 SIMD lanes the fast path uses (1 on the scalar path). */
    public static int floatLanes() {
        throw new UnsupportedOperationException("filled in by the CPU kernels work");
    }

    /** The fastest available CPU kernels (chosen once, cached). */
    public static CpuKernels fastest() {
        throw new UnsupportedOperationException("filled in by the CPU kernels work");
    }
}
