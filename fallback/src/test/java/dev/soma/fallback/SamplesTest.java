package dev.soma.fallback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** The generators: deterministic, representable, and carrying every special value. */
class SamplesTest {

    private static double[] read(DType t, MemorySegment s, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                    : s.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
        }
        return a;
    }

    @Test
    void activationsAreFiniteWithinTheRangeAndRepeatable() {
        for (Op op : Op.values()) {
            OpArgs args = op.defaults();
            long n = 10_000;
            MemorySegment a = Arena.ofAuto().allocate(n * 4, 64);
            MemorySegment b = Arena.ofAuto().allocate(n * 4, 64);
            Samples.fillActivations(args, DType.F32, a, n, 7);
            Samples.fillActivations(args, DType.F32, b, n, 7);
            double range = Samples.range(args);
            double lo = 0;
            double hi = 0;
            for (long i = 0; i < n; i++) {
                float v = a.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                assertTrue(Float.isFinite(v) && Math.abs(v) <= range, op + ": " + v + " outside +-" + range);
                assertTrue(Math.abs(v) == 0 || Math.abs(v) >= Float.MIN_NORMAL, op + ": subnormal " + v);
                assertEquals(v, b.getAtIndex(ValueLayout.JAVA_FLOAT, i), op + " is not repeatable at " + i);
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            // Spread over the whole range, both signs.
            assertTrue(lo < -0.9 * range && hi > 0.9 * range, op + ": spans only [" + lo + ", " + hi + "]");
        }
    }

    @Test
    void theStandardSizes() {
        assertArrayEquals(new long[] {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 4097, 1 << 20},
                Samples.sizes());
        assertArrayEquals(new long[] {0, 1, 2, 3, 7, 8, 15, 16, 17}, Samples.sizesUpTo(20));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Op.class)
    void sameSeedSameDataAndEverySpecialValuePresent(Op op) {
        for (DType t : DType.values()) {
            int n = 4097;
            double[] a = read(t, Samples.input(op.defaults(), t, n, 99), n);
            double[] b = read(t, Samples.input(op.defaults(), t, n, 99), n);
            double[] c = read(t, Samples.input(op.defaults(), t, n, 100), n);
            for (int i = 0; i < n; i++) {
                assertTrue(Double.doubleToLongBits(a[i]) == Double.doubleToLongBits(b[i]), "deterministic");
            }
            assertFalse(java.util.Arrays.equals(a, c), "another seed gives other data");
            Set<Long> present = new HashSet<>();
            for (double v : a) {
                present.add(Double.doubleToLongBits(v));
                assertTrue(v != Samples.POISON, "inputs never hold the poison");
            }
            for (double s : Samples.specialValues(op.defaults(), t)) {
                assertTrue(present.contains(Double.doubleToLongBits(s)), op + " " + t + ": special value " + s + " missing");
            }
        }
    }

    @Test
    void specialsIncludeTheEdgesOfSemantics() {
        double[] s = Samples.specialValues(Op.GELU.defaults(), DType.F32);
        Set<Double> set = new HashSet<>();
        for (double v : s) {
            set.add(v);
            assertEquals(v, (double) (float) v, 0.0, "representable in float32");
        }
        for (double v : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
            Float.MIN_VALUE, (double) (float) 88.72, (double) (float) -709.78, 3, -3, 6, 20, -20,
            Float.MAX_VALUE, -Float.MAX_VALUE, (double) 1e-30f}) {
            assertTrue(set.contains(v), "missing " + v);
        }
        double[] d = Samples.specialValues(Op.SOFTPLUS.defaults().withBeta(2).withThreshold(10), DType.F64);
        Set<Double> dset = new HashSet<>();
        for (double v : d) {
            dset.add(v);
        }
        assertTrue(dset.contains(5.0) && dset.contains(Math.nextUp(5.0)) && dset.contains(Double.MAX_VALUE)
                && dset.contains(Double.MIN_VALUE) && dset.contains(709.78));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void gradientsWeightsAndPoison(DType t) {
        int n = 1000;
        double[] dy = read(t, Samples.gradient(t, n, 1), n);
        for (double v : dy) {
            assertTrue(v >= -2 && v < 2, "dy in [-2, 2)");
        }
        double[] w = read(t, Samples.preluWeights(t, 64, 1), 64);
        for (double v : w) {
            assertTrue(v >= -1 && v <= 1, "weights in [-1, 1]");
        }
        MemorySegment out = Samples.allocate(t, 10);
        assertEquals(0, Samples.firstPoisoned(t, out, 10));
        for (int i = 0; i < 10; i++) {
            if (t == DType.F32) {
                out.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
            } else {
                out.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, 1.0);
            }
            assertEquals(i == 9 ? -1 : i + 1, Samples.firstPoisoned(t, out, 10));
        }
    }
}
