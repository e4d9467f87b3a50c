package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.ChainStep;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.fallback.Accuracy;
import dev.soma.fallback.Samples;
import dev.soma.fallback.scalar.ElementMath;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The offload cases the OpenClStreamingTest checks on PoCL, on a real CUDA GPU (skipped without
 * one): PReLU backward over the budget (whole outer slices, and blocks of channels), a chain with
 * a too-large softmax in segments, inner-axis softmax in column chunks, and columns longer than a
 * chunk. dx and forward results equal the in-memory kernels bit for bit; dw is within the accuracy
 * rule of the float64 reference measured against its terms' scale; nothing leaks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaStreamingTest {
    private Engine cuda;
    private CudaRuntime rt;
    private DeviceBackend backend;

    @BeforeAll
    void open() {
        cuda = CudaTestSupport.cudaEngineOrNull();
        if (cuda != null) {
            rt = CudaTestSupport.runtime(cuda);
            backend = (DeviceBackend) cuda.backend();
        }
    }

    @BeforeEach
    void needsGpu() {
        CudaTestSupport.assumeCuda();
    }

    @AfterEach
    void nothingLeaked() {
        if (rt != null) {
            rt.forceSoftmaxVariant(null);
            backend.setMemoryBudget(Long.MAX_VALUE);
            assertEquals(0, rt.allocator().liveBuffers(), () -> "device buffers leaked: " + rt.allocator().describeLive());
            assertEquals(0, rt.allocator().livePinned(), "pinned host blocks leaked");
        }
    }

    @AfterAll
    void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    static Tensor input(OpArgs args, DType t, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Tensor.wrap(Samples.input(args, t, n, seed), t, shape);
    }

    static Tensor poisoned(Tensor like) {
        return Tensor.wrap(Samples.allocate(like.dtype(), like.elementCount()), like.dtype(), like.shape());
    }

    static void assertSameBits(Tensor e, Tensor a, String what) {
        for (long i = 0; i < e.elementCount(); i++) {
            boolean same = e.dtype() == DType.F32
                    ? e.segment().getAtIndex(ValueLayout.JAVA_INT, i) == a.segment().getAtIndex(ValueLayout.JAVA_INT, i)
                    : e.segment().getAtIndex(ValueLayout.JAVA_LONG, i) == a.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            if (!same && !(Double.isNaN(e.get(i)) && Double.isNaN(a.get(i)))) {
                fail(what + ": element " + i + ": in memory " + e.get(i) + ", streamed " + a.get(i));
            }
        }
    }

    Tensor forward(List<ChainStep> steps, Tensor x, long budget) {
        backend.setMemoryBudget(budget);
        Tensor y = poisoned(x);
        backend.forwardChain(steps, x, y, null);
        return y;
    }

    void assertStreamed() {
        assertTrue(backend.lastPipeline() != null && backend.lastPipeline().lastChunkCount() >= 6, "expected many chunks");
    }

    /** dx bits and dw within the rule, streamed at {@code budget} against in memory, for one shape. */
    void preluBackward(DType t, long[] shape, long channels, long budget) {
        Tensor x = Tensor.wrap(Samples.gradient(t, shape[0] * shape[1] * (shape.length > 2 ? shape[2] : 1), 12), t, shape);
        Tensor w = Tensor.wrap(Samples.preluWeights(t, channels, 5), t, channels);
        Tensor dy = Tensor.wrap(Samples.gradient(t, x.elementCount(), 3), t, shape);
        Tensor dxMem = poisoned(x);
        backend.setMemoryBudget(Long.MAX_VALUE);
        backend.backward(OpArgs.of(Op.PRELU), x, w, dy, dxMem, Tensor.allocate(t, channels));
        Tensor dx = poisoned(x);
        Tensor dw = Tensor.wrap(Samples.allocate(t, channels), t, channels);
        backend.setMemoryBudget(budget);
        backend.backward(OpArgs.of(Op.PRELU), x, w, dy, dx, dw);
        assertStreamed();
        assertSameBits(dxMem, dx, "prelu dx " + t);
        long inner = shape.length > 2 ? shape[2] : 1;
        double[] ref = new double[(int) channels];
        double[] scale = new double[(int) channels];
        for (long i = 0; i < x.elementCount(); i++) {
            int c = (int) ((i / inner) % channels);
            double term = ElementMath.preluDwTerm(x.get(i), dy.get(i));
            ref[c] += term;
            scale[c] += Math.abs(term);
        }
        for (int c = 0; c < channels; c++) {
            double err = Accuracy.errorScaled(ref[c], dw.get(c), scale[c]);
            assertTrue(err <= Accuracy.tolerance(t), "prelu dw[" + c + "] " + t + ": " + dw.get(c) + " vs " + ref[c]);
        }
    }

    @Test
    void preluBackwardStreams() {
        for (DType t : DType.values()) {
            preluBackward(t, new long[] {250, 16, 100}, 16, 256 << 10);
        }
        preluBackward(DType.F32, new long[] {3, 64, 400}, 64, 64 << 10);
        preluBackward(DType.F32, new long[] {40, 3000}, 3000, 64 << 10);
    }

    @Test
    void chainWithATooLargeSoftmaxOrPreluRunsInSegments() {
        DType t = DType.F32;
        long budget = 64 << 10;
        Tensor w64 = Tensor.wrap(Samples.preluWeights(t, 64, 9), t, 64);
        record Case(long[] shape, ChainStep big) { }
        for (Case k : List.of(new Case(new long[] {3, 50_000}, ChainStep.of(OpArgs.of(Op.SOFTMAX))),
                new Case(new long[] {4, 301, 97}, ChainStep.of(OpArgs.of(Op.LOG_SOFTMAX).withAxis(1))),
                new Case(new long[] {3, 64, 400}, new ChainStep(OpArgs.of(Op.PRELU), w64)))) {
            List<ChainStep> steps = List.of(ChainStep.of(OpArgs.of(Op.GELU)), k.big(), ChainStep.of(OpArgs.of(Op.TANH)));
            Tensor x = input(OpArgs.of(Op.GELU), t, 78, k.shape());
            Tensor opByOp = x.copy();
            backend.setMemoryBudget(budget);
            for (ChainStep s : steps) {
                backend.forward(s.args(), opByOp, s.weight(), opByOp);
            }
            assertSameBits(opByOp, forward(steps, x, budget), "chain in segments " + k.big().args());
        }
    }

    @Test
    void innerAxisSoftmaxStreamsColumnsAndLongColumnsRunInPasses() {
        rt.forceSoftmaxVariant(SoftmaxVariant.STRIDED);
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            OpArgs args = OpArgs.of(op).withAxis(1);
            Tensor x = input(args, DType.F32, 200, 3, 301, 97);
            Tensor inMemory = forward(List.of(ChainStep.of(args)), x, Long.MAX_VALUE);
            Tensor streamed = forward(List.of(ChainStep.of(args)), x, 64 << 10);
            assertStreamed();
            assertSameBits(inMemory, streamed, op + " columns");
        }
        rt.forceSoftmaxVariant(null);
        long len = 40_000;
        int cols = 3;
        OpArgs axis0 = OpArgs.of(Op.SOFTMAX).withAxis(0);
        Tensor x = input(axis0, DType.F32, 41, len, cols);
        Tensor xt = Tensor.allocate(DType.F32, cols, len);
        for (long i = 0; i < len; i++) {
            for (long j = 0; j < cols; j++) {
                xt.set(j * len + i, x.get(i * cols + j));
            }
        }
        Tensor y = forward(List.of(ChainStep.of(axis0)), x, 64 << 10);
        Tensor yt = forward(List.of(ChainStep.of(OpArgs.of(Op.SOFTMAX))), xt, 64 << 10);
        for (long i = 0; i < len; i++) {
            for (long j = 0; j < cols; j++) {
                assertEquals(Float.floatToRawIntBits((float) yt.get(j * len + i)), Float.floatToRawIntBits((float) y.get(i * cols + j)),
                        "long column " + j + " element " + i);
            }
        }
    }
}
