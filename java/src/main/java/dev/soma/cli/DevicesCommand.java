package dev.soma.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code soma devices}: every backend with its devices, or why it is not available. */
@Command(name = "devices", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Lists every backend (cpu, opencl, cuda) with its devices, or the reason it is not available.",
            "Exits 0 whenever the CPU works, with or without a GPU."})
final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Targets t = Targets.probe();
        DeviceListing.print(t, spec.commandLine().getOut());
        return t.targets().isEmpty() ? 1 : 0;
    }
}
