package dev.soma.backend.opencl;

import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.fallback.scalar.ElementMath;
import dev.soma.op.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * PReLU on the OpenCL device against the scalar reference's element math: forward, dx and the
 * per-channel dw reduction, with one weight and with C weights (zero weights included), float32 and float64, special inputs, every work-group size forced.
 */
class OpenClPreluTest extends OpenClDeviceTest {
    @Test
    void oneWeightAndChannelWeights() {
        long[][] layouts = {{2, 3, 5}, {4, 7, 1}, {1, 1, 17}, {8, 16, 4097}, {3, 1, 1}, {1, 64, 1}, {2, 5, 100003}};
        for (long[] s : layouts) {
            OpLayout l = new OpLayout(s[0], s[1], s[2]);
            for (DType t : DType.values()) {
                check(t, l, 1, "1 weight " + l);
                if (l.mid() > 1) {
                    check(t, l, l.mid(), l.mid() + " weights " + l);
                }
            }
        }
    }

    @Test
    void everyLocalSize() {
        OpLayout l = new OpLayout(3, 4, 1000);
        for (int local : new int[] {1, 2, 8, 64, 256, 1024}) {
            rt.setLocalSizeOverride(local);
            check(DType.F32, l, 4, "local " + local);
            check(DType.F64, l, 1, "local " + local);
        }
    }

    private static void check(DType t, OpLayout l, long weights, String what) {
        int n = (int) l.elementCount();
        SplittableRandom r = new SplittableRandom(n * 31L + weights);
        double[] x = new double[n];
        double[] dy = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextDouble(-5, 5);
            dy[i] = r.nextDouble(-1, 1);
        }
        double[] specials = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, 1e-40, -1e-40};
        if (n > 100) {
            for (int i = 0; i < specials.length; i++) {
                x[3 + 13 * i] = specials[i];
            }
        }
        double[] w = new double[(int) weights];
        for (int c = 0; c < w.length; c++) {
            w[c] = c % 3 == 0 ? 0.25 : (c % 3 == 1 ? -0.5 : 0.0);
        }
        x = OpenClTestDevice.asSeen(t, x);
        dy = OpenClTestDevice.asSeen(t, dy);
        w = OpenClTestDevice.asSeen(t, w);
        double[] y;
        double[] dx;
        double[] dw;
        try (DeviceBuffer bx = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, x));
             DeviceBuffer bw = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, w));
             DeviceBuffer bdy = OpenClTestDevice.upload(rt, OpenClTestDevice.asType(t, dy));
             DeviceBuffer by = OpenClTestDevice.poisoned(rt, t, n);
             DeviceBuffer bdx = OpenClTestDevice.poisoned(rt, t, n);
             DeviceBuffer bdw = OpenClTestDevice.poisoned(rt, t, weights)) {
            rt.preluForward(t, bx, bw, weights, by, l);
            rt.preluBackward(t, bx, bw, weights, bdy, bdx, bdw, l);
            y = OpenClTestDevice.download(rt, t, by, n);
            dx = OpenClTestDevice.download(rt, t, bdx, n);
            dw = OpenClTestDevice.download(rt, t, bdw, (int) weights);
        }
        double[] refDw = new double[(int) weights];
        OpenClCompare fy = new OpenClCompare("prelu " + t + " " + what + " forward");
        OpenClCompare fdx = new OpenClCompare("prelu " + t + " " + what + " dx");
        OpenClCompare fdw = new OpenClCompare("prelu " + t + " " + what + " dw");
        for (int i = 0; i < n; i++) {
            int c = weights == 1 ? 0 : (int) ((i / l.inner()) % l.mid());
            double xi = x[i];
            fy.check(t, i, xi, y[i], ElementMath.prelu(xi, w[c]));
            fdx.check(t, i, xi, dx[i], ElementMath.preluDx(xi, w[c], dy[i]));
            refDw[c] += ElementMath.preluDwTerm(xi, dy[i]);
        }
        for (int c = 0; c < weights; c++) {
            fdw.check(t, c, w[c], dw[c], refDw[c]);
        }
        fy.assertOk();
        fdx.assertOk();
        fdw.assertOk();
    }
}
