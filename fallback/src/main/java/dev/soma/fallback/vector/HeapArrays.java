package dev.soma.fallback.vector;

import java.lang.foreign.MemorySegment;

/**
 * The Java array behind a heap segment, for the elementwise loops over arrays
 * ({@code Elementwise32Arrays}, {@code Elementwise64Arrays}). C2 compiles {@code fromArray} and
 * {@code intoArray} to vector instructions, but not Vector API access to {@code MemorySegment.ofArray}
 * (see {@link Staging}), so an elementwise op whose operands are all arrays runs on the arrays
 * directly, with no copies. Read-only segments have no accessible array and are staged instead.
 */
final class HeapArrays {
    private HeapArrays() {
    }

    /** The float[] behind {@code s} when its offset is a whole number of floats, else null. */
    static float[] floats(MemorySegment s) {
        if (s.isNative() || s.address() % Float.BYTES != 0) {
            return null;
        }
        return s.heapBase().orElse(null) instanceof float[] a ? a : null;
    }

    /** The double[] behind {@code s} when its offset is a whole number of doubles, else null. */
    static double[] doubles(MemorySegment s) {
        if (s.isNative() || s.address() % Double.BYTES != 0) {
            return null;
        }
        return s.heapBase().orElse(null) instanceof double[] a ? a : null;
    }

    /** The index in its array of element 0 of heap segment {@code s} ({@code address()} is its byte offset there). */
    static int index(MemorySegment s, int elementBytes) {
        return (int) (s.address() / elementBytes);
    }
}
