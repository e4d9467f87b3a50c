package dev.soma.cli;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.OpLayout;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceRuntime;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.verify.ErrorMetric;
import dev.soma.verify.VerifyCases;
import dev.soma.verify.Verifier;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code soma} with no arguments: a short GPU-vs-CPU run on whatever this machine has. Lists the
 * devices, measures the host copy bandwidth (the ceiling of any elementwise op on the CPU), then
 * runs every op forward on every device on one 2^22-element float32 tensor (extremal values
 * included), checks each result against the float64 reference, and prints throughput: for GPU
 * devices both with the data already on the device (kernel) and through the API, transfers
 * included (end to end). Validate, then time (llm.c's rule). Exit 1 if any check fails.
 */
final class MainJob {
    /** 64 x 64 x 1024: PReLU has 64 channels, softmax rows of 1024. */
    static final long[] SHAPE = {64, 64, 1024};
    /** Keeps the whole run within a minute on two cores. */
    private static final double TIME_PER_MEASUREMENT_S = 0.15;
    private static final String ROW = "%-12s %-10s %9s %8s %8s %13s %10s  %s";

    private final PrintWriter out;

    MainJob(PrintWriter out) {
        this.out = out;
    }

    int run() {
        long start = System.nanoTime();
        out.println("soma " + VersionProvider.version() + ": every op on every device here, checked against the float64 "
                + "reference, then timed");
        out.println();
        Targets targets = Targets.probe();
        DeviceListing.print(targets, out);
        if (targets.targets().isEmpty()) {
            throw new IllegalStateException("no backend is available, not even the CPU; see the lines above");
        }
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        // Elementwise data has NaN, infinities and huge values everywhere; softmax data only rarely,
        // since one NaN or +inf makes its whole row NaN.
        Tensor x = VerifyCases.inputs(OpArgs.of(Op.GELU), DType.F32, SHAPE, rng);
        Tensor rows = VerifyCases.inputs(OpArgs.of(Op.SOFTMAX), DType.F32, SHAPE, rng);
        Tensor w = VerifyCases.uniform(DType.F32, new long[] {SHAPE[1]}, -1, 1, rng);
        Tensor y = x.newLike();
        long n = x.elementCount();
        double copy = hostCopyGBs(x.byteSize());
        out.println();
        out.println(String.format(Locale.ROOT, "tensor: float32 %s, %d elements (%s): random, with NaN, +-inf, +-0, "
                + "subnormals and overflow edges mixed in", x.shapeString(), n, DeviceListing.bytes(x.byteSize())));
        out.println(String.format(Locale.ROOT, "host copy bandwidth: %.1f GB/s (read + write); an elementwise op moves "
                + "8 bytes per element, so the CPU's ceiling is %.2f Gelem/s", copy, copy / 8));

        List<Runner> runners = new ArrayList<>();
        try (Verifier verifier = new Verifier(seed)) {
            for (Targets.Target t : targets.targets()) {
                try {
                    Runner r = new Runner(t, t.open());
                    runners.add(r);
                    r.measureTransfers(x);
                } catch (RuntimeException e) {
                    out.println(t.label() + ": could not open: " + ErrorReport.describe(e));
                }
            }
            out.println();
            out.println(String.format(Locale.ROOT, ROW, "op", "device", "Gelem/s", "GB/s", "of copy", "e2e Gelem/s",
                    "max error", "check"));
            int failures = 0;
            int checks = 0;
            for (Op op : Op.values()) {
                OpArgs args = OpArgs.of(op);
                Tensor weight = op == Op.PRELU ? w : null;
                Tensor in = op.family() == Family.ROW_REDUCTION ? rows : x;
                try (Tensor ref = verifier.referenceForward(args, in, weight)) {
                    boolean first = true;
                    for (Runner r : runners) {
                        checks++;
                        if (!r.runOp(args, in, weight, y, ref, copy, first)) {
                            failures++;
                        }
                        first = false;
                    }
                }
            }
            for (Runner r : runners) {
                r.engine.close();
            }
            out.println();
            summary(runners);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (failures == 0) {
                out.println(String.format(Locale.ROOT, "all %d results match the reference within %.0e (%.1f s)",
                        checks, ErrorMetric.tolerance(DType.F32), seconds));
                out.flush();
                return 0;
            }
            out.println(String.format(Locale.ROOT, "%d of %d results FAILED the check against the reference (%.1f s); "
                    + "'soma verify' shows details", failures, checks, seconds));
            out.flush();
            return 1;
        }
    }

    /** One device: its engine, and for GPU backends its runtime for device-resident timing. */
    private final class Runner {
        final Targets.Target target;
        final Engine engine;

        /** log of kernel and end-to-end throughput per op, for the geometric means of the summary. */
        double logKernelSum;
        double logE2eSum;
        int timed;

        Runner(Targets.Target target, Engine engine) {
            this.target = target;
            this.engine = engine;
        }

        /** For device backends: host-to-device and back, the scale for end-to-end figures. */
        void measureTransfers(Tensor x) {
            if (!(engine.backend() instanceof DeviceBackend db)) {
                return;
            }
            DeviceRuntime rt = db.runtime();
            long bytes = x.byteSize();
            try (DeviceBuffer b = rt.allocate(bytes)) {
                double up = bestSeconds(() -> {
                    rt.upload(x.segment(), b, 0, bytes);
                    rt.synchronize();
                });
                double down = bestSeconds(() -> rt.download(b, 0, x.segment(), bytes));
                out.println(String.format(Locale.ROOT, "%s: %s; host to device %.1f GB/s, device to host %.1f GB/s",
                        target.label(), engine.description(), bytes / up / 1e9, bytes / down / 1e9));
            }
        }

        /** Checks then times one op; prints its row; false when the check failed. */
        boolean runOp(OpArgs args, Tensor x, Tensor w, Tensor y, Tensor ref, double copyGBs, boolean first) {
            String name = first ? args.op().id() : "";
            long n = x.elementCount();
            y.fill(dev.soma.fallback.Samples.POISON);
            try {
                call(args, x, w, y);
            } catch (RuntimeException e) {
                out.println(String.format(Locale.ROOT, ROW, name, target.label(), "-", "-", "-", "-", "-",
                        "FAIL: " + ErrorReport.describe(e)));
                out.flush();
                return false;
            }
            Verifier.Finding f = Verifier.compare(args.op().id(), args, x, y, ref);
            boolean ok = f.error() <= ErrorMetric.tolerance(DType.F32);
            // The checked run above was the warm-up.
            double e2e = bestSecondsWarm(() -> call(args, x, w, y));
            double kernel = engine.backend() instanceof DeviceBackend db ? deviceSeconds(db.runtime(), args, x, w) : e2e;
            double gbs = 8.0 * n / kernel / 1e9;
            logKernelSum += Math.log(n / kernel);
            logE2eSum += Math.log(n / e2e);
            timed++;
            // The host copy is the ceiling for the CPU and for OpenCL devices that are CPUs; GPUs have their own.
            boolean hostMemory = !target.device().gpu();
            out.println(String.format(Locale.ROOT, ROW, name, target.label(),
                    String.format(Locale.ROOT, "%.3f", n / kernel / 1e9),
                    String.format(Locale.ROOT, "%.1f", gbs),
                    hostMemory ? String.format(Locale.ROOT, "%.0f%%", 100 * gbs / copyGBs) : "-",
                    String.format(Locale.ROOT, "%.3f", n / e2e / 1e9),
                    String.format(Locale.ROOT, "%.2g", f.error()),
                    ok ? "ok" : "FAIL: " + f.where()));
            out.flush();
            return ok;
        }

        private void call(OpArgs args, Tensor x, Tensor w, Tensor y) {
            if (args.op() == Op.PRELU) {
                engine.prelu(x, w, y);
            } else {
                engine.forward(args, x, y);
            }
        }
    }

    /** Each device against the CPU: geometric means over the ops, kernel and end to end. */
    private void summary(List<Runner> runners) {
        Runner cpu = runners.stream().filter(r -> r.target.kind() == dev.soma.backend.BackendKind.CPU && r.timed > 0)
                .findFirst().orElse(null);
        if (cpu == null) {
            return;
        }
        for (Runner r : runners) {
            if (r == cpu || r.timed == 0 || r.timed != cpu.timed) {
                continue;
            }
            double kernel = Math.exp((r.logKernelSum - cpu.logKernelSum) / r.timed);
            double e2e = Math.exp((r.logE2eSum - cpu.logE2eSum) / r.timed);
            out.println(String.format(Locale.ROOT, "%s vs cpu, geometric mean over %d ops: %.2fx with the data on the "
                    + "device, %.2fx end to end (transfers included)", r.target.label(), r.timed, kernel, e2e));
        }
    }

    /** The op's kernel alone, inputs already on the device. */
    private static double deviceSeconds(DeviceRuntime rt, OpArgs args, Tensor x, Tensor w) {
        long bytes = x.byteSize();
        OpLayout l = OpLayout.of(args, x.shape());
        try (DeviceBuffer bx = rt.allocate(bytes); DeviceBuffer by = rt.allocate(bytes);
             DeviceBuffer bw = w == null ? null : rt.allocate(w.byteSize())) {
            rt.upload(x.segment(), bx, 0, bytes);
            if (w != null) {
                rt.upload(w.segment(), bw, 0, w.byteSize());
            }
            Family f = args.op().family();
            return bestSeconds(() -> {
                switch (f) {
                    case ELEMENTWISE -> rt.forward(args, x.dtype(), bx, by, x.elementCount());
                    case CHANNEL_WEIGHTED -> rt.preluForward(x.dtype(), bx, bw, w.elementCount(), by, l);
                    case ROW_REDUCTION -> rt.softmaxForward(args, x.dtype(), bx, by, l);
                }
                rt.synchronize();
            });
        }
    }

    /** Host memory copy between two off-heap buffers of {@code bytes}, read + write, in GB/s. */
    static double hostCopyGBs(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(bytes, 64);
            MemorySegment b = arena.allocate(bytes, 64);
            a.fill((byte) 1);
            double s = bestSeconds(() -> MemorySegment.copy(a, 0, b, 0, bytes));
            return 2.0 * bytes / s / 1e9;
        }
    }

    /** The fastest of several runs (one warm-up first), within the time budget of one measurement. */
    static double bestSeconds(Runnable r) {
        r.run();
        return bestSecondsWarm(r);
    }

    /**
     * The fastest of up to 50 runs, as many as fit the time budget (at least one), for code that has
     * already run once: a slow op (the scalar path on a big tensor, a loaded machine) costs one run.
     */
    static double bestSecondsWarm(Runnable r) {
        double best = Double.MAX_VALUE;
        long budgetEnd = System.nanoTime() + (long) (TIME_PER_MEASUREMENT_S * 1e9);
        for (int i = 0; i < 50 && (i < 1 || System.nanoTime() < budgetEnd); i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }
}
