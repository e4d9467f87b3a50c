package dev.soma.benchmark;

import dev.soma.Engine;
import dev.soma.backend.Backend;
import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendProvider;
import dev.soma.backend.Backends;
import dev.soma.backend.device.DeviceBackend;
import java.util.ArrayList;
import java.util.List;

/** Opens the backends a benchmark runs on. */
public final class Targets {
    private Targets() {
    }

    /**
     * Opens one backend. GPU backends built on {@link DeviceBackend} are timed kernel-only through
     * their {@link dev.soma.backend.device.DeviceRuntime}; anything else through the {@link Engine}.
     *
     * @param device device index or name substring for GPU backends; ignored for the CPU
     * @throws dev.soma.backend.BackendUnavailableException when the backend cannot run here
     */
    public static BenchTarget open(BackendKind kind, String device) {
        Engine engine = Engine.create(kind, kind == BackendKind.CPU ? null : device);
        Backend b = engine.backend();
        if (b instanceof DeviceBackend db) {
            return new DeviceTarget(db.runtime(), engine);
        }
        return new EngineTarget(engine);
    }

    /** Every backend this machine can run, the CPU first: the default of {@code soma bench}. */
    public static List<BackendKind> available() {
        List<BackendKind> kinds = new ArrayList<>();
        kinds.add(BackendKind.CPU);
        for (BackendProvider p : Backends.providers()) {
            if (p.kind() == BackendKind.CPU) {
                continue;
            }
            try {
                if (p.probe().isAvailable()) {
                    kinds.add(p.kind());
                }
            } catch (RuntimeException | LinkageError e) {
                // A backend that cannot even probe is simply not available here.
            }
        }
        return kinds;
    }
}
