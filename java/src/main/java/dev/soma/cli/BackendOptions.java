package dev.soma.cli;

import dev.soma.Engine;
import dev.soma.backend.BackendKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Where to compute: {@code --backend} and {@code --device}. */
final class BackendOptions {

    @Option(names = "--backend", paramLabel = "B", converter = KindConverter.class, defaultValue = "auto",
            description = "auto (a GPU if one works, else the CPU), cpu, opencl or cuda. Default: ${DEFAULT-VALUE}.")
    BackendKind kind;

    @Option(names = "--device", paramLabel = "D",
            description = "Device index or part of its name, as listed by 'soma devices'. Default: the backend's first GPU.")
    String device;

    Engine open() {
        return Engine.create(kind, device);
    }

    /** Parses backend names with {@link BackendKind#parse}. */
    static final class KindConverter implements ITypeConverter<BackendKind> {
        @Override
        public BackendKind convert(String value) {
            try {
                return BackendKind.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
