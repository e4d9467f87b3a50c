package dev.soma.fallback.vector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes the kernels use, and the loads and stores that move float32 data through
 * double lanes. float32 ops whose formulas lose accuracy in float arithmetic (everything with an
 * exponential) widen each float lane to a double lane, compute, and narrow once at the end: one
 * rounding to float instead of a dozen, which is what keeps them within 1e-6 of the float64 truth.
 */
final class Lanes {
    /** Native float lanes, for ops exact or nearly exact in float (relu, prelu, hardsigmoid...). */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Native double lanes. */
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Float lanes of half the width: exactly as many lanes as {@link #D}, for widening. */
    static final VectorSpecies<Float> FH = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));
    static final ByteOrder NO = ByteOrder.nativeOrder();
    /** Byte lanes of the shapes of {@link #F}, {@link #FH} and {@link #D}: full-vector stores go through them (see {@link #store}). */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, F.vectorShape());
    static final VectorSpecies<Byte> BH = VectorSpecies.of(byte.class, FH.vectorShape());
    static final VectorSpecies<Byte> BD = VectorSpecies.of(byte.class, D.vectorShape());

    /**
     * Elements per block of the staged elementwise loops (softplus and mish forward on float lanes;
     * see gen_elementwise_loops.py). Each block is computed in two passes: the exponential of every
     * vector into a float[] of this length, then the rest of the op from it. In one pass each
     * vector is two long dependency chains in a row, and the core cannot overlap enough vectors to
     * keep its units busy: in cache on one core softplus took 0.38 ns per element in one pass and
     * 0.26-0.27 in two, mish 0.22 and 0.21 (bits unchanged).
     * Why 256 (1 KiB): blocks of 512 and more were 1.5x slower than one pass on data streamed from
     * memory (the second pass's stores then wait on their lines' reads with no computation left to
     * hide them); 256 was faster than one pass there as well (0.30 against 0.39 ns per element on
     * one core), 128 lost some of the gain in cache.
     */
    static final int STAGE_BLOCK = 256;

    private Lanes() {
    }

    /**
     * The sum of the lanes, added in lane order. Not {@code reduceLanes(ADD)}: the Vector API lets
     * a floating-point add reduction run in any order, and it does: C2's intrinsic adds the lanes in
     * a tree, the interpreted fallback one by one, so the same data gave sums an ulp apart depending
     * on whether the loop had been compiled yet (PReLU's dw changed from run to run). One fixed order
     * makes the result the same on every run and JIT tier. A pairwise tree for 4 and 8 lanes (three
     * dependent adds, not seven), extracts at constant indices, nothing allocated; once per block or row.
     */
    static double sum(DoubleVector v) {
        int n = v.length();
        if (n == 8) {
            return ((v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3))) + ((v.lane(4) + v.lane(5)) + (v.lane(6) + v.lane(7)));
        }
        if (n == 4) {
            return (v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3));
        }
        double s = v.lane(0);
        for (int i = 1; i < n; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /**
     * {@link #sum(DoubleVector)} of lanes already stored to an array: the same additions in the same
     * order. For loops whose accumulator must not reach a method C2 might leave out of line: a
     * vector that escapes after a loop is boxed in every iteration of it.
     */
    static double sum(double[] v) {
        return sum(v, 0, v.length);
    }

    /** {@link #sum(double[])} of the {@code n} lanes stored at {@code v[o]}. */
    static double sum(double[] v, int o, int n) {
        if (n == 8) {
            return ((v[o] + v[o + 1]) + (v[o + 2] + v[o + 3])) + ((v[o + 4] + v[o + 5]) + (v[o + 6] + v[o + 7]));
        }
        if (n == 4) {
            return (v[o] + v[o + 1]) + (v[o + 2] + v[o + 3]);
        }
        double s = v[o];
        for (int i = 1; i < n; i++) {
            s += v[o + i];
        }
        return s;
    }

    /** Loads {@code D.length()} floats from element {@code i} and widens them to doubles. */
    static DoubleVector loadF(MemorySegment s, long i) {
        return (DoubleVector) FloatVector.fromMemorySegment(FH, s, i * Float.BYTES, NO)
                .convertShape(VectorOperators.F2D, D, 0);
    }

    static DoubleVector loadF(MemorySegment s, long i, VectorMask<Float> m) {
        return (DoubleVector) FloatVector.fromMemorySegment(FH, s, i * Float.BYTES, NO, m)
                .convertShape(VectorOperators.F2D, D, 0);
    }

    /** Narrows to float (one rounding, overflow to infinity) and stores at element {@code i}. */
    static void storeF(MemorySegment s, long i, DoubleVector v) {
        ((FloatVector) v.convertShape(VectorOperators.D2F, FH, 0)).reinterpretShape(BH, 0).intoMemorySegment(s, i * Float.BYTES, NO);
    }

    static void storeF(MemorySegment s, long i, DoubleVector v, VectorMask<Float> m) {
        ((FloatVector) v.convertShape(VectorOperators.D2F, FH, 0)).intoMemorySegment(s, i * Float.BYTES, NO, m);
    }

    static FloatVector loadFloats(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(F, s, i * Float.BYTES, NO);
    }

    static FloatVector loadFloats(MemorySegment s, long i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(F, s, i * Float.BYTES, NO, m);
    }

    static DoubleVector loadDoubles(MemorySegment s, long i) {
        return DoubleVector.fromMemorySegment(D, s, i * Double.BYTES, NO);
    }

    static DoubleVector loadDoubles(MemorySegment s, long i, VectorMask<Double> m) {
        return DoubleVector.fromMemorySegment(D, s, i * Double.BYTES, NO, m);
    }

    /*
     * Full-vector stores go through byte lanes (a free reinterpretation in compiled code), here and
     * in every Elementwise loop. Where C2 has not yet compiled a reinterpretation (the interpreter
     * during warm-up, C1), the Vector API's fallback stores the vector into a byte[] heap segment
     * through FloatVector / DoubleVector.intoMemorySegment. Those methods' type profiles are shared
     * by the whole JVM, so every loop compiled afterwards found a heap segment class in its store's
     * profile and C2 inlined a two-way store (native or heap). Every loop paid for it (in cache,
     * sigmoid 0.23 -> 0.18 and softmax 0.36 -> 0.25 ns per element once it was gone), and the
     * double-lane derivatives ran at half speed in any process where a float op with an
     * exponential had run first (gelu' 30-36 -> 17 ms at 2^24). The fallback never stores byte
     * vectors, so ByteVector.intoMemorySegment only ever sees our native segments.
     * The byte species is named, not left to reinterpretAsBytes(): that one looks its target
     * species up at run time, and C2 took the result's class from a type profile shared by every
     * reinterpretation in the JVM (both 512-bit and 256-bit byte vectors once float-lane and
     * double-lane loops had run). With a constant species the class is exact. This does not yet
     * cure every case: after hardsigmoid' and hardswish' had run, gelu''s store in C2's code still
     * kept a virtual call on a cold path, which stops C2 unrolling the loop (17 -> 32 ms at 2^24).
     */
    static void store(MemorySegment s, long i, FloatVector v) {
        v.reinterpretShape(B, 0).intoMemorySegment(s, i * Float.BYTES, NO);
    }

    static void store(MemorySegment s, long i, FloatVector v, VectorMask<Float> m) {
        v.intoMemorySegment(s, i * Float.BYTES, NO, m);
    }

    static void store(MemorySegment s, long i, DoubleVector v) {
        v.reinterpretShape(BD, 0).intoMemorySegment(s, i * Double.BYTES, NO);
    }

    static void store(MemorySegment s, long i, DoubleVector v, VectorMask<Double> m) {
        v.intoMemorySegment(s, i * Double.BYTES, NO, m);
    }
    // ---- either element type in double lanes (float32 widened): f32 is constant per call site ----

    static DoubleVector load(boolean f32, MemorySegment s, long i) {
        return f32 ? Lanes.loadF(s, i) : Lanes.loadDoubles(s, i);
    }

    static DoubleVector load(boolean f32, MemorySegment s, long i, long limit) {
        return f32 ? Lanes.loadF(s, i, Lanes.FH.indexInRange(i, limit))
                : Lanes.loadDoubles(s, i, Lanes.D.indexInRange(i, limit));
    }

    static void store(boolean f32, MemorySegment s, long i, DoubleVector v) {
        if (f32) {
            Lanes.storeF(s, i, v);
        } else {
            Lanes.store(s, i, v);
        }
    }

    static void store(boolean f32, MemorySegment s, long i, long limit, DoubleVector v) {
        if (f32) {
            Lanes.storeF(s, i, v, Lanes.FH.indexInRange(i, limit));
        } else {
            Lanes.store(s, i, v, Lanes.D.indexInRange(i, limit));
        }
    }

}
