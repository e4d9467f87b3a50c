package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.fallback.scalar.ElementMath;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A device without cl_khr_fp64, simulated on PoCL (the runtime then builds with -DSOMA_NO_FP64,
 * exactly what such a device compiles): float64 is refused with a message that says what to do,
 * float32 runs on the float formulas and float accumulators. Those formulas hold 1e-6 for the ops
 * that soma_math.h does not route through double; the routed ones (gelu, silu', mish', ...) are
 * documented to lose accuracy there, up to 2e-3 next to the derivatives' roots.
 */
class OpenClNoFp64Test {

    @Test
    void float64IsRefusedAndFloat32Works() {
        System.setProperty("soma.opencl.simulateNoFp64", "true");
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            assertFalse(rt.supports(DType.F64));
            try (DeviceBuffer b = rt.allocate(64)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> rt.forward(OpArgs.of(Op.RELU), DType.F64, b, b, 8));
                assertTrue(e.getMessage().contains("cl_khr_fp64") && e.getMessage().contains("--backend cpu"), e.getMessage());
            }
            int n = 4097;
            SplittableRandom r = new SplittableRandom(3);
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) r.nextDouble(-12, 12);
            }
            for (Op op : new Op[] {Op.SIGMOID, Op.TANH, Op.ELU, Op.SELU, Op.HARDSWISH, Op.SOFTPLUS, Op.MISH, Op.GELU}) {
                double tol = op == Op.GELU ? 2e-5 : 1e-6; // gelu's float erfc form: 1.2e-6 measured
                double[] y;
                try (DeviceBuffer bx = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(DType.F32, x));
                     DeviceBuffer by = OpenClTestDevice.poisoned(rt, DType.F32, n)) {
                    rt.forward(OpArgs.of(op), DType.F32, bx, by, n);
                    y = OpenClTestDevice.download(rt, DType.F32, by, n);
                }
                for (int i = 0; i < n; i++) {
                    double e = OpenClCompare.error(y[i], ElementMath.forward(OpArgs.of(op), x[i]));
                    assertTrue(e <= tol, op + " at " + x[i] + ": error " + e);
                }
            }
            // Softmax with float accumulators: a 100000-long row still sums to 1.
            OpLayout l = new OpLayout(2, 100000, 1);
            double[] sx = OpenClSoftmaxTest.randomRows(l, 4);
            try (DeviceBuffer bx = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(DType.F32, sx));
                 DeviceBuffer by = OpenClTestDevice.poisoned(rt, DType.F32, l.elementCount())) {
                for (SoftmaxVariant v : new SoftmaxVariant[] {SoftmaxVariant.STRIDED, SoftmaxVariant.GROUP, SoftmaxVariant.SPLIT}) {
                    rt.setSoftmaxVariant(v);
                    rt.softmaxForward(OpArgs.of(Op.SOFTMAX), DType.F32, bx, by, l);
                    double[] y = OpenClTestDevice.download(rt, DType.F32, by, (int) l.elementCount());
                    for (int row = 0; row < 2; row++) {
                        double sum = 0;
                        for (int k = 0; k < 100000; k++) {
                            sum += y[row * 100000 + k];
                        }
                        assertEquals(1.0, sum, 1e-5, v + " row " + row);
                    }
                }
            }
            assertEquals(0, rt.allocator().liveBuffers());
        } finally {
            System.clearProperty("soma.opencl.simulateNoFp64");
        }
    }
}
