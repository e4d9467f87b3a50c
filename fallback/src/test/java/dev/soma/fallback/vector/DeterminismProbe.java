package dev.soma.fallback.vector;

import dev.soma.fallback.CpuKernels;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs every elementwise op (and prelu in its three layouts), forward and backward, float32 and
 * float64, on fixed-seed data with every special value, and fingerprints the output bits. The
 * determinism test runs it in-process and in child JVMs with other JIT tiers and thread counts
 * (its {@link #main} prints one "case fingerprint" line per case) and compares the fingerprints.
 */
final class DeterminismProbe {
    /** Not a multiple of any vector length: every loop has a masked tail. */
    static final long N = 4099;

    private DeterminismProbe() {
    }

    /**
     * Args: rounds. Every case runs {@code rounds} times; a case whose fingerprint changes between
     * rounds prints "UNSTABLE" (that is the in-tier version of the bug, caught in one JVM).
     */
    public static void main(String[] args) {
        int rounds = Integer.parseInt(args[0]);
        Map<String, String> first = fingerprints();
        for (int r = 1; r < rounds; r++) {
            Map<String, String> again = fingerprints();
            for (Map.Entry<String, String> e : again.entrySet()) {
                if (!e.getValue().equals(first.get(e.getKey()))) {
                    first.put(e.getKey(), "UNSTABLE-in-round-" + r);
                }
            }
        }
        StringBuilder out = new StringBuilder();
        first.forEach((k, v) -> out.append(k).append(' ').append(v).append('\n'));
        System.out.print(out);
        System.out.flush();
    }

    /** Case name to fingerprint of all its output bits, in a fixed order. */
    static Map<String, String> fingerprints() {
        CpuKernels k = new VectorKernels();
        Map<String, String> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofShared()) {
            for (DType t : DType.values()) {
                MemorySegment dy = arena.allocate(N * t.byteSize(), 64);
                Samples.fillGradient(t, dy, N, 7);
                MemorySegment y = arena.allocate(N * t.byteSize(), 64);
                for (Op op : Op.values()) {
                    if (op.family() != Family.ELEMENTWISE) {
                        continue;
                    }
                    OpArgs a = op.defaults();
                    MemorySegment x = arena.allocate(N * t.byteSize(), 64);
                    Samples.fillInput(a, t, x, N, 1000 + op.ordinal());
                    k.forward(a, t, x, y, N);
                    out.put(op.id() + " " + t + " forward", fingerprint(t, y, N));
                    k.backward(a, t, x, dy, y, N);
                    out.put(op.id() + " " + t + " backward", fingerprint(t, y, N));
                }
                prelu(k, arena, t, dy, out, 1, 4099, 1, 1, "one weight");
                prelu(k, arena, t, dy, out, 5, 3, 5, 273, "rows");
                prelu(k, arena, t, dy, out, 15, 273, 15, 1, "channels last");
            }
        }
        return out;
    }

    private static void prelu(CpuKernels k, Arena arena, DType t, MemorySegment dy, Map<String, String> out,
                              long weights, long outer, long channels, long inner, String layout) {
        long n = outer * channels * inner;
        OpArgs a = Op.PRELU.defaults();
        MemorySegment x = arena.allocate(n * t.byteSize(), 64);
        Samples.fillInput(a, t, x, n, 99);
        MemorySegment w = arena.allocate(weights * t.byteSize(), 64);
        Samples.fillGradient(t, w, weights, 5);
        MemorySegment y = arena.allocate(n * t.byteSize(), 64);
        MemorySegment dw = arena.allocate(weights * t.byteSize(), 64);
        k.preluForward(t, x, w, weights, y, outer, channels, inner);
        out.put("prelu " + layout + " " + t + " forward", fingerprint(t, y, n));
        k.preluBackward(t, x, w, weights, dy, y, dw, outer, channels, inner);
        out.put("prelu " + layout + " " + t + " backward dx", fingerprint(t, y, n));
        out.put("prelu " + layout + " " + t + " backward dw", fingerprint(t, dw, weights));
    }

    /** FNV-1a over the raw bits of each element (NaN payloads included). */
    static String fingerprint(DType t, MemorySegment s, long n) {
        long h = 0xcbf29ce484222325L;
        for (long i = 0; i < n; i++) {
            long bits = t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_INT, i) : s.getAtIndex(ValueLayout.JAVA_LONG, i);
            h = (h ^ bits) * 0x100000001b3L;
        }
        return Long.toHexString(h);
    }
}
