package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.PreluGradients;
import dev.soma.Tensor;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.fallback.Accuracy;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op, forward and backward, float32 and float64, on the CUDA backend against the scalar CPU
 * reference: random data plus the extremal values, sizes hitting every vector tail, outputs poisoned
 * first, every softmax kernel forced in turn, PReLU with 1 and C weights, leaks, exhaustion and
 * concurrent use. Skipped (by assumption, with the reason) where there is no NVIDIA GPU.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaOpSuiteTest {
    static final long[] SIZES = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 255, 1023, 1024, 1025, 4097, 1 << 20};
    static final double POISON = -7777.25;
    static final double[] EXTREMES = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0,
        Float.MIN_VALUE, -Float.MIN_VALUE, Double.MIN_VALUE, 1e-30, -1e-30, 88.7, -88.7, 89.0, -104.0, 709.8, -709.8,
        710.0, -745.5, 1e30, -1e30, 3.4e38, -3.4e38, 1e300, -1e300, 20.0, 20.5, -3.0, 3.0, 6.0, 1e-8, -1e-8};

    private Engine cuda;
    private Engine ref;
    private CudaRuntime rt;

    @BeforeAll
    void open() {
        if (CudaTestSupport.DRY_RUN) {
            cuda = CudaTestSupport.reference();
            ref = CudaTestSupport.reference();
            return;
        }
        cuda = CudaTestSupport.cudaEngineOrNull();
        if (cuda != null) {
            rt = CudaTestSupport.runtime(cuda);
            ref = CudaTestSupport.reference();
        }
    }

    /** Per test, so each one is reported skipped with the reason when there is no GPU. */
    @BeforeEach
    void needsGpu() {
        if (!CudaTestSupport.DRY_RUN) {
            CudaTestSupport.assumeCuda();
        }
    }

    /** Tests of the runtime itself need the real device even in a dry run. */
    private void needsRuntime() {
        org.junit.jupiter.api.Assumptions.assumeTrue(rt != null, "dry run: no CUDA runtime");
    }

    private void force(SoftmaxVariant v) {
        if (rt != null) {
            rt.forceSoftmaxVariant(v);
        }
    }

    @AfterEach
    void nothingLeaked() {
        if (rt != null) {
            rt.forceSoftmaxVariant(null);
            assertEquals(0, rt.allocator().liveBuffers(), "device buffers leaked: " + rt.allocator().describeLive());
            assertEquals(0, rt.allocator().liveBytes());
        }
    }

    @AfterAll
    void close() {
        if (cuda != null) {
            cuda.close();
        }
        if (ref != null && ref != cuda) {
            ref.close();
        }
    }

    static Tensor data(DType t, long n, long seed, double scale) {
        Tensor x = Tensor.allocate(t, n);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            x.set(i, i < EXTREMES.length && n >= 64 ? EXTREMES[(int) i] : (r.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }

    static Tensor poisoned(Tensor like) {
        Tensor t = like.newLike();
        t.fill(POISON);
        return t;
    }

    static Stream<Arguments> elementwiseCases() {
        List<Arguments> out = new ArrayList<>();
        for (Op op : Op.values()) {
            if (op.family() == Family.ELEMENTWISE) {
                for (DType t : DType.values()) {
                    out.add(Arguments.of(op, t));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("elementwiseCases")
    void elementwiseMatchesTheReference(Op op, DType t) {
        for (long n : SIZES) {
            checkElementwise(OpArgs.of(op), t, n, 12.0);
        }
    }

    @Test
    void parametersAtTheirEdges() {
        for (DType t : DType.values()) {
            for (double a : new double[] {0.0, 1.0, -0.5, 2.5}) {
                checkElementwise(OpArgs.of(Op.LEAKY_RELU).withAlpha(a), t, 1025, 5);
                checkElementwise(OpArgs.of(Op.ELU).withAlpha(a), t, 1025, 5);
                if (a != 0) {
                    checkElementwise(OpArgs.of(Op.CELU).withAlpha(a), t, 1025, 5);
                }
            }
            checkElementwise(OpArgs.of(Op.ELU), t, 4097, 1e-6);  // ELU near 0-
            checkElementwise(OpArgs.of(Op.SOFTPLUS).withBeta(2.0).withThreshold(5.0), t, 4097, 8);
            checkElementwise(OpArgs.of(Op.SOFTPLUS).withBeta(0.5).withThreshold(-1.0), t, 4097, 8);
        }
    }

    private void checkElementwise(OpArgs args, DType t, long n, double scale) {
        Tensor x = data(t, n, n * 31 + args.op().ordinal(), scale);
        Tensor dy = data(t, n, n * 17 + 5, 3.0);
        for (long i = 0; i < Math.min(n, EXTREMES.length); i++) {
            dy.set(i, 1.0);  // the extremal inputs' gradients, unscaled
        }
        Tensor y = poisoned(x);
        cuda.forward(args, x, y);
        NumericCheck.assertClose(args + " forward " + t + " n=" + n, x, ref.forward(args, x), y);
        Tensor dx = poisoned(x);
        cuda.backward(args, x, dy, dx);
        NumericCheck.assertClose(args + " backward " + t + " n=" + n, x, ref.backward(args, x, dy), dx);
        // In place: the output is the input.
        Tensor inPlace = x.copy();
        cuda.forward(args, inPlace, inPlace);
        NumericCheck.assertClose(args + " in-place " + t, x, y, inPlace, 0);
    }

    static Stream<Arguments> softmaxCases() {
        List<Arguments> out = new ArrayList<>();
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            for (DType t : DType.values()) {
                for (SoftmaxVariant v : SoftmaxVariant.values()) {
                    out.add(Arguments.of(op, t, v));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("softmaxCases")
    void softmaxEveryKernel(Op op, DType t, SoftmaxVariant v) {
        force(v);
        for (long len : new long[] {1, 31, 33, 1024, 1025, 100_000}) {
            long rows = len > 10_000 ? 3 : 37;
            checkSoftmax(OpArgs.of(op), t, new long[] {rows, len}, len * 7 + v.ordinal());
        }
        long[][] shapes = {{4, 5, 6}, {3, 1, 7}, {2, 2000, 3}};
        for (long[] shape : shapes) {
            for (int axis = 0; axis < 3; axis++) {
                checkSoftmax(OpArgs.of(op).withAxis(axis), t, shape, axis);
            }
        }
    }

    private void checkSoftmax(OpArgs args, DType t, long[] shape, long seed) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        Tensor x = Tensor.allocate(t, shape);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            x.set(i, (r.nextDouble() * 2 - 1) * 20);
        }
        Tensor dy = Tensor.allocate(t, shape);
        for (long i = 0; i < n; i++) {
            dy.set(i, r.nextDouble() * 2 - 1);
        }
        Tensor y = poisoned(x);
        cuda.forward(args, x, y);
        NumericCheck.assertClose(args + " " + t + " forward", x, ref.forward(args, x), y,
                NumericCheck.softmaxScales(args, x, dy, false), Accuracy.tolerance(t));
        Tensor dx = poisoned(x);
        cuda.backward(args, x, dy, dx);
        NumericCheck.assertClose(args + " " + t + " backward", x, ref.backward(args, x, dy), dx,
                NumericCheck.softmaxScales(args, x, dy, true), Accuracy.tolerance(t));
        // Shift invariance: x + 1e4 gives the same softmax.
        if (args.op() == Op.SOFTMAX) {
            Tensor shifted = x.copy();
            for (long i = 0; i < n; i++) {
                shifted.set(i, shifted.get(i) + 1e4);
            }
            NumericCheck.assertClose(args + " shifted", x, y, cuda.forward(args, shifted), t == DType.F32 ? 2e-3 : 1e-9);
        }
    }

    @ParameterizedTest
    @EnumSource(SoftmaxVariant.class)
    void softmaxRowRules(SoftmaxVariant v) {
        force(v);
        double inf = Double.POSITIVE_INFINITY;
        for (DType t : DType.values()) {
            for (int len : new int[] {5, 1500}) {
                double[][] rows = {
                    filled(len, -inf),                       // all masked
                    with(filled(len, 1.0), 2, Double.NaN),   // NaN poisons the row
                    with(filled(len, 1.0), 3, inf),          // +inf poisons the row
                    with(filled(len, -inf), 1, 4.0),         // one unmasked element: probability 1
                    with(with(filled(len, 0.5), 0, -inf), len - 1, -inf),
                };
                Tensor x = Tensor.allocate(t, rows.length, len);
                for (int i = 0; i < rows.length; i++) {
                    for (int j = 0; j < len; j++) {
                        x.set((long) i * len + j, rows[i][j]);
                    }
                }
                for (boolean safe : new boolean[] {false, true}) {
                    for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
                        OpArgs a = OpArgs.of(op).withSafe(safe);
                        Tensor y = poisoned(x);
                        cuda.forward(a, x, y);
                        NumericCheck.assertClose(a + " rows " + v + " " + t, x, ref.forward(a, x), y,
                                NumericCheck.softmaxScales(a, x, x, false), Accuracy.tolerance(t));
                        Tensor dy = x.newLike();
                        dy.fill(0.25);
                        Tensor dx = poisoned(x);
                        cuda.backward(a, x, dy, dx);
                        NumericCheck.assertClose(a + " rows backward " + v + " " + t, x, ref.backward(a, x, dy), dx,
                                NumericCheck.softmaxScales(a, x, dy, true), Accuracy.tolerance(t));
                    }
                }
            }
        }
    }

    @Test
    void softmaxRowsSumToOne() {
        for (long len : new long[] {128, 1000, 5000, 32768, 300_000}) {
            float[] v = new float[(int) (2 * len)];
            SplittableRandom rnd = new SplittableRandom(len);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((rnd.nextDouble() * 2 - 1) * 30);  // finite: this checks the sums, not the row rules
            }
            Tensor y = cuda.forward(OpArgs.of(Op.SOFTMAX), Tensor.of(v, 2, len));
            for (int r = 0; r < 2; r++) {
                double s = 0;
                for (long j = 0; j < len; j++) {
                    s += y.get(r * len + j);
                }
                assertEquals(1.0, s, 1e-6, "row sum at len " + len);
            }
        }
    }

    @Test
    void preluWithOneAndManyWeights() {
        for (DType t : DType.values()) {
            for (long[] shape : new long[][] {{1025}, {4, 3}, {2, 5, 7, 9}, {3, 64, 1000}, {1, 2, 70_000}}) {
                long channels = shape.length >= 2 ? shape[1] : 1;
                for (long wn : new long[] {1, channels}) {
                    long n = 1;
                    for (long d : shape) {
                        n *= d;
                    }
                    Tensor x = Tensor.allocate(t, shape);
                    Tensor src = data(t, n, n + wn, 4);
                    for (long i = 0; i < n; i++) {
                        x.set(i, src.get(i));
                    }
                    Tensor w = data(t, wn, 99 + wn, 1);
                    Tensor dy = Tensor.allocate(t, shape);
                    for (long i = 0; i < n; i++) {
                        dy.set(i, Math.sin(i));
                    }
                    Tensor y = poisoned(x);
                    cuda.prelu(x, w, y);
                    NumericCheck.assertClose("prelu " + t, x, ref.prelu(x, w), y);
                    PreluGradients got = cuda.preluBackward(x, w, dy);
                    PreluGradients want = ref.preluBackward(x, w, dy);
                    NumericCheck.assertClose("prelu dx " + t, x, want.dx(), got.dx());
                    NumericCheck.assertClose("prelu dw " + t, w, want.dw(), got.dw(),
                            NumericCheck.preluWeightScales(x, w, dy), Accuracy.tolerance(t));
                    PreluGradients again = cuda.preluBackward(x, w, dy);
                    NumericCheck.assertClose("prelu dw is deterministic", w, got.dw(), again.dw(), 0);
                }
            }
        }
    }

    @Test
    void exhaustionNamesAskedAndFree() {
        needsRuntime();
        long total = rt.info().memoryBytes();
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> rt.allocate(total + (1L << 30)));
        assertTrue(e.getMessage().contains("asked for " + (total + (1L << 30)) + " bytes"), e.getMessage());
        // Within the budget but beyond what the driver can give: the native path reports it the same way.
        DeviceOutOfMemoryException e2 = assertThrows(DeviceOutOfMemoryException.class, () -> rt.allocate(total - 1));
        assertTrue(e2.getMessage().contains(" free"), e2.getMessage());
        assertEquals(0, rt.allocator().liveBuffers());
    }

    @Test
    void thousandCyclesLeaveMemoryWhereItWas() {
        needsRuntime();
        Tensor x = data(DType.F32, 4097, 3, 4);
        cuda.forward(Op.GELU, x);  // warm: module, staging buffers
        long before = rt.freeMemory();
        for (int i = 0; i < 1000; i++) {
            try (DeviceBuffer b = rt.allocate(1 << 20)) {
                rt.upload(x.segment(), b, 0, x.byteSize());
                rt.forward(OpArgs.of(Op.GELU), DType.F32, b, b, x.elementCount());
            }
        }
        rt.synchronize();
        assertEquals(before, rt.freeMemory(), "device memory after 1,000 alloc/launch/free cycles");
        assertTrue(rt.allocator().totalAllocations() >= 1000);
    }

    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                final int seed = k;
                fs.add(pool.submit(() -> {
                    Tensor x = data(DType.F32, 100_003, seed, 6);
                    NumericCheck.assertClose("concurrent tanh", x, ref.forward(Op.TANH, x), cuda.forward(Op.TANH, x));
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void largeTensorCrossesStagingChunks() {
        long n = (CudaRuntime.STAGING_BYTES / 4) * 3 + 5;  // three and a bit staging buffers
        Tensor x = data(DType.F32, n, 11, 10);
        NumericCheck.assertClose("sigmoid over chunked transfers", x, ref.forward(Op.SIGMOID, x),
                cuda.forward(Op.SIGMOID, x));
    }

    @Test
    void closeFreesEverythingOnceAndLaterCallsFailClearly() {
        needsRuntime();
        Engine e = dev.soma.Engine.create(dev.soma.backend.BackendKind.CUDA);
        CudaRuntime r = CudaTestSupport.runtime(e);
        DeviceBuffer forgotten = r.allocate(1024);  // the runtime's close must free it
        long forgottenSeq = dev.soma.leak.Leaks.lastSequence();
        e.close();
        e.close();
        r.close();
        assertTrue(forgotten.isClosed());
        assertEquals(0, r.allocator().liveBuffers());
        assertTrue(dev.soma.leak.LeakCheck.takeReport(forgottenSeq) != null, "a buffer its runtime had to free is reported");
        forgotten.close();  // a second close of a buffer does nothing
        assertThrows(IllegalStateException.class, () -> e.forward(Op.RELU, Tensor.of(new float[] {1f})));
        assertThrows(IllegalStateException.class, () -> r.allocate(16));
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static double[] with(double[] a, int i, double v) {
        a[i] = v;
        return a;
    }
}
