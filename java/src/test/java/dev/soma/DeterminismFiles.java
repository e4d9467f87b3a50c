package dev.soma;

import dev.soma.op.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Compares the output files of two determinism runs bit for bit (NaNs: any NaN, see {@link Bits}). */
final class DeterminismFiles {
    private DeterminismFiles() {
    }

    /**
     * Every output file of {@code base} against the same file in {@code other}.
     *
     * @return case file name to the difference, for the files that differ (missing files included)
     */
    static Map<String, String> differences(Path base, Path other) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(base)) {
            files = new ArrayList<>(s.filter(p -> p.toString().endsWith(".bin")).sorted().toList());
        }
        if (files.isEmpty()) {
            out.put("(all)", base + " holds no outputs");
        }
        for (Path f : files) {
            Path g = other.resolve(f.getFileName());
            if (!Files.isRegularFile(g)) {
                out.put(f.getFileName().toString(), "missing in " + other);
                continue;
            }
            DType t = f.getFileName().toString().contains("_float64_") ? DType.F64 : DType.F32;
            String d = Bits.firstDifference(read(f, t), read(g, t));
            if (d != null) {
                out.put(f.getFileName().toString(), d);
            }
        }
        return out;
    }

    /** A file of raw native-order elements as a flat tensor. */
    static Tensor read(Path f, DType t) throws IOException {
        byte[] b = Files.readAllBytes(f);
        Tensor x = Tensor.allocate(t, b.length / t.byteSize());
        MemorySegment.copy(MemorySegment.ofArray(b), ValueLayout.JAVA_BYTE, 0, x.segment(), ValueLayout.JAVA_BYTE, 0,
                b.length);
        return x;
    }

    /** The op of a case file name ({@code gelu_fwd_float32_100003.0.bin} gives {@code gelu}). */
    static String op(String file) {
        int i = file.indexOf("_fwd_");
        int j = file.indexOf("_bwd_");
        return file.substring(0, Math.max(i, j));
    }
}
