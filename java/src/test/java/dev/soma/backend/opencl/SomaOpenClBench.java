package dev.soma.backend.opencl;

import dev.soma.backend.device.DeviceBuffer;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The OpenCL figures for BENCHMARKS.md, validate-then-time style (the op tests validate the
 * kernels): device copy bandwidth (clEnqueueCopyBuffer and a copy kernel with the elementwise
 * launch shape), every elementwise op in Gelem/s and as a fraction of the copy, the work-group
 * size sweep behind the default, op code as argument vs compiled in, first-call build time and
 * launch overhead. Not part of the test suite (the name matches no surefire include, and it is
 * disabled unless soma.bench=true): runs only with
 * {@code mvn -pl java -am verify -Dtest=SomaOpenClBench -Dsoma.bench=true -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("bench")
@EnabledIfSystemProperty(named = "soma.bench", matches = "true")
class SomaOpenClBench {
    private static final long N = 1L << 24; // 64 MiB per float32 buffer: far beyond any cache
    private static final int REPS = 5;

    @Test
    void figures() {
        long t0 = System.nanoTime();
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            System.out.printf(Locale.ROOT, "device: %s%n", rt.description());
            try (DeviceBuffer x = rt.allocate(4 * N); DeviceBuffer y = rt.allocate(4 * N);
                 DeviceBuffer dy = rt.allocate(4 * N); DeviceBuffer one = rt.allocate(4)) {
                fill(rt, x);
                fill(rt, dy);
                // First-call build time: the first launch builds the program.
                long b0 = System.nanoTime();
                rt.forward(OpArgs.of(Op.RELU), DType.F32, one, one, 1);
                rt.synchronize();
                System.out.printf(Locale.ROOT, "first call (build elementwise.cl + first launch): %.0f ms (build alone %.0f ms)%n",
                        (System.nanoTime() - b0) / 1e6, rt.buildNanos().values().iterator().next() / 1e6);
                // Launch overhead: many 1-element launches, one wait; and with a wait after each.
                for (int i = 0; i < 200; i++) {
                    rt.forward(OpArgs.of(Op.RELU), DType.F32, one, one, 1);
                }
                rt.synchronize();
                long l0 = System.nanoTime();
                for (int i = 0; i < 2000; i++) {
                    rt.forward(OpArgs.of(Op.RELU), DType.F32, one, one, 1);
                }
                rt.synchronize();
                double queued = (System.nanoTime() - l0) / 2000.0 / 1e3;
                l0 = System.nanoTime();
                for (int i = 0; i < 500; i++) {
                    rt.forward(OpArgs.of(Op.RELU), DType.F32, one, one, 1);
                    rt.synchronize();
                }
                double roundTrip = (System.nanoTime() - l0) / 500.0 / 1e3;
                System.out.printf(Locale.ROOT, "launch overhead: %.1f us queued, %.1f us with a wait after each%n", queued, roundTrip);

                double copyBuf = best(() -> rt.copy(x, y, 4 * N), rt);
                double copyKernel = best(() -> rt.copyKernel(x, y, N), rt);
                double copyGBs = 8.0 * N / copyBuf / 1e9;
                double copyKGBs = 8.0 * N / copyKernel / 1e9;
                System.out.printf(Locale.ROOT, "copy: clEnqueueCopyBuffer %.1f GB/s (%.2f Gelem/s), copy kernel %.1f GB/s (%.2f Gelem/s)%n",
                        copyGBs, N / copyBuf / 1e9, copyKGBs, N / copyKernel / 1e9);
                double ceiling = Math.min(copyBuf, copyKernel); // the faster copy

                System.out.println("work-group size sweep (float32 forward, Gelem/s):");
                int[] locals = {16, 32, 64, 128, 256, 512, 1024};
                for (Op op : new Op[] {Op.RELU, Op.SIGMOID, Op.MISH}) {
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-10s", op.id()));
                    for (int local : locals) {
                        rt.setLocalSizeOverride(local);
                        double s = best(() -> rt.forward(OpArgs.of(op), DType.F32, x, y, N), rt);
                        line.append(String.format(Locale.ROOT, "  %d: %.2f", local, N / s / 1e9));
                    }
                    rt.setLocalSizeOverride(0);
                    System.out.println(line);
                }

                System.out.println("every op, float32, default launch (Gelem/s, fraction of the faster copy):");
                System.out.printf(Locale.ROOT, "  %-12s %8s %6s %8s %6s %8s %6s%n", "op", "fwd", "frac", "bwd", "frac", "fwd f64", "frac");
                for (Op op : Op.values()) {
                    if (op.family() != Family.ELEMENTWISE) {
                        continue;
                    }
                    double f = best(() -> rt.forward(OpArgs.of(op), DType.F32, x, y, N), rt);
                    double b = best(() -> rt.backward(OpArgs.of(op), DType.F32, x, dy, y, N), rt);
                    double d = best(() -> rt.forward(OpArgs.of(op), DType.F64, x, y, N / 2), rt);
                    // fractions by bytes moved: fwd 8 B/elem, bwd 12 B/elem, f64 fwd 16 B/elem vs the copy's 8
                    System.out.printf(Locale.ROOT, "  %-12s %8.2f %6.2f %8.2f %6.2f %8.2f %6.2f%n", op.id(),
                            N / f / 1e9, ceiling / f, N / b / 1e9, 1.5 * ceiling / b, N / 2 / d / 1e9, ceiling / d);
                }
            }
            System.out.printf(Locale.ROOT, "program builds (first use): %s%n", rt.buildNanos());
        }
        System.out.printf(Locale.ROOT, "benchmark took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** Softmax forward, float32, each variant forced and auto's choice, on three layouts of 4M elements. */
    @Test
    void softmaxVariants() {
        try (OpenClRuntime rt = OpenClTestDevice.open();
             DeviceBuffer x = rt.allocate(4L << 22); DeviceBuffer y = rt.allocate(4L << 22)) {
            fill(rt, x);
            dev.soma.backend.OpLayout[] layouts = {new dev.soma.backend.OpLayout(4096, 1024, 1),
                new dev.soma.backend.OpLayout(1, 1 << 22, 1), new dev.soma.backend.OpLayout(64, 1024, 64)};
            for (dev.soma.backend.OpLayout l : layouts) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "softmax (%d, %d, %d), auto = %s:",
                        l.outer(), l.mid(), l.inner(), rt.softmaxVariantFor(l)));
                for (SoftmaxVariant v : SoftmaxVariant.values()) {
                    rt.setSoftmaxVariant(v);
                    double t = best(() -> rt.softmaxForward(OpArgs.of(Op.SOFTMAX), DType.F32, x, y, l), rt);
                    line.append(String.format(Locale.ROOT, "  %s %.3f Gelem/s", v.name().toLowerCase(Locale.ROOT),
                            l.elementCount() / t / 1e9));
                }
                rt.setSoftmaxVariant(SoftmaxVariant.AUTO);
                System.out.println(line);
            }
        }
    }

    /** Op code as a kernel argument vs compiled in (-DSOMA_FIXED_OP), for a few ops. */
    @Test
    void opCodeArgumentVersusCompiledIn() {
        try {
            for (Op op : new Op[] {Op.RELU, Op.SIGMOID, Op.HARDSWISH}) {
                double arg;
                double fixed;
                System.setProperty("soma.opencl.opArgument", "true");
                arg = timeOne(op);
                System.setProperty("soma.opencl.opArgument", "false");
                fixed = timeOne(op);
                System.out.printf(Locale.ROOT, "op code %-10s argument %.2f Gelem/s, compiled in %.2f Gelem/s%n", op.id(),
                        N / arg / 1e9, N / fixed / 1e9);
            }
        } finally {
            System.clearProperty("soma.opencl.opArgument");
        }
    }

    private static double timeOne(Op op) {
        try (OpenClRuntime rt = OpenClTestDevice.open();
             DeviceBuffer x = rt.allocate(4 * N); DeviceBuffer y = rt.allocate(4 * N)) {
            fill(rt, x);
            return best(() -> rt.forward(OpArgs.of(op), DType.F32, x, y, N), rt);
        }
    }

    private static void fill(OpenClRuntime rt, DeviceBuffer b) {
        float[] host = new float[(int) (b.byteSize() / 4)];
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) (((i * 2654435761L) & 0xffff) / 4096.0 - 8.0);
        }
        rt.upload(MemorySegment.ofArray(host), b, 0, b.byteSize());
    }

    /** Best of REPS runs after one warm-up, in seconds. */
    private static double best(Runnable r, OpenClRuntime rt) {
        r.run();
        rt.synchronize();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < REPS; i++) {
            long t = System.nanoTime();
            r.run();
            rt.synchronize();
            best = Math.min(best, (System.nanoTime() - t) / 1e9);
        }
        return best;
    }
}
