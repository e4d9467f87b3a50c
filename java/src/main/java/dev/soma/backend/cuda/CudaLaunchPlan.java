package dev.soma.backend.cuda;

import dev.soma.backend.OpLayout;
import dev.soma.op.DType;

/**
 * Launch configurations, computed from the device's limits and the tensor's layout only (no driver
 * calls, so tests check them without a GPU). Grid-stride kernels get enough blocks to fill every SM
 * a few times over and loop for the rest.
 */
final class CudaLaunchPlan {
    /** Threads per block of the elementwise and PReLU kernels. */
    static final int ELEMENTWISE_THREADS = 256;
    /** Warps per block of the warp softmax kernel (one row per warp). */
    static final int WARP_ROWS_PER_BLOCK = 4;
    /** Resident-grid multiple for grid-stride kernels: enough blocks to hide tail effects. */
    static final int WAVES = 4;
    /** Shared memory the block softmax kernel declares statically (reduction scratch), plus slack. */
    static final int STATIC_SHARED_RESERVE = 1024;
    /** PReLU's dw: elements of one channel each block sums before the per-channel pass. */
    static final long PRELU_CHUNK_ELEMENTS = 16_384;
    static final long PRELU_MAX_CHUNKS = 1024;

    /** One kernel launch's shape. */
    record Launch(int blocks, int threads, int sharedBytes) {
    }

    private final CudaDeviceLimits limits;

    CudaLaunchPlan(CudaDeviceLimits limits) {
        this.limits = limits;
    }

    CudaDeviceLimits limits() {
        return limits;
    }

    /** A grid-stride launch over {@code work} items, {@code threads} per block. */
    Launch gridStride(long work, int threads) {
        long resident = (long) limits.multiprocessors() * Math.max(1, limits.maxThreadsPerMultiprocessor() / threads);
        long blocks = Math.min(ceilDiv(Math.max(work, 1), threads), resident * WAVES);
        return new Launch((int) Math.max(1, blocks), threads, 0);
    }

    /** Elementwise ops: {@code n} elements, 16-byte vectors of {@code lanes} elements where aligned. */
    Launch elementwise(long n, DType t) {
        int lanes = 16 / t.byteSize();
        return gridStride(ceilDiv(n, lanes), ELEMENTWISE_THREADS);
    }

    /** How many pieces each PReLU channel's dw sum is split into: a function of the shape only. */
    static long preluChunks(long perChannel) {
        return Math.max(1, Math.min(PRELU_MAX_CHUNKS, ceilDiv(perChannel, PRELU_CHUNK_ELEMENTS)));
    }

    /** The longest contiguous row the block kernel can cache in shared memory. */
    long sharedRowLimit(DType t) {
        return (limits.sharedMemoryPerBlock() - STATIC_SHARED_RESERVE) / t.byteSize();
    }

    /**
     * The softmax kernel for this layout: strided when the axis is not the last (inner > 1), else
     * warp, block or online by row length. A forced variant is used when it can take the layout.
     */
    SoftmaxVariant softmaxVariant(DType t, OpLayout l, SoftmaxVariant forced) {
        if (forced != null && accepts(forced, t, l)) {
            return forced;
        }
        if (l.inner() > 1) {
            return SoftmaxVariant.STRIDED;
        }
        if (l.mid() <= SoftmaxVariant.warpMaxLength(t)) {
            return SoftmaxVariant.WARP;
        }
        if (l.mid() <= sharedRowLimit(t)) {
            return SoftmaxVariant.BLOCK;
        }
        return SoftmaxVariant.ONLINE;
    }

    /** True when kernel {@code v} computes this layout correctly. */
    boolean accepts(SoftmaxVariant v, DType t, OpLayout l) {
        return switch (v) {
            case STRIDED -> true;
            case ONLINE -> l.inner() == 1;
            case BLOCK -> l.inner() == 1 && l.mid() <= sharedRowLimit(t);
            case WARP -> l.inner() == 1 && l.mid() <= SoftmaxVariant.warpMaxLength(t);
        };
    }

    /** Elements per lane of the warp kernel: the smallest compiled count whose 32 lanes cover the row. */
    static int warpPerLane(long len) {
        for (int k : CudaKernelNames.WARP_LANE_COUNTS) {
            if (32L * k >= len) {
                return k;
            }
        }
        throw new IllegalArgumentException("row of " + len + " elements is too long for the warp kernel");
    }

    Launch softmax(SoftmaxVariant v, DType t, OpLayout l) {
        long rows = l.outer();
        return switch (v) {
            case WARP -> {
                int threads = 32 * WARP_ROWS_PER_BLOCK;
                yield clampBlocks(ceilDiv(rows, WARP_ROWS_PER_BLOCK), threads, 0);
            }
            case BLOCK -> {
                int threads = blockThreads(l.mid());
                yield clampBlocks(rows, threads, (int) (l.mid() * t.byteSize()));
            }
            case ONLINE -> clampBlocks(rows, Math.min(1024, limits.maxThreadsPerBlock()), 0);
            case STRIDED -> gridStride(l.outer() * l.inner(), ELEMENTWISE_THREADS);
        };
    }

    /** Threads for one block per row: about 8 elements each, 128 to 1024 (or the device's limit). */
    int blockThreads(long len) {
        long want = Long.highestOneBit(Math.max(1, ceilDiv(len, 8)) * 2 - 1);
        return (int) Math.max(128, Math.min(Math.min(1024, limits.maxThreadsPerBlock()), want));
    }

    private Launch clampBlocks(long wanted, int threads, int sharedBytes) {
        long resident = (long) limits.multiprocessors() * Math.max(1, limits.maxThreadsPerMultiprocessor() / threads);
        long blocks = Math.max(1, Math.min(wanted, resident * WAVES));
        return new Launch((int) blocks, threads, sharedBytes);
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
