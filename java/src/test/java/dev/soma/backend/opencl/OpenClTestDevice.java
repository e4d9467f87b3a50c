package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.backend.Availability;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/**
 * Opens the OpenCL device the tests run on (PoCL in CI; {@code -Dsoma.opencl.device=...} picks
 * another), or skips the test by assumption with the reason. When {@code soma.requireOpenCL=true}
 * (or the environment has SOMA_REQUIRE_OPENCL set, as CI does) a missing device fails instead:
 * CI must never pass by skipping every OpenCL test.
 */
final class OpenClTestDevice {
    /** What every output is filled with before a kernel runs: a value no op produces by accident. */
    static final double POISON = -7.77e33;

    private OpenClTestDevice() {
    }

    static OpenClRuntime open() {
        OpenClBackendProvider provider = new OpenClBackendProvider();
        Availability a = provider.probe();
        if (!a.isAvailable()) {
            if (required()) {
                fail("OpenCL is required here (soma.requireOpenCL / SOMA_REQUIRE_OPENCL) but unavailable: " + a.reason());
            }
            Assumptions.abort("no OpenCL device, skipping: " + a.reason());
        }
        return provider.openRuntime(System.getProperty("soma.opencl.device"));
    }

    static boolean required() {
        String env = System.getenv("SOMA_REQUIRE_OPENCL");
        return Boolean.getBoolean("soma.requireOpenCL")
                || (env != null && !env.isBlank() && !env.trim().toLowerCase(Locale.ROOT).matches("0|false|no"));
    }

    /** A device buffer holding {@code values} (float[] or double[]). */
    static DeviceBuffer upload(OpenClRuntime rt, Object values) {
        MemorySegment seg = segment(values);
        DeviceBuffer b = rt.allocate(seg.byteSize());
        rt.upload(seg, b, 0, seg.byteSize());
        return b;
    }

    /** A device buffer of {@code n} elements filled with {@link #POISON}. */
    static DeviceBuffer poisoned(OpenClRuntime rt, DType t, long n) {
        Object p = t == DType.F32 ? filled(new float[(int) n]) : filled(new double[(int) n]);
        return upload(rt, p);
    }

    static double[] download(OpenClRuntime rt, DType t, DeviceBuffer b, int n) {
        double[] out = new double[n];
        if (t == DType.F32) {
            float[] f = new float[n];
            rt.download(b, 0, MemorySegment.ofArray(f), 4L * n);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        } else {
            rt.download(b, 0, MemorySegment.ofArray(out), 8L * n);
        }
        return out;
    }

    /** {@code values} as the dtype's array (float[] rounds). */
    static Object asType(DType t, double[] values) {
        if (t == DType.F64) {
            return values.clone();
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** The values the device sees: float32 inputs widened back to double. */
    static double[] asSeen(DType t, double[] values) {
        double[] out = values.clone();
        if (t == DType.F32) {
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) out[i];
            }
        }
        return out;
    }

    private static float[] filled(float[] a) {
        java.util.Arrays.fill(a, (float) POISON);
        return a;
    }

    private static double[] filled(double[] a) {
        java.util.Arrays.fill(a, POISON);
        return a;
    }

    private static MemorySegment segment(Object values) {
        return switch (values) {
            case float[] f -> MemorySegment.ofArray(f);
            case double[] d -> MemorySegment.ofArray(d);
            default -> throw new IllegalArgumentException("float[] or double[] expected");
        };
    }
}
