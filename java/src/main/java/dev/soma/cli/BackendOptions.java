package dev.soma.cli;

import dev.soma.Engine;
import dev.soma.backend.BackendKind;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Where to compute: {@code --backend}, {@code --device} and {@code --device-memory}. */
final class BackendOptions {

    @Option(names = "--backend", paramLabel = "B", converter = KindConverter.class, defaultValue = "auto",
            description = "auto (a GPU if one works, else the CPU), cpu, opencl or cuda. Default: ${DEFAULT-VALUE}.")
    BackendKind kind;

    @Option(names = "--device", paramLabel = "D",
            description = "Device index or part of its name, as listed by 'soma devices'. Default: the backend's first GPU.")
    String device;

    @Option(names = "--device-memory", paramLabel = "SIZE", converter = ByteSizeConverter.class,
            description = {"Most device memory to use, e.g. 512M or 2G (suffixes K, M, G, T: powers of 1024).",
                "Larger inputs are streamed through the device in chunks. Default: the device's free memory."})
    Long deviceMemory;

    Engine open() {
        Engine e = Engine.create(kind, device);
        if (deviceMemory != null) {
            e.setDeviceMemory(deviceMemory);
        }
        return e;
    }

    /** "512M", "2g", "65536", "1.5G" to bytes (powers of 1024). */
    static long parseBytes(String text) {
        String s = text.trim().toUpperCase(java.util.Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B")) {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        if (!s.isEmpty()) {
            char c = s.charAt(s.length() - 1);
            int shift = "KMGT".indexOf(c);
            if (shift >= 0) {
                unit = 1L << (10 * (shift + 1));
                s = s.substring(0, s.length() - 1);
            }
        }
        double v;
        try {
            v = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a size; write e.g. 512M, 2G or 1048576");
        }
        double bytes = v * unit;
        if (bytes > Long.MAX_VALUE / 2) {
            throw new IllegalArgumentException("size '" + text + "' is beyond any device; write e.g. 512M or 80G");
        }
        if (!(bytes >= 1)) {
            throw new IllegalArgumentException("size '" + text + "' must be at least 1 byte and finite; write e.g. 512M or 2G");
        }
        return (long) bytes;
    }

    static final class ByteSizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return parseBytes(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
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
