package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.Tensor;
import dev.soma.backend.ChainStep;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.fallback.Accuracy;
import dev.soma.fallback.Samples;
import dev.soma.fallback.scalar.ElementMath;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The offload pipeline on PoCL: with a device-memory budget small enough to force dozens of chunks,
 * every op's streamed result equals the in-memory result bit for bit (same kernels on the same
 * rows), chains equal op-by-op runs, and every queue, device buffer and pinned block is freed.
 */
class OpenClStreamingTest {
    /** Forces about 40 to 70 chunks on the tensors below. */
    static final long BUDGET = 256 << 10;
    static final long N = 400_003;

    static OpenClRuntime rt;
    static DeviceBackend backend;

    @BeforeAll
    static void open() {
        rt = OpenClTestDevice.open();
        backend = new DeviceBackend(rt);
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    @AfterEach
    void nothingLeaked() {
        rt.setSoftmaxVariant(SoftmaxVariant.AUTO);
        backend.setMemoryBudget(Long.MAX_VALUE);
        DeviceAllocator a = rt.allocator();
        assertEquals(0, a.liveBuffers(), () -> "device buffers leaked: " + a.describeLive());
        assertEquals(0, a.livePinned(), "pinned host blocks leaked");
    }

    static Tensor input(OpArgs args, DType t, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Tensor.wrap(Samples.input(args, t, n, seed), t, shape);
    }

    static Tensor poisoned(Tensor like) {
        Tensor t = Tensor.wrap(Samples.allocate(like.dtype(), like.elementCount()), like.dtype(), like.shape());
        return t;
    }

    /** Bitwise equality; NaNs compare by bits too (the same kernel gives the same NaN). */
    static void assertSameBits(Tensor expected, Tensor actual, String what) {
        long n = expected.elementCount();
        MemorySegment e = expected.segment();
        MemorySegment a = actual.segment();
        for (long i = 0; i < n; i++) {
            boolean same = expected.dtype() == DType.F32
                    ? e.getAtIndex(ValueLayout.JAVA_INT, i) == a.getAtIndex(ValueLayout.JAVA_INT, i)
                    : e.getAtIndex(ValueLayout.JAVA_LONG, i) == a.getAtIndex(ValueLayout.JAVA_LONG, i);
            if (!same) {
                fail(what + ": element " + i + " of " + n + " differs: in memory " + expected.get(i) + ", streamed " + actual.get(i));
            }
        }
    }

    Tensor forward(List<ChainStep> steps, Tensor x, long budget) {
        backend.setMemoryBudget(budget);
        Tensor y = poisoned(x);
        backend.forwardChain(steps, x, y, null);
        return y;
    }

    void assertStreamedMany() {
        long chunks = backend.lastPipeline().lastChunkCount();
        assertTrue(chunks >= 12, "expected dozens of chunks, got " + chunks);
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void everyOpForwardAndBackwardStreamsBitForBit(Op op) {
        DType t = DType.F32;
        OpArgs args = OpArgs.of(op);
        long[] shape = switch (op.family()) {
            case ELEMENTWISE -> new long[] {N};
            case CHANNEL_WEIGHTED -> new long[] {250, 16, 100};
            case ROW_REDUCTION -> new long[] {400, 1000};
        };
        Tensor x = input(args, t, 11 + op.ordinal(), shape);
        Tensor w = op == Op.PRELU ? Tensor.wrap(Samples.preluWeights(t, 16, 5), t, 16) : null;
        List<ChainStep> steps = List.of(new ChainStep(args, w));
        Tensor inMemory = forward(steps, x, Long.MAX_VALUE);
        assertEquals(null, backend.lastPipeline(), "the in-memory run must not stream");
        Tensor streamed = forward(steps, x, BUDGET);
        assertStreamedMany();
        assertSameBits(inMemory, streamed, op + " forward");
        if (op.family() == Family.CHANNEL_WEIGHTED) {
            return; // backward: see preluBackwardStreamsWithDwSummedOverTheChunks
        }
        Tensor dy = Tensor.wrap(Samples.gradient(t, x.elementCount(), 3), t, shape);
        Tensor dxMem = poisoned(x);
        Tensor dxStream = poisoned(x);
        backend.setMemoryBudget(Long.MAX_VALUE);
        backend.backward(args, x, null, dy, dxMem, null);
        backend.setMemoryBudget(BUDGET);
        backend.backward(args, x, null, dy, dxStream, null);
        assertStreamedMany();
        assertSameBits(dxMem, dxStream, op + " backward");
    }

    @ParameterizedTest
    @EnumSource(value = SoftmaxVariant.class, names = {"GROUP", "STRIDED"})
    void softmaxOnEveryAxisOfA3dTensorStreamsWholeOuterSlices(SoftmaxVariant v) {
        rt.setSoftmaxVariant(v);
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            for (int axis = 0; axis < 3; axis++) {
                OpArgs args = OpArgs.of(op).withAxis(axis);
                long[] shape = {60, 50, 40};
                Tensor x = input(args, DType.F32, 100 + axis, shape);
                List<ChainStep> steps = List.of(ChainStep.of(args));
                Tensor inMemory = forward(steps, x, Long.MAX_VALUE);
                // Axis 0: one outer slice is the whole tensor, so it needs a budget that holds it.
                long budget = axis == 0 ? 4 * x.byteSize() : 96 << 10;
                Tensor streamed = forward(steps, x, budget);
                assertSameBits(inMemory, streamed, op + " axis " + axis + " " + v);
            }
        }
    }

    @Test
    void chainOnTheDeviceEqualsOpByOp() {
        DType t = DType.F32;
        long[] shape = {500, 800};
        Tensor w = Tensor.wrap(Samples.preluWeights(t, 800, 9), t, 800);
        List<ChainStep> steps = List.of(ChainStep.of(OpArgs.of(Op.GELU)), ChainStep.of(OpArgs.of(Op.LOG_SOFTMAX)),
                ChainStep.of(OpArgs.of(Op.LEAKY_RELU).withAlpha(0.3)), new ChainStep(OpArgs.of(Op.PRELU), w));
        Tensor x = input(OpArgs.of(Op.GELU), t, 77, shape);
        Tensor opByOp = x.copy();
        backend.setMemoryBudget(Long.MAX_VALUE);
        for (ChainStep s : steps) {
            backend.forward(s.args(), opByOp, s.weight(), opByOp);
        }
        Tensor chained = forward(steps, x, Long.MAX_VALUE);
        assertSameBits(opByOp, chained, "chain in memory");
        Tensor streamed = forward(steps, x, BUDGET);
        assertStreamedMany();
        assertSameBits(opByOp, streamed, "chain streamed");
    }

    @Test
    void inPlaceStreamingAndProgressReachTheEnd() {
        OpArgs args = OpArgs.of(Op.TANH);
        Tensor x = input(args, DType.F32, 5, N);
        Tensor expected = forward(List.of(ChainStep.of(args)), x, Long.MAX_VALUE);
        backend.setMemoryBudget(BUDGET);
        AtomicLong last = new AtomicLong();
        List<Long> seen = new ArrayList<>();
        backend.forwardChain(List.of(ChainStep.of(args)), x, x, done -> {
            assertTrue(done > last.get(), "progress must grow");
            last.set(done);
            seen.add(done);
        });
        assertEquals(x.byteSize(), last.get());
        assertTrue(seen.size() >= 12);
        assertSameBits(expected, x, "in place");
    }

    @Test
    void float64Streams() {
        if (!rt.supports(DType.F64)) {
            return;
        }
        OpArgs args = OpArgs.of(Op.SOFTPLUS);
        Tensor x = input(args, DType.F64, 8, N);
        Tensor inMemory = forward(List.of(ChainStep.of(args)), x, Long.MAX_VALUE);
        Tensor streamed = forward(List.of(ChainStep.of(args)), x, BUDGET);
        assertStreamedMany();
        assertSameBits(inMemory, streamed, "softplus f64");
    }

    @Test
    void oneQueueAndTinyChunksStillWork() {
        OpArgs args = OpArgs.of(Op.SILU);
        Tensor x = input(args, DType.F32, 6, 10_007);
        Tensor expected = forward(List.of(ChainStep.of(args)), x, Long.MAX_VALUE);
        for (int q = 1; q <= 4; q++) {
            backend.setQueues(q);
            backend.setMaxChunkBytes(4 * 333);
            Tensor y = forward(List.of(ChainStep.of(args)), x, 64 << 10);
            assertEquals(31, backend.lastPipeline().lastChunkCount());
            assertSameBits(expected, y, q + " queues");
        }
        backend.setQueues(3);
        backend.setMaxChunkBytes(32 << 20);
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"SOFTMAX", "LOG_SOFTMAX"})
    void rowsLongerThanAChunkRunInTwoPassesWithinTheContract(Op op) {
        for (boolean safe : new boolean[] {false, true}) {
            OpArgs args = OpArgs.of(op).withSafe(safe);
            long len = 100_000;
            Tensor x = input(args, DType.F32, 21, 4, len);
            x.set(len + 777, Double.NaN);                      // row 1: NaN
            for (long i = 2 * len; i < 3 * len; i++) {
                x.set(i, Double.NEGATIVE_INFINITY);            // row 2: fully masked
            }
            x.set(3 * len + 5, 80);                            // row 3: one large value dominates
            Tensor y = poisoned(x);
            backend.setMemoryBudget(64 << 10);
            backend.forwardChain(List.of(ChainStep.of(args)), x, y, null);
            long pieces = backend.lastPipeline().lastChunkCount();
            assertTrue(pieces >= 4 * 12, "expected many pieces per row, got " + pieces + " in all");
            double[] xd = new double[(int) x.elementCount()];
            for (int i = 0; i < xd.length; i++) {
                xd[i] = x.get(i);
            }
            double[] ref = new double[xd.length];
            dev.soma.fallback.CpuKernelsProvider.reference().softmaxForward(args, DType.F64, MemorySegment.ofArray(xd),
                    MemorySegment.ofArray(ref), 4, len, 1);
            for (int i = 0; i < ref.length; i++) {
                double got = y.get(i);
                double want = (float) ref[i];  // float32 results: an overflow to -inf is honest (rule 3)
                boolean ok;
                if (Double.isNaN(want) || Double.isInfinite(want)) {
                    ok = Double.compare(got, want) == 0 || (Double.isNaN(want) && Double.isNaN(got));
                } else {
                    double err = Math.abs(got - want) / (Math.abs(want) > 1e-5 ? Math.abs(want) : 1);
                    ok = err <= 1e-6;
                }
                if (!ok) {
                    fail(op + (safe ? " safe" : "") + ": element " + i + " (row " + i / len + "): expected " + want + ", got " + got);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"SOFTMAX", "LOG_SOFTMAX"})
    void backwardOnRowsLongerThanAChunkWithinTheContract(Op op) {
        for (boolean safe : new boolean[] {false, true}) {
            OpArgs args = OpArgs.of(op).withSafe(safe);
            long len = 60_000;
            Tensor x = input(args, DType.F32, 31, 4, len);
            x.set(len + 17, Double.NaN);                       // row 1: NaN
            for (long i = 2 * len; i < 3 * len; i++) {
                x.set(i, Double.NEGATIVE_INFINITY);            // row 2: fully masked
            }
            Tensor dy = Tensor.wrap(Samples.gradient(DType.F32, x.elementCount(), 4), DType.F32, x.shape());
            Tensor dx = poisoned(x);
            backend.setMemoryBudget(64 << 10);
            backend.backward(args, x, null, dy, dx, null);
            assertTrue(backend.lastPipeline().lastChunkCount() >= 4 * 8, "expected many pieces");
            double[] xd = new double[(int) x.elementCount()];
            double[] gd = new double[xd.length];
            for (int i = 0; i < xd.length; i++) {
                xd[i] = x.get(i);
                gd[i] = dy.get(i);
            }
            double[] ref = new double[xd.length];
            dev.soma.fallback.CpuKernelsProvider.reference().softmaxBackward(args, DType.F64, MemorySegment.ofArray(xd),
                    MemorySegment.ofArray(gd), MemorySegment.ofArray(ref), 4, len, 1);
            // Backward results are differences of terms of size |dy|: measured against that scale (Accuracy.errorScaled's rule).
            for (int i = 0; i < ref.length; i++) {
                double got = dx.get(i);
                double want = (float) ref[i];
                boolean ok = Double.isNaN(want) ? Double.isNaN(got)
                        : Math.abs(got - want) / Math.max(Math.abs(want), Math.max(Math.abs(gd[i]), 1e-5)) <= 1e-6;
                if (!ok) {
                    fail(op + (safe ? " safe" : "") + " backward: element " + i + " (row " + i / len + "): expected "
                            + want + ", got " + got);
                }
            }
        }
    }

    /**
     * Softmax along an inner axis whose columns are longer than a chunk: the multi-pass path on
     * gathered pieces gives exactly the bits it gives on the transposed tensor along the last axis
     * (same pieces, same kernels), forward and backward, with a NaN column and a fully masked one.
     */
    @ParameterizedTest
    @EnumSource(value = Op.class, names = {"SOFTMAX", "LOG_SOFTMAX"})
    void columnsLongerThanAChunkRunInPassesLikeTheTransposedRows(Op op) {
        long len = 40_000;
        int cols = 3;
        OpArgs args = OpArgs.of(op).withAxis(0).withSafe(true);
        OpArgs lastAxis = OpArgs.of(op).withSafe(true);
        Tensor x = input(args, DType.F32, 41, len, cols);
        x.set(777 * cols + 1, Double.NaN);                      // column 1: NaN
        for (long i = 0; i < len; i++) {
            x.set(i * cols + 2, Double.NEGATIVE_INFINITY);      // column 2: fully masked
        }
        Tensor dy = Tensor.wrap(Samples.gradient(DType.F32, x.elementCount(), 6), DType.F32, x.shape());
        Tensor xt = transposed(x, len, cols);
        Tensor dyt = transposed(dy, len, cols);
        backend.setMemoryBudget(64 << 10);

        Tensor y = poisoned(x);
        backend.forwardChain(List.of(ChainStep.of(args)), x, y, null);
        assertTrue(backend.lastPipeline().lastChunkCount() >= cols * 6, "expected several pieces per column");
        Tensor yt = poisoned(xt);
        backend.forwardChain(List.of(ChainStep.of(lastAxis)), xt, yt, null);
        assertSameBits(yt, transposed(y, len, cols), op + " forward, columns vs transposed rows");

        Tensor dx = poisoned(x);
        backend.backward(args, x, null, dy, dx, null);
        Tensor dxt = poisoned(xt);
        backend.backward(lastAxis, xt, null, dyt, dxt, null);
        assertSameBits(dxt, transposed(dx, len, cols), op + " backward, columns vs transposed rows");
    }

    /** The {@code (cols, rows)} transpose of a {@code (rows, cols)} tensor. */
    static Tensor transposed(Tensor a, long rows, long cols) {
        Tensor t = Tensor.allocate(a.dtype(), cols, rows);
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                t.segment().setAtIndex(ValueLayout.JAVA_INT, j * rows + i, a.segment().getAtIndex(ValueLayout.JAVA_INT, i * cols + j));
            }
        }
        return t;
    }

    /**
     * Softmax along an inner axis whose one outer slice exceeds the budget: chunks of whole
     * columns (gathered on the host), forward and backward, equal the in-memory kernels bit for
     * bit when both run the same variant; axis 0 (one outer slice is the whole tensor) included.
     */
    @ParameterizedTest
    @EnumSource(value = SoftmaxVariant.class, names = {"GROUP", "STRIDED"})
    void innerAxisSoftmaxWithAnOuterSliceLargerThanTheBudgetStreamsColumns(SoftmaxVariant v) {
        rt.setSoftmaxVariant(v);
        long budget = 64 << 10;
        for (Op op : new Op[] {Op.SOFTMAX, Op.LOG_SOFTMAX}) {
            for (int axis = 0; axis < 2; axis++) {
                OpArgs args = OpArgs.of(op).withAxis(axis).withSafe(axis == 1);
                long[] shape = {3, 301, 97};
                Tensor x = input(args, DType.F32, 200 + axis, shape);
                for (long i = 0; i < 301; i++) {
                    x.set(i * 97 + 5, Double.NEGATIVE_INFINITY);   // a fully masked column (axis 1), part of columns (axis 0)
                }
                String what = op + " axis " + axis + " " + v;
                List<ChainStep> steps = List.of(ChainStep.of(args));
                Tensor inMemory = forward(steps, x, Long.MAX_VALUE);
                Tensor streamed = forward(steps, x, budget);
                assertStreamedMany();
                assertSameBits(inMemory, streamed, what + " forward");

                Tensor dy = Tensor.wrap(Samples.gradient(DType.F32, x.elementCount(), 9), DType.F32, shape);
                Tensor dxMem = poisoned(x);
                Tensor dxStream = poisoned(x);
                backend.setMemoryBudget(Long.MAX_VALUE);
                backend.backward(args, x, null, dy, dxMem, null);
                backend.setMemoryBudget(budget);
                backend.backward(args, x, null, dy, dxStream, null);
                assertStreamedMany();
                assertSameBits(dxMem, dxStream, what + " backward");
            }
        }
    }

    /**
     * PReLU backward larger than the budget: dx equals the in-memory kernels bit for bit; dw, a
     * sum over every chunk, is within the accuracy rule of the float64 reference measured against
     * its terms' scale (sum of |x dy| of the channel), like the in-memory dw, is NaN exactly where
     * the in-memory dw is, and is the same bits when run again.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class)
    void preluBackwardStreamsWithDwSummedOverTheChunks(DType t) {
        if (!rt.supports(t)) {
            return;
        }
        for (long channels : new long[] {16, 1}) {
            for (boolean special : new boolean[] {true, false}) {
                long[] shape = {250, 16, 100};
                Tensor x = special ? input(OpArgs.of(Op.PRELU), t, 2, shape)
                        : Tensor.wrap(Samples.gradient(t, 250 * 16 * 100, 12), t, shape);
                Tensor w = Tensor.wrap(Samples.preluWeights(t, channels, 5), t, channels);
                Tensor dy = Tensor.wrap(Samples.gradient(t, x.elementCount(), 3), t, shape);
                String what = "prelu " + t + " C=" + channels + (special ? " special" : " finite");
                Tensor dxMem = poisoned(x);
                Tensor dwMem = Tensor.wrap(Samples.allocate(t, channels), t, channels);
                backend.setMemoryBudget(Long.MAX_VALUE);
                backend.backward(OpArgs.of(Op.PRELU), x, w, dy, dxMem, dwMem);
                assertEquals(null, backend.lastPipeline(), "the in-memory run must not stream");
                Tensor dxStream = poisoned(x);
                Tensor dwStream = Tensor.wrap(Samples.allocate(t, channels), t, channels);
                backend.setMemoryBudget(BUDGET);
                backend.backward(OpArgs.of(Op.PRELU), x, w, dy, dxStream, dwStream);
                assertStreamedMany();
                assertSameBits(dxMem, dxStream, what + " dx");

                double[] ref = new double[(int) channels];
                double[] scale = new double[(int) channels];
                for (long i = 0; i < x.elementCount(); i++) {
                    int c = channels == 1 ? 0 : (int) ((i / 100) % channels);
                    double term = ElementMath.preluDwTerm(x.get(i), dy.get(i));
                    ref[c] += term;
                    scale[c] += Math.abs(term);
                }
                double tol = Accuracy.tolerance(t);
                for (int c = 0; c < channels; c++) {
                    double mem = dwMem.get(c);
                    double got = dwStream.get(c);
                    if (Double.isNaN(ref[c]) || Double.isNaN(mem) || Double.isNaN(got)) {
                        assertTrue(Double.isNaN(ref[c]) && Double.isNaN(mem) && Double.isNaN(got), what + " dw[" + c
                                + "]: reference " + ref[c] + ", in memory " + mem + ", streamed " + got);
                        continue;
                    }
                    double errStream = Accuracy.errorScaled(ref[c], got, scale[c]);
                    double errMem = Accuracy.errorScaled(ref[c], mem, scale[c]);
                    assertTrue(errStream <= tol, what + " dw[" + c + "] streamed " + got + ", reference " + ref[c]
                            + ": error " + errStream);
                    assertTrue(errMem <= tol, what + " dw[" + c + "] in memory " + mem + ": error " + errMem);
                }
                Tensor dwAgain = Tensor.wrap(Samples.allocate(t, channels), t, channels);
                backend.backward(OpArgs.of(Op.PRELU), x, w, dy, poisoned(x), dwAgain);
                for (int c = 0; c < channels; c++) {
                    // The same value again; a NaN's payload is not part of the contract (the JIT may reorder a NaN sum).
                    assertEquals(Double.valueOf(dwStream.get(c)), Double.valueOf(dwAgain.get(c)), what + " dw[" + c + "] rerun");
                }
            }
        }
    }

    /**
     * PReLU whose one outer slice (C x inner) exceeds the budget: chunks of whole channels of one
     * slice. Forward and dx equal the in-memory kernels bit for bit, dw is within the accuracy rule
     * of the float64 reference (term scale), a chain through it equals its ops one by one; a channel
     * longer than the budget says what to do.
     */
    @Test
    void preluWithAnOuterSliceLargerThanTheBudgetStreamsChannelBlocks() {
        DType t = DType.F32;
        long[] shape = {3, 64, 400};
        long channels = 64;
        Tensor x = input(OpArgs.of(Op.PRELU), t, 13, shape);
        for (long i = 0; i < x.elementCount(); i++) {
            if (Double.isNaN(x.get(i)) || Double.isInfinite(x.get(i))) {
                x.set(i, -0.5);  // finite, so dw is a number to check (large magnitudes stay)
            }
        }
        Tensor w = Tensor.wrap(Samples.preluWeights(t, channels, 8), t, channels);
        Tensor dy = Tensor.wrap(Samples.gradient(t, x.elementCount(), 14), t, shape);
        long budget = 64 << 10;
        List<ChainStep> steps = List.of(new ChainStep(OpArgs.of(Op.PRELU), w));
        Tensor inMemory = forward(steps, x, Long.MAX_VALUE);
        Tensor streamed = forward(steps, x, budget);
        assertStreamedMany();
        assertSameBits(inMemory, streamed, "prelu forward in channel blocks");

        Tensor dxMem = poisoned(x);
        Tensor dwMem = Tensor.allocate(t, channels);
        backend.setMemoryBudget(Long.MAX_VALUE);
        backend.backward(OpArgs.of(Op.PRELU), x, w, dy, dxMem, dwMem);
        Tensor dx = poisoned(x);
        Tensor dw = Tensor.wrap(Samples.allocate(t, channels), t, channels);
        backend.setMemoryBudget(budget);
        backend.backward(OpArgs.of(Op.PRELU), x, w, dy, dx, dw);
        assertStreamedMany();
        assertSameBits(dxMem, dx, "prelu dx in channel blocks");
        for (int c = 0; c < channels; c++) {
            double ref = 0;
            double scale = 0;
            for (long o = 0; o < 3; o++) {
                for (long i = 0; i < 400; i++) {
                    long e = (o * channels + c) * 400 + i;
                    double term = ElementMath.preluDwTerm(x.get(e), dy.get(e));
                    ref += term;
                    scale += Math.abs(term);
                }
            }
            if (Double.isNaN(ref)) {
                assertTrue(Double.isNaN(dw.get(c)) && Double.isNaN(dwMem.get(c)), "dw[" + c + "] NaN");
                continue;
            }
            double want = (float) ref;  // a float32 sum past the float range is an honest infinity (rule 3)
            double err = Accuracy.errorScaled(want, dw.get(c), scale);
            assertTrue(err <= Accuracy.tolerance(t), "dw[" + c + "] streamed " + dw.get(c) + ", reference " + ref
                    + ", in memory " + dwMem.get(c) + ": error " + err);
        }

        List<ChainStep> chain = List.of(ChainStep.of(OpArgs.of(Op.GELU)), new ChainStep(OpArgs.of(Op.PRELU), w),
                ChainStep.of(OpArgs.of(Op.TANH)));
        Tensor opByOp = x.copy();
        for (ChainStep s : chain) {
            backend.forward(s.args(), opByOp, s.weight(), opByOp);
        }
        assertSameBits(opByOp, forward(chain, x, budget), "chain through prelu in channel blocks");

        // Many channels of one element each (inner 1): the dw side buffers are capped, blocks stay small.
        long wide = 3000;
        Tensor xw = Tensor.wrap(Samples.gradient(t, 40 * wide, 16), t, 40, wide);
        Tensor ww = Tensor.wrap(Samples.preluWeights(t, wide, 17), t, wide);
        Tensor dyw = Tensor.wrap(Samples.gradient(t, 40 * wide, 18), t, 40, wide);
        Tensor dxwMem = poisoned(xw);
        Tensor dwwMem = Tensor.allocate(t, wide);
        backend.setMemoryBudget(Long.MAX_VALUE);
        backend.backward(OpArgs.of(Op.PRELU), xw, ww, dyw, dxwMem, dwwMem);
        Tensor dxw = poisoned(xw);
        Tensor dww = Tensor.wrap(Samples.allocate(t, wide), t, wide);
        backend.setMemoryBudget(budget);
        backend.backward(OpArgs.of(Op.PRELU), xw, ww, dyw, dxw, dww);
        assertStreamedMany();
        assertSameBits(dxwMem, dxw, "prelu dx, 3000 channels of one element");
        for (int c = 0; c < wide; c++) {
            double ref = 0;
            double scale = 0;
            for (long o = 0; o < 40; o++) {
                double term = ElementMath.preluDwTerm(xw.get(o * wide + c), dyw.get(o * wide + c));
                ref += term;
                scale += Math.abs(term);
            }
            double err = Accuracy.errorScaled(ref, dww.get(c), scale);
            assertTrue(err <= Accuracy.tolerance(t), "wide dw[" + c + "] streamed " + dww.get(c) + ", reference " + ref
                    + ": error " + err);
        }
        assertSameBits(forward(List.of(new ChainStep(OpArgs.of(Op.PRELU), ww)),
                xw, Long.MAX_VALUE), forward(List.of(new ChainStep(OpArgs.of(Op.PRELU), ww)), xw, budget),
                "prelu forward, 3000 channels of one element");

        Tensor tall = input(OpArgs.of(Op.PRELU), t, 15, 2, 2, 100_000);
        Tensor w2 = Tensor.wrap(Samples.preluWeights(t, 2, 8), t, 2);
        backend.setMemoryBudget(budget);
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                () -> backend.forward(OpArgs.of(Op.PRELU), tall, w2, poisoned(tall)));
        assertTrue(e.getMessage().contains("--device-memory"), e.getMessage());
    }

    /**
     * A chain with a softmax too large for the ring (a last-axis row longer than a chunk; an
     * inner-axis outer slice larger than the budget) runs in segments and equals running its ops
     * one by one at the same budget, bit for bit, also in place; progress grows to the end.
     */
    @Test
    void chainWithASoftmaxTooLargeForTheRingRunsInSegments() {
        DType t = DType.F32;
        Tensor w1 = Tensor.wrap(Samples.preluWeights(t, 1, 9), t, 1);
        long budget = 64 << 10;
        record Case(long[] shape, OpArgs softmax) { }
        for (Case k : List.of(new Case(new long[] {3, 50_000}, OpArgs.of(Op.SOFTMAX)),
                new Case(new long[] {4, 301, 97}, OpArgs.of(Op.LOG_SOFTMAX).withAxis(1)))) {
            List<ChainStep> steps = List.of(ChainStep.of(OpArgs.of(Op.GELU)), new ChainStep(OpArgs.of(Op.PRELU), w1),
                    ChainStep.of(k.softmax()), ChainStep.of(OpArgs.of(Op.LEAKY_RELU).withAlpha(0.3)),
                    ChainStep.of(OpArgs.of(Op.TANH)));
            Tensor x = input(OpArgs.of(Op.GELU), t, 78, k.shape());
            Tensor opByOp = x.copy();
            backend.setMemoryBudget(budget);
            for (ChainStep s : steps) {
                backend.forward(s.args(), opByOp, s.weight(), opByOp);
            }
            Tensor y = poisoned(x);
            AtomicLong last = new AtomicLong();
            backend.forwardChain(steps, x, y, done -> {
                assertTrue(done >= last.get(), "progress must not go back");
                last.set(done);
            });
            assertEquals(y.byteSize(), last.get(), "progress reaches the end");
            assertSameBits(opByOp, y, "chain in segments " + k.softmax());
            Tensor inPlace = x.copy();
            backend.forwardChain(steps, inPlace, inPlace, null);
            assertSameBits(opByOp, inPlace, "chain in segments, in place " + k.softmax());
        }
    }

    @Test
    void anInterruptCancelsBetweenChunksAndFreesEverything() {
        OpArgs args = OpArgs.of(Op.GELU);
        Tensor x = input(args, DType.F32, 4, N);
        backend.setMemoryBudget(BUDGET);
        AtomicLong calls = new AtomicLong();
        assertThrows(CancellationException.class, () -> backend.forwardChain(List.of(ChainStep.of(args)), x,
                poisoned(x), done -> {
                    if (calls.incrementAndGet() == 3) {
                        Thread.currentThread().interrupt();
                    }
                }));
        assertEquals(false, Thread.interrupted(), "the interrupt is consumed by the cancellation");
        // nothingLeaked() checks the allocator after the test.
    }
}
