package dev.soma.fallback.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.sun.management.ThreadMXBean;
import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.management.ObjectName;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kernels whose C2 compilation once left a vector helper out of line, so that every vector was
 * allocated (3 to 25 times slower, and in some cases only in some JVMs: see JitDirectives). Speed
 * is not asserted here (see BENCHMARKS.md); the symptom is: once compiled, a kernel call allocates
 * almost nothing per element. Each case runs on the calling thread (16384 elements, under the
 * parallel thresholds) until its allocation per element falls under the bound, or fails after 20 s.
 */
class NoBoxingTest {
    private static final CpuKernels VECTOR = new VectorKernels();
    private static final long N = 16384;
    /** Scratch rows and accumulators per call come to under 1 byte per element; a boxed vector per 8 or 16 elements to 6 or more. */
    private static final double MAX_BYTES_PER_ELEMENT = 2.0;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Op.SOFTMAX.defaults(), DType.F32, true, false),
                Arguments.of(Op.LOG_SOFTMAX.defaults(), DType.F32, true, false),
                Arguments.of(Op.SOFTMAX.defaults(), DType.F64, true, false),
                Arguments.of(Op.LOG_SOFTMAX.defaults(), DType.F64, true, false),
                Arguments.of(Op.SOFTMAX.defaults(), DType.F32, false, false),
                Arguments.of(Op.LOG_SOFTMAX.defaults(), DType.F32, false, false),
                Arguments.of(Op.SOFTPLUS.defaults().withBeta(2.5), DType.F32, false, false),
                Arguments.of(Op.SOFTPLUS.defaults(), DType.F32, false, false),
                // Over Java arrays (the default for Tensor.of(float[]) and new outputs).
                Arguments.of(Op.SOFTMAX.defaults(), DType.F32, true, true),
                Arguments.of(Op.LOG_SOFTMAX.defaults(), DType.F32, false, true),
                Arguments.of(Op.SOFTPLUS.defaults(), DType.F32, false, true));
    }

    @Test
    void directivesAreAddedOnHotSpot() throws Exception {
        Assumptions.assumeTrue(ManagementFactory.getPlatformMBeanServer()
                .isRegistered(new ObjectName("com.sun.management:type=DiagnosticCommand")), "no DiagnosticCommand MBean in this JVM");
        assertEquals("added", JitDirectives.outcome(), "JitDirectives on " + System.getProperty("java.vm.name"));
        assertTrue(JitDirectives.json().contains("\"-dev/soma/fallback/vector/Elementwise*.*\""), JitDirectives.json());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void compiledKernelAllocatesNoVectors(OpArgs args, DType t, boolean backward, boolean heap) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = heap ? TestData.alloc(t, N, true) : arena.allocate(N * t.byteSize(), 64);
            MemorySegment dy = heap ? TestData.alloc(t, N, true) : arena.allocate(N * t.byteSize(), 64);
            MemorySegment y = heap ? TestData.alloc(t, N, true) : arena.allocate(N * t.byteSize(), 64);
            SplittableRandom rnd = new SplittableRandom(7);
            for (long i = 0; i < N; i++) {
                TestData.set(t, x, i, rnd.nextGaussian() * 3);
                TestData.set(t, dy, i, rnd.nextDouble() - 0.5);
            }
            Runnable call = callOf(args, t, backward, x, dy, y);
            ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            long deadline = System.nanoTime() + 20_000_000_000L;
            double perElement = Double.NaN;
            while (System.nanoTime() < deadline) {
                for (int i = 0; i < 200; i++) {
                    call.run();
                }
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20; i++) {
                    call.run();
                }
                perElement = (threads.getCurrentThreadAllocatedBytes() - before) / (20.0 * N);
                if (perElement < MAX_BYTES_PER_ELEMENT) {
                    return;
                }
            }
            fail(args + " " + t + (backward ? " backward" : " forward") + (heap ? " on arrays" : "") + " still allocates " + perElement
                    + " bytes per element after 20 s: a vector helper is compiled out of line (boxing)");
        }
    }

    private static Runnable callOf(OpArgs args, DType t, boolean backward, MemorySegment x, MemorySegment dy,
                                   MemorySegment y) {
        if (args.op() == Op.SOFTMAX || args.op() == Op.LOG_SOFTMAX) {
            long rows = N / 1024;
            return backward ? () -> VECTOR.softmaxBackward(args, t, x, dy, y, rows, 1024, 1)
                    : () -> VECTOR.softmaxForward(args, t, x, y, rows, 1024, 1);
        }
        return backward ? () -> VECTOR.backward(args, t, x, dy, y, N) : () -> VECTOR.forward(args, t, x, y, N);
    }
}
