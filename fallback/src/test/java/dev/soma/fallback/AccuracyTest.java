package dev.soma.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The rule-5 metric itself: it must catch what it is meant to catch. */
class AccuracyTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    @Test
    void nanMustMeetNan() {
        assertEquals(0.0, Accuracy.error(Double.NaN, Double.NaN));
        assertEquals(INF, Accuracy.error(Double.NaN, 1.0));
        assertEquals(INF, Accuracy.error(1.0, Double.NaN));
        assertEquals(INF, Accuracy.error(0.0, Double.NaN));
        Accuracy.Report r = Accuracy.compare(DType.F32, new double[] {1, 2, Double.NaN}, new double[] {1, 2, 3});
        assertFalse(r.ok());
        assertEquals(2, r.worstIndex());
        assertTrue(Double.isNaN(r.worstRef()));
        assertEquals(3.0, r.worstGot());
        assertTrue(r.describe().contains("element 2"), r.describe());
    }

    @Test
    void infinitiesMustMatchWithSign() {
        assertEquals(0.0, Accuracy.error(INF, INF));
        assertEquals(0.0, Accuracy.error(-INF, -INF));
        assertEquals(INF, Accuracy.error(INF, -INF));
        assertEquals(INF, Accuracy.error(-INF, INF));
        assertEquals(INF, Accuracy.error(INF, Double.MAX_VALUE));
        assertEquals(INF, Accuracy.error(Float.MAX_VALUE, INF)); // overflow where the truth is finite
        assertFalse(Accuracy.compare(DType.F64, new double[] {INF}, new double[] {-INF}).ok());
    }

    @Test
    void signedZerosAreEqual() {
        assertEquals(0.0, Accuracy.error(0.0, -0.0));
        assertEquals(0.0, Accuracy.error(-0.0, 0.0));
    }

    @Test
    void relativeAboveTheFloorAbsoluteBelow() {
        assertEquals(2e-6, Accuracy.error(1.0, 1.0 + 2e-6), 1e-15);
        assertEquals(2e-6, Accuracy.error(1e3, 1e3 * (1 + 2e-6)), 1e-12);
        // below 1e-5 the error is absolute: 1e-7 off a value of 1e-6 is an error of 1e-7
        assertEquals(1e-7, Accuracy.error(1e-6, 1.1e-6), 1e-15);
        assertEquals(1e-7, Accuracy.error(0.0, 1e-7), 1e-20);
    }

    @Test
    void anErrorOf2e6FailsFloat32AndOf5e7Passes() {
        double[] ref = {0.5, -3.0, 1234.5, 7e-6};
        double[] bad = ref.clone();
        bad[2] = ref[2] * (1 + 2e-6);
        Accuracy.Report r = Accuracy.compare(DType.F32, ref, bad);
        assertFalse(r.ok(), r.describe());
        assertEquals(2, r.worstIndex());
        assertEquals(1, r.failures());
        assertEquals(2e-6, r.maxError(), 1e-12);
        double[] good = ref.clone();
        good[2] = ref[2] * (1 + 5e-7);
        good[3] = ref[3] + 9e-7; // absolute below 1e-5
        assertTrue(Accuracy.compare(DType.F32, ref, good).ok());
        // float64's tolerance is far tighter
        assertFalse(Accuracy.compare(DType.F64, ref, good).ok());
    }

    @Test
    void comparesSegmentsOfEitherType() {
        float[] a = {1f, 2f, Float.NaN, Float.NEGATIVE_INFINITY, -0f};
        float[] b = {1f, Math.nextUp(2f), Float.NaN, Float.NEGATIVE_INFINITY, 0f};
        Accuracy.Report r = Accuracy.compare(DType.F32, MemorySegment.ofArray(a), MemorySegment.ofArray(b), a.length);
        assertTrue(r.ok(), r.describe());
        assertEquals(1, r.worstIndex());
        double[] c = {1, 2, 3};
        double[] d = {1, 2, 3.5};
        Accuracy.Report s = Accuracy.compare(DType.F64, MemorySegment.ofArray(c), MemorySegment.ofArray(d), 3);
        assertFalse(s.ok());
        assertEquals(3.5, s.worstGot());
        assertTrue(Accuracy.compare(DType.F64, c, MemorySegment.ofArray(c)).ok());
    }

    @Test
    void emptyAndMismatchedInputs() {
        Accuracy.Report r = Accuracy.compare(DType.F32, new double[0], new double[0]);
        assertTrue(r.ok());
        assertEquals(-1, r.worstIndex());
        assertThrows(IllegalArgumentException.class, () -> Accuracy.compare(DType.F32, new double[1], new double[2]));
    }

    @Test
    void scaledErrorMeasuresAgainstTheLargerTerms() {
        // dx = 1e-4 from terms of size 1: an error of 1e-8 is 1e-4 relative but 1e-8 on the scale
        assertEquals(1e-4, Accuracy.error(1e-4, 1e-4 + 1e-8), 1e-12);
        assertEquals(1e-8, Accuracy.errorScaled(1e-4, 1e-4 + 1e-8, 1.0), 1e-15);
        assertEquals(Accuracy.error(3.0, 3.1), Accuracy.errorScaled(3.0, 3.1, 0.5), 0.0);
        assertEquals(Double.POSITIVE_INFINITY, Accuracy.errorScaled(Double.NaN, 1.0, 1.0));
        assertEquals(Double.POSITIVE_INFINITY, Accuracy.errorScaled(1.0, Double.NEGATIVE_INFINITY, 1.0));
        double[] ref = {1e-4, 2.0};
        double[] got = {1e-4 + 1e-8, 2.0};
        assertFalse(Accuracy.compare(DType.F32, ref, got).ok());
        assertTrue(Accuracy.compareScaled(DType.F32, i -> ref[(int) i], i -> got[(int) i], i -> 1.0, 2).ok());
    }

    @Test
    void tolerances() {
        assertEquals(1e-6, Accuracy.tolerance(DType.F32));
        assertEquals(1e-10, Accuracy.tolerance(DType.F64));
    }
}
