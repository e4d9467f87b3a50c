package dev.soma.backend;

import java.util.Locale;

/** Where Soma computes. {@link #AUTO} picks a GPU backend when one has a GPU device, else the CPU. */
public enum BackendKind {
    AUTO, CPU, OPENCL, CUDA;

    /** The lower-case name used by the CLI and in reports. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses "auto", "cpu", "opencl" or "cuda", case-insensitively.
     *
     * @throws IllegalArgumentException naming the accepted values
     * @throws NullPointerException     when {@code s} is null
     */
    public static BackendKind parse(String s) {
        if (s == null) {
            throw new NullPointerException("backend name is null; use one of auto, cpu, opencl, cuda");
        }
        for (BackendKind k : values()) {
            if (k.id().equalsIgnoreCase(s.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + s + "'; use one of auto, cpu, opencl, cuda");
    }
}
