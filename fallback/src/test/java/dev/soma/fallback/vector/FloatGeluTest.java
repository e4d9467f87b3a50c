package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * float32 GELU runs on float lanes ({@link FMath#gelu}): a dense sweep of float inputs over
 * [-16, 16] (every 256th float, about 8 million values, every binade down to 1e-38) against the
 * float64 reference, held to rule 5's 1e-6. Random samples would miss a narrow bad spot of a
 * polynomial fit; this sweep does not.
 */
class FloatGeluTest {
    @Test
    void denseSweepWithinRule5() {
        OpArgs args = Op.GELU.defaults();
        int top = Float.floatToRawIntBits(16f);
        int stride = 256;
        int perSign = top / stride + 1;
        int n = 2 * perSign;
        float[] in = new float[n];
        for (int k = 0; k < perSign; k++) {
            float v = Float.intBitsToFloat(k * stride);
            in[2 * k] = v;
            in[2 * k + 1] = -v;
        }
        MemorySegment x = MemorySegment.ofArray(in);
        MemorySegment got = MemorySegment.ofArray(new float[n]);
        double[] wide = new double[n];
        for (int i = 0; i < n; i++) {
            wide[i] = in[i];
        }
        MemorySegment ref = MemorySegment.ofArray(new double[n]);
        CpuKernels vector = new VectorKernels();
        CpuKernels reference = TestData.reference();
        vector.forward(args, DType.F32, x, got, n);
        // The truth: the float64 reference on the same (float) inputs.
        reference.forward(args, DType.F64, MemorySegment.ofArray(wide), ref, n);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < n; i++) {
            double r = ref.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
            double e = Accuracy.error(r, got.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            if (!(e <= worst)) {
                worst = e;
                worstAt = in[i];
            }
        }
        assertTrue(worst <= Accuracy.F32_TOLERANCE, "float gelu worst error " + worst + " at x = " + worstAt);
    }
}
