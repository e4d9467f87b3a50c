package dev.soma.cli;

import dev.soma.backend.DeviceInfo;
import java.io.PrintWriter;
import java.util.Locale;

/** Prints {@link Targets} as {@code soma devices} shows them: each backend, then its devices or why it is absent. */
final class DeviceListing {
    private DeviceListing() {
    }

    static void print(Targets t, PrintWriter out) {
        for (Targets.Probe p : t.probes()) {
            if (!p.available()) {
                out.println(p.kind().id() + ": not available: " + p.reason());
                continue;
            }
            int n = p.availability().devices().size();
            out.println(p.kind().id() + ": " + n + (n == 1 ? " device" : " devices"));
            for (DeviceInfo d : p.availability().devices()) {
                out.println("  " + describe(d));
            }
        }
        out.flush();
    }

    /** "[0] NVIDIA H200 (GPU): 139.8 GiB, 132 compute units, vector width 1; notes". */
    static String describe(DeviceInfo d) {
        StringBuilder b = new StringBuilder();
        b.append('[').append(d.index()).append("] ").append(d.name()).append(d.gpu() ? " (GPU)" : "").append(": ");
        b.append(d.memoryBytes() < 0 ? "memory unknown" : bytes(d.memoryBytes()) + " memory");
        b.append(", ").append(d.computeUnits()).append(d.computeUnits() == 1 ? " compute unit" : " compute units");
        b.append(", vector width ").append(d.vectorWidth());
        if (d.notes() != null && !d.notes().isBlank()) {
            b.append("; ").append(d.notes());
        }
        return b.toString();
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        }
        return n + " bytes";
    }
}
