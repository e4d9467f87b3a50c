package dev.soma.fallback.vector;

import dev.soma.fallback.CpuKernelsProvider;

/** Child-JVM entry point for {@link VectorProviderTest}: prints the chosen path. */
public final class ProviderProbe {
    private ProviderProbe() {
    }

    public static void main(String[] args) {
        System.out.println("kernels=" + CpuKernelsProvider.fastest().name() + " lanes=" + CpuKernelsProvider.floatLanes());
    }
}
