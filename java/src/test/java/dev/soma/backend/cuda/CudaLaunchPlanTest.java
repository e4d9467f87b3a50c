package dev.soma.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.OpLayout;
import dev.soma.op.DType;
import org.junit.jupiter.api.Test;

/** Launch shapes and softmax kernel choice, from device limits alone (an H200's and a small GPU's). */
class CudaLaunchPlanTest {
    private final CudaLaunchPlan h200 = new CudaLaunchPlan(new CudaDeviceLimits(132, 2048, 1024, 48 * 1024));
    private final CudaLaunchPlan small = new CudaLaunchPlan(new CudaDeviceLimits(2, 1024, 512, 16 * 1024));

    private static OpLayout rows(long count, long len) {
        return new OpLayout(count, len, 1);
    }

    @Test
    void softmaxPicksByRowShape() {
        assertEquals(SoftmaxVariant.WARP, h200.softmaxVariant(DType.F32, rows(10, 1), null));
        assertEquals(SoftmaxVariant.WARP, h200.softmaxVariant(DType.F32, rows(10, 1024), null));
        assertEquals(SoftmaxVariant.BLOCK, h200.softmaxVariant(DType.F32, rows(10, 1025), null));
        assertEquals(SoftmaxVariant.WARP, h200.softmaxVariant(DType.F64, rows(10, 512), null));
        assertEquals(SoftmaxVariant.BLOCK, h200.softmaxVariant(DType.F64, rows(10, 513), null));
        long fits = (48 * 1024 - CudaLaunchPlan.STATIC_SHARED_RESERVE) / 4;
        assertEquals(SoftmaxVariant.BLOCK, h200.softmaxVariant(DType.F32, rows(3, fits), null));
        assertEquals(SoftmaxVariant.ONLINE, h200.softmaxVariant(DType.F32, rows(3, fits + 1), null));
        assertEquals(SoftmaxVariant.ONLINE, h200.softmaxVariant(DType.F32, rows(1, 100_000), null));
        assertEquals(SoftmaxVariant.STRIDED, h200.softmaxVariant(DType.F32, new OpLayout(2, 5, 3), null));
        assertEquals(SoftmaxVariant.ONLINE, small.softmaxVariant(DType.F64, rows(1, 4000), null));
    }

    @Test
    void forcedVariantsApplyOnlyWhereCorrect() {
        assertEquals(SoftmaxVariant.ONLINE, h200.softmaxVariant(DType.F32, rows(4, 7), SoftmaxVariant.ONLINE));
        assertEquals(SoftmaxVariant.STRIDED, h200.softmaxVariant(DType.F32, rows(4, 7), SoftmaxVariant.STRIDED));
        assertEquals(SoftmaxVariant.BLOCK, h200.softmaxVariant(DType.F32, rows(4, 7), SoftmaxVariant.BLOCK));
        // Not possible: the automatic choice stands.
        assertEquals(SoftmaxVariant.ONLINE, h200.softmaxVariant(DType.F32, rows(1, 100_000), SoftmaxVariant.WARP));
        assertEquals(SoftmaxVariant.STRIDED, h200.softmaxVariant(DType.F32, new OpLayout(2, 5, 3), SoftmaxVariant.WARP));
        assertEquals(null, SoftmaxVariant.parseOrAuto("auto"));
        assertEquals(SoftmaxVariant.BLOCK, SoftmaxVariant.parseOrAuto(" Block "));
        assertThrows(IllegalArgumentException.class, () -> SoftmaxVariant.parseOrAuto("fast"));
    }

    @Test
    void launchesStayWithinDeviceLimits() {
        for (CudaLaunchPlan p : new CudaLaunchPlan[] {h200, small}) {
            for (long len : new long[] {1, 31, 33, 1024, 1025, 4097, 12_000, 100_000}) {
                for (DType t : DType.values()) {
                    OpLayout l = rows(1000, len);
                    SoftmaxVariant v = p.softmaxVariant(t, l, null);
                    CudaLaunchPlan.Launch launch = p.softmax(v, t, l);
                    assertTrue(launch.threads() <= p.limits().maxThreadsPerBlock(), v + " " + launch);
                    assertTrue(launch.threads() % 32 == 0, v + " " + launch);
                    assertTrue(launch.blocks() >= 1, v + " " + launch);
                    assertTrue(launch.sharedBytes() + CudaLaunchPlan.STATIC_SHARED_RESERVE <= p.limits().sharedMemoryPerBlock(),
                            v + " " + launch);
                }
            }
        }
        CudaLaunchPlan.Launch huge = h200.elementwise(1L << 40, DType.F32);
        assertEquals(132 * 8 * CudaLaunchPlan.WAVES, huge.blocks(), "grid-stride grids are capped at a few waves");
        assertEquals(1, h200.elementwise(3, DType.F32).blocks());
        assertEquals(256, h200.blockThreads(2048));
        assertEquals(1024, h200.blockThreads(100_000));
        assertEquals(256, h200.blockThreads(1025));
        assertEquals(128, h200.blockThreads(600));
    }

    @Test
    void preluChunksDependOnTheShapeOnly() {
        assertEquals(1, CudaLaunchPlan.preluChunks(1));
        assertEquals(1, CudaLaunchPlan.preluChunks(CudaLaunchPlan.PRELU_CHUNK_ELEMENTS));
        assertEquals(2, CudaLaunchPlan.preluChunks(CudaLaunchPlan.PRELU_CHUNK_ELEMENTS + 1));
        assertEquals(CudaLaunchPlan.PRELU_MAX_CHUNKS, CudaLaunchPlan.preluChunks(1L << 40));
    }
}
