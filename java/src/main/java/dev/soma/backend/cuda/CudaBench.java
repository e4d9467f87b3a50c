package dev.soma.backend.cuda;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.OpLayout;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.fallback.Accuracy;
import dev.soma.fallback.CpuKernelsProvider;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The CUDA benchmark of the GPU check (bench/gpu-check.sh), in the spirit of llm.c's dev/cuda:
 * every kernel is validated against the CPU reference before anything is timed, then elementwise
 * ops on 2^28 float32 and softmax on rows of 128 to 32768 floats are timed with CUDA events and
 * reported in GB/s and as a fraction of a device-to-device copy measured in the same run.
 *
 * <pre>
 * java -cp soma.jar dev.soma.backend.cuda.CudaBench [--out DIR] [--elements N] [--reps R] [--smoke]
 * </pre>
 * {@code --smoke} runs every kernel once on small inputs and times nothing (for compute-sanitizer).
 * Writes {@code cuda-bench.csv} (kind,op,direction,size,ms,gbps,fraction_of_copy) into {@code --out}.
 * Exit status: 0 on success, 1 when validation fails, 2 when CUDA is unavailable.
 */
public final class CudaBench {
    private static final int[] SOFTMAX_ROWS = {128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};

    private final Engine cuda;
    private final CudaRuntime rt;
    private final PrintStream out;
    private final List<String> csv = new ArrayList<>();
    private int failures;

    private CudaBench(Engine cuda, PrintStream out) {
        this.cuda = cuda;
        this.rt = (CudaRuntime) ((DeviceBackend) cuda.backend()).runtime();
        this.out = out;
    }

    public static void main(String[] args) throws IOException {
        Path outDir = null;
        long elements = 1L << 28;
        int reps = 10;
        boolean smoke = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> outDir = Path.of(args[++i]);
                case "--elements" -> elements = Long.parseLong(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--smoke" -> smoke = true;
                default -> {
                    System.err.println("usage: CudaBench [--out DIR] [--elements N] [--reps R] [--smoke]; unknown " + args[i]);
                    System.exit(64);
                }
            }
        }
        var availability = new CudaBackendProvider().probe();
        if (!availability.isAvailable()) {
            System.err.println("CudaBench: cuda backend is not available: " + availability.reason());
            System.exit(2);
        }
        int status;
        try (Engine engine = Engine.create(BackendKind.CUDA)) {
            CudaBench b = new CudaBench(engine, System.out);
            b.out.println("device: " + engine.description());
            b.validate(smoke);
            if (!smoke && b.failures == 0) {
                b.benchmark(elements, reps);
            }
            if (outDir != null) {
                Files.createDirectories(outDir);
                List<String> lines = new ArrayList<>();
                lines.add("kind,op,direction,size,ms,gbps,fraction_of_copy");
                lines.addAll(b.csv);
                Files.write(outDir.resolve("cuda-bench.csv"), lines);
            }
            long live = b.rt.allocator().liveBuffers();
            if (live != 0) {
                b.out.println("LEAK: " + live + " device buffers still open: " + b.rt.allocator().describeLive());
                b.failures++;
            }
            status = b.failures == 0 ? 0 : 1;
        }
        System.exit(status);
    }

    // ---- validation: every kernel against the CPU reference, before any timing ----

    private void validate(boolean smoke) {
        Engine ref;
        boolean compared = true;
        try {
            ref = Engine.over(new CpuBackend(CpuKernelsProvider.reference()));
        } catch (RuntimeException | LinkageError e) {
            // Still run every kernel (compute-sanitizer needs them run), compared only with themselves.
            out.println("validation: SKIPPED, the CPU reference kernels are not in this build (" + e + ")");
            ref = cuda;
            compared = false;
        }
        int checks = 0;
        long[] sizes = smoke ? new long[] {1, 7, 1025} : new long[] {1, 7, 33, 1025, 4097, (1 << 20) + 3};
        for (DType t : DType.values()) {
            for (Op op : Op.values()) {
                if (op.family() != Family.ELEMENTWISE) {
                    continue;
                }
                for (long n : sizes) {
                    Tensor x = sample(t, n, n + op.ordinal(), 12);
                    Tensor dy = sample(t, n, n * 3 + 1, 2);
                    compare(op + " fwd " + t + " n=" + n, ref.forward(OpArgs.of(op), x), cuda.forward(OpArgs.of(op), x), null);
                    compare(op + " bwd " + t + " n=" + n, ref.backward(OpArgs.of(op), x, dy), cuda.backward(OpArgs.of(op), x, dy), null);
                    checks += 2;
                }
            }
            for (SoftmaxVariant v : SoftmaxVariant.values()) {
                rt.forceSoftmaxVariant(v);
                for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                    for (long[] shape : new long[][] {{9, 33}, {3, 1500}, {2, 40_000}, {3, 7, 5}}) {
                        for (int axis : new int[] {-1, 0}) {
                            long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                            Tensor x = Tensor.allocate(t, shape);
                            Tensor flat = sample(t, n, n + axis, 20);
                            Tensor dy = Tensor.allocate(t, shape);
                            for (long i = 0; i < n; i++) {
                                x.set(i, flat.get(i));
                                dy.set(i, Math.cos(i));
                            }
                            OpArgs a = OpArgs.of(op).withAxis(axis);
                            compare(op + " " + v + " fwd " + t + " " + Arrays.toString(shape) + " axis " + axis,
                                    ref.forward(a, x), cuda.forward(a, x), ErrorScales.softmax(a, x, dy, false));
                            compare(op + " " + v + " bwd " + t + " " + Arrays.toString(shape) + " axis " + axis,
                                    ref.backward(a, x, dy), cuda.backward(a, x, dy), ErrorScales.softmax(a, x, dy, true));
                            checks += 2;
                        }
                    }
                }
            }
            rt.forceSoftmaxVariant(null);
            for (long[] shape : new long[][] {{1025}, {2, 3, 5, 7}, {2, 64, 3000}}) {
                long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                long channels = shape.length >= 2 ? shape[1] : 1;
                for (long wn : new long[] {1, channels}) {
                    Tensor x = Tensor.allocate(t, shape);
                    Tensor dy = Tensor.allocate(t, shape);
                    Tensor flat = sample(t, n, n + wn, 4);
                    for (long i = 0; i < n; i++) {
                        x.set(i, flat.get(i));
                        dy.set(i, Math.sin(i));
                    }
                    Tensor w = sample(t, wn, wn, 1);
                    compare("prelu fwd " + t + " " + Arrays.toString(shape) + " w" + wn, ref.prelu(x, w), cuda.prelu(x, w), null);
                    var g = cuda.preluBackward(x, w, dy);
                    var e = ref.preluBackward(x, w, dy);
                    compare("prelu dx " + t, e.dx(), g.dx(), null);
                    compare("prelu dw " + t, e.dw(), g.dw(), ErrorScales.preluWeight(x, w, dy));
                    checks += 3;
                }
            }
        }
        if (!compared) {
            out.printf(Locale.ROOT, "ran %d kernel checks without a reference%n", checks);
            csv.add("validation,all,both," + checks + ",,,no-reference");
            return;
        }
        out.printf(Locale.ROOT, "validation: %d checks, %d failed%n", checks, failures);
        csv.add("validation,all,both," + checks + ",,," + (failures == 0 ? "pass" : "FAIL " + failures));
    }

    private static final double[] EXTREMES = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0,
        -0.0, Float.MIN_VALUE, 88.7, -88.7, 709.8, -709.8, 1e30, -1e30, 3.4e38, -3.4e38, 20.0, -3.0, 3.0, 6.0};

    private static Tensor sample(DType t, long n, long seed, double scale) {
        Tensor x = Tensor.allocate(t, n);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            x.set(i, n >= 64 && i < EXTREMES.length ? EXTREMES[(int) i] : (r.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }

    /** shared/semantics.md rule 5 as {@link Accuracy} measures it; {@code scale} for differences of larger terms. */
    private void compare(String what, Tensor want, Tensor got, double[] scale) {
        double tol = Accuracy.tolerance(got.dtype());
        for (long i = 0; i < want.elementCount(); i++) {
            double r = want.get(i);
            double g = got.get(i);
            double err = scale == null ? Accuracy.error(r, g) : Accuracy.errorScaled(r, g, scale[(int) i]);
            if (err > tol) {
                failures++;
                out.printf(Locale.ROOT, "FAIL %s: element %d expected %s got %s (error %.3g)%n", what, i, r, g, err);
                return;
            }
        }
    }

    // ---- timing ----

    private void benchmark(long n, int reps) {
        DType t = DType.F32;
        long bytes = n * 4;
        try (DeviceBuffer x = rt.allocate(bytes); DeviceBuffer y = rt.allocate(bytes);
             DeviceBuffer dy = rt.allocate(bytes); DeviceBuffer dx = rt.allocate(bytes)) {
            fill(x, n, 1, 8);
            fill(dy, n, 2, 1);
            float copyMs = best(reps, () -> rt.copy(x, y, bytes));
            double copyGbps = 2.0 * bytes / (copyMs * 1e6);
            out.printf(Locale.ROOT, "%-28s %12s %9s %9s %6s%n", "elementwise 2^" + (63 - Long.numberOfLeadingZeros(n)) + " float32", "", "ms", "GB/s", "of copy");
            out.printf(Locale.ROOT, "%-28s %12s %9.3f %9.1f %6.3f%n", "device-to-device copy", "", copyMs, copyGbps, 1.0);
            csv.add(String.format(Locale.ROOT, "copy,memcpy_dtod,fwd,%d,%.4f,%.1f,1.000", n, copyMs, copyGbps));
            for (Op op : Op.values()) {
                if (op.family() != Family.ELEMENTWISE) {
                    continue;
                }
                OpArgs a = OpArgs.of(op);
                float fms = best(reps, () -> rt.forward(a, t, x, y, n));
                report("elementwise", op.id(), "fwd", n, fms, 8.0 * n, copyGbps);
                float bms = best(reps, () -> rt.backward(a, t, x, dy, dx, n));
                report("elementwise", op.id(), "bwd", n, bms, 12.0 * n, copyGbps);
            }
            long total = Math.min(n, 1L << 26);
            for (int len : SOFTMAX_ROWS) {
                long rows = total / len;
                OpLayout l = new OpLayout(rows, len, 1);
                for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                    OpArgs a = OpArgs.of(op);
                    String name = op.id() + "[" + rt.softmaxVariantFor(t, l).name().toLowerCase(Locale.ROOT) + "]";
                    float fms = best(reps, () -> rt.softmaxForward(a, t, x, y, l));
                    report("softmax", name, "fwd", len, fms, 8.0 * rows * len, copyGbps);
                    float bms = best(reps, () -> rt.softmaxBackward(a, t, x, dy, dx, l));
                    report("softmax", name, "bwd", len, bms, 12.0 * rows * len, copyGbps);
                }
            }
        }
    }

    private void report(String kind, String op, String dir, long size, float ms, double bytes, double copyGbps) {
        double gbps = bytes / (ms * 1e6);
        out.printf(Locale.ROOT, "%-28s %12s %9.3f %9.1f %6.3f%n", kind + " " + op, dir + " " + size, ms, gbps, gbps / copyGbps);
        csv.add(String.format(Locale.ROOT, "%s,%s,%s,%d,%.4f,%.1f,%.3f", kind, op, dir, size, ms, gbps, gbps / copyGbps));
    }

    /** The fastest of {@code reps} timed runs after one warm-up (the warm-up loads the kernel). */
    private float best(int reps, Runnable work) {
        rt.time(work);
        float best = Float.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            best = Math.min(best, rt.time(work));
        }
        return best;
    }

    /** Fills a device buffer with random floats in [-scale, scale] by uploading one 64 MiB pattern repeatedly. */
    private void fill(DeviceBuffer b, long n, long seed, double scale) {
        long chunk = Math.min(n, 1L << 24);
        Tensor pattern = Tensor.allocate(DType.F32, chunk);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < chunk; i++) {
            pattern.set(i, (r.nextDouble() * 2 - 1) * scale);  // finite values only: timing, not edge cases
        }
        for (long at = 0; at < n; at += chunk) {
            long len = Math.min(chunk, n - at);
            rt.upload(pattern.segment(), b, at * 4, len * 4);
        }
        rt.synchronize();
    }
}
