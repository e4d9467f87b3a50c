package dev.soma.cli;

import dev.soma.Engine;
import dev.soma.backend.Availability;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.Backends;
import dev.soma.backend.DeviceInfo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Every backend this build knows, probed: the devices of each available one (each is a target the
 * main job and {@code soma verify} run on) and the reason for each one that is not available,
 * including the kinds no provider is built for.
 */
record Targets(List<Target> targets, List<Probe> probes) {

    /** One device of one backend. */
    record Target(BackendKind kind, DeviceInfo device) {
        /** "cpu", "opencl:0". */
        String label() {
            return kind == BackendKind.CPU ? "cpu" : kind.id() + ":" + device.index();
        }

        Engine open() {
            return Engine.create(kind, Integer.toString(device.index()));
        }
    }

    /** A backend's probe result; {@code availability} is null when no provider exists for it. */
    record Probe(BackendKind kind, Availability availability, String reason) {
        boolean available() {
            return availability != null && availability.isAvailable();
        }
    }

    /** Probes every backend kind; never throws. */
    static Targets probe() {
        List<Target> targets = new ArrayList<>();
        List<Probe> probes = new ArrayList<>();
        Set<BackendKind> seen = EnumSet.noneOf(BackendKind.class);
        List<BackendProvider> providers;
        try {
            providers = Backends.providers();
        } catch (RuntimeException | LinkageError e) {
            providers = List.of();
        }
        for (BackendProvider p : providers) {
            seen.add(p.kind());
            Availability a;
            try {
                a = p.probe();
            } catch (RuntimeException | LinkageError e) {
                probes.add(new Probe(p.kind(), null, "probe failed: " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage())));
                continue;
            }
            probes.add(new Probe(p.kind(), a, a.isAvailable() ? "" : a.reason()));
            for (DeviceInfo d : a.devices()) {
                targets.add(new Target(p.kind(), d));
            }
        }
        for (BackendKind k : BackendKind.values()) {
            if (k != BackendKind.AUTO && !seen.contains(k)) {
                probes.add(new Probe(k, null, "not built into this version of Soma (no " + k.id() + " provider)"));
            }
        }
        // Stable order for reports: cpu, opencl, cuda.
        probes.sort((x, y) -> Integer.compare(order(x.kind()), order(y.kind())));
        targets.sort((x, y) -> x.kind() == y.kind() ? Integer.compare(x.device().index(), y.device().index())
                : Integer.compare(order(x.kind()), order(y.kind())));
        return new Targets(List.copyOf(targets), List.copyOf(probes));
    }

    private static int order(BackendKind k) {
        return switch (k) {
            case CPU -> 0;
            case OPENCL -> 1;
            case CUDA -> 2;
            case AUTO -> 3;
        };
    }

    /** The targets of one kind (all when {@code kind} is AUTO), optionally one device of it. */
    List<Target> select(BackendKind kind, String device) {
        List<Target> out = new ArrayList<>();
        for (Target t : targets) {
            if (kind != BackendKind.AUTO && t.kind() != kind) {
                continue;
            }
            if (device != null && !matches(t.device(), device)) {
                continue;
            }
            out.add(t);
        }
        return out;
    }

    private static boolean matches(DeviceInfo d, String device) {
        String s = device.trim();
        return s.equals(Integer.toString(d.index()))
                || (!s.isEmpty() && d.name().toLowerCase(java.util.Locale.ROOT).contains(s.toLowerCase(java.util.Locale.ROOT)));
    }
}
