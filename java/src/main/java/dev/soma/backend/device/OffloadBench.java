package dev.soma.backend.device;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.backend.ChainStep;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The offload pipeline's figures on one backend: (1) pinned host-to-device and device-to-host
 * bandwidth through {@link DeviceQueue}; (2) streamed throughput of an elementwise op over a host
 * tensor for 1 to 4 queues and chunks of 4 to 256 MB, as GB/s of input and as a fraction of the
 * serial copy time (bytes/H2D + bytes/D2H: above 1 means uploads and downloads overlapped);
 * (3) in-memory throughput of the same op; (4) forwardMany over 1,000 tensors of 4,096 elements
 * against a loop of forward calls. Every result is checked against an in-memory run first.
 *
 * <pre>java -cp soma.jar dev.soma.backend.device.OffloadBench [--backend cuda|opencl|cpu] [--mb 2048] [--out DIR] [--quick]</pre>
 * Writes offload-bench.csv into --out when given.
 */
public final class OffloadBench {
    private OffloadBench() {
    }

    public static void main(String[] args) throws IOException {
        String kind = "auto";
        long mb = 2048;
        Path outDir = null;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> kind = args[++i];
                case "--mb" -> mb = Long.parseLong(args[++i]);
                case "--out" -> outDir = Path.of(args[++i]);
                case "--quick" -> quick = true;
                default -> {
                    System.err.println("usage: OffloadBench [--backend cuda|opencl|cpu] [--mb N] [--out DIR] [--quick]");
                    System.exit(2);
                }
            }
        }
        PrintStream out = System.out;
        List<String> csv = new ArrayList<>();
        csv.add("backend,what,queues,chunk_mb,gbps,fraction");
        try (Engine e = Engine.create(BackendKind.parse(kind))) {
            out.println("offload-bench on " + e.description());
            long n = mb * (1L << 20) / 4;
            OpArgs relu = OpArgs.of(Op.RELU);
            List<ChainStep> chain = List.of(ChainStep.of(relu));
            try (Tensor x = Tensor.allocateNative(DType.F32, n); Tensor ref = Tensor.allocateNative(DType.F32, n);
                 Tensor y = Tensor.allocateNative(DType.F32, n)) {
                for (long i = 0; i < n; i++) {
                    x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((i % 1001) - 500));
                }
                String name = e.backendKind().name().toLowerCase(Locale.ROOT);
                double inMemory = time(() -> e.forward(relu, x, ref), quick ? 1 : 3);
                double memGbps = x.byteSize() / inMemory / 1e9;
                out.printf(Locale.ROOT, "in memory: %.2f GB/s of input (%.0f ms for %d MB)%n", memGbps, inMemory * 1e3, mb);
                csv.add(String.format(Locale.ROOT, "%s,in-memory,0,0,%.3f,1", name, memGbps));
                if (e.backend() instanceof DeviceBackend d) {
                    double[] bw = transferBandwidth(d.runtime(), 256L << 20);
                    out.printf(Locale.ROOT, "pinned H2D %.2f GB/s, D2H %.2f GB/s%n", bw[0], bw[1]);
                    csv.add(String.format(Locale.ROOT, "%s,h2d,1,256,%.3f,1", name, bw[0]));
                    csv.add(String.format(Locale.ROOT, "%s,d2h,1,256,%.3f,1", name, bw[1]));
                    double serial = x.byteSize() / (bw[0] * 1e9) + x.byteSize() / (bw[1] * 1e9);
                    int[] queues = quick ? new int[] {1, 3} : new int[] {1, 2, 3, 4};
                    long[] chunks = quick ? new long[] {4, 64} : new long[] {4, 16, 64, 256};
                    for (int q : queues) {
                        for (long c : chunks) {
                            d.setQueues(q);
                            d.setMaxChunkBytes(c << 20);
                            // A budget below the tensor forces the stream; chunk size caps each piece.
                            long budget = (long) Math.ceil(2.0 * q * (c << 20) / 0.875) + (1 << 20);
                            if (budget >= 2 * x.byteSize()) {
                                continue;  // the tensor would fit: nothing to stream at this size
                            }
                            d.setMemoryBudget(budget);
                            y.segment().fill((byte) 0x7f);
                            e.forwardChain(chain, x, y, null);
                            check(ref, y);
                            double s = time(() -> e.forwardChain(chain, x, y, null), quick ? 1 : 2);
                            double gbps = x.byteSize() / s / 1e9;
                            out.printf(Locale.ROOT, "streamed: %d queue(s), %4d MB chunks: %.2f GB/s, %.2f of serial copy time, %.2f of in-memory%n",
                                    q, c, gbps, serial / s, gbps / memGbps);
                            csv.add(String.format(Locale.ROOT, "%s,streamed,%d,%d,%.3f,%.3f", name, q, c, gbps, serial / s));
                        }
                    }
                    d.setMemoryBudget(Long.MAX_VALUE);
                    d.setQueues(OffloadPipeline.DEFAULT_QUEUES);
                    d.setMaxChunkBytes(OffloadPipeline.DEFAULT_MAX_CHUNK_BYTES);
                } else if (e.backend() instanceof CpuBackend cpu) {
                    for (long c : new long[] {1, 4, 16, 64}) {
                        cpu.setChainChunkElements((c << 20) / 4);
                        double s = time(() -> e.forwardChain(chain, x, y, null), quick ? 1 : 3);
                        check(ref, y);
                        double gbps = x.byteSize() / s / 1e9;
                        out.printf(Locale.ROOT, "chunked: %4d MB chunks: %.2f GB/s, %.2f of one call%n", c, gbps, gbps / memGbps);
                        csv.add(String.format(Locale.ROOT, "%s,chunked,1,%d,%.3f,%.3f", name, c, gbps, gbps / memGbps));
                    }
                }
            }
            multiTensor(e, out, csv, quick);
        }
        if (outDir != null) {
            Files.createDirectories(outDir);
            Files.write(outDir.resolve("offload-bench.csv"), csv);
        }
    }

    private static void multiTensor(Engine e, PrintStream out, List<String> csv, boolean quick) {
        OpArgs args = OpArgs.of(Op.SILU);
        List<Tensor> xs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            float[] v = new float[4096];
            for (int j = 0; j < v.length; j++) {
                v[j] = (j % 97 - 48) * 0.1f + i * 1e-3f;
            }
            xs.add(Tensor.of(v));
        }
        List<Tensor> many = e.forwardMany(args, xs);
        for (int i = 0; i < xs.size(); i += 97) {
            check(e.forward(args, xs.get(i)), many.get(i));
        }
        int reps = quick ? 3 : 10;
        double tMany = time(() -> e.forwardMany(args, xs), reps);
        double tLoop = time(() -> xs.forEach(x -> e.forward(args, x)), reps);
        out.printf(Locale.ROOT, "1000 x 4096 silu: forwardMany %.2f ms, loop of forward %.2f ms: %.1fx%n",
                tMany * 1e3, tLoop * 1e3, tLoop / tMany);
        String name = e.backendKind().name().toLowerCase(Locale.ROOT);
        csv.add(String.format(Locale.ROOT, "%s,multi-tensor-speedup,0,0,%.3f,%.3f", name, tMany * 1e3, tLoop / tMany));
    }

    /** Pinned H2D and D2H GB/s with one queue, {@code bytes} per transfer, best of three. */
    static double[] transferBandwidth(DeviceRuntime rt, long bytes) {
        try (PinnedMemory host = rt.allocatePinned(bytes); DeviceBuffer dev = rt.allocate(bytes); DeviceQueue q = rt.openQueue()) {
            host.segment().fill((byte) 1);
            double up = Double.MAX_VALUE;
            double down = Double.MAX_VALUE;
            for (int r = 0; r < 3; r++) {
                long t0 = System.nanoTime();
                q.uploadAsync(host.segment(), dev, 0, bytes);
                q.synchronize();
                long t1 = System.nanoTime();
                q.downloadAsync(dev, 0, host.segment(), bytes);
                q.synchronize();
                long t2 = System.nanoTime();
                up = Math.min(up, (t1 - t0) / 1e9);
                down = Math.min(down, (t2 - t1) / 1e9);
            }
            return new double[] {bytes / up / 1e9, bytes / down / 1e9};
        }
    }

    private static void check(Tensor expected, Tensor actual) {
        long n = expected.elementCount();
        for (long i = 0; i < n; i += Math.max(1, n / 100_000)) {
            if (Float.floatToIntBits((float) expected.get(i)) != Float.floatToIntBits((float) actual.get(i))) {
                throw new IllegalStateException("validation failed at element " + i + ": " + expected.get(i) + " vs " + actual.get(i));
            }
        }
    }

    private static double time(Runnable r, int reps) {
        r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }
}
