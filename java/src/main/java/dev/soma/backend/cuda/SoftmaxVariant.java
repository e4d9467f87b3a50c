package dev.soma.backend.cuda;

import dev.soma.op.DType;
import java.util.Locale;

/**
 * The softmax kernels, each for a range of row shapes (see cuda/kernels/softmax_*.cuh).
 * {@link CudaLaunchPlan#softmaxVariant} picks one; tests force each through
 * {@link CudaRuntime#forceSoftmaxVariant} or the system property {@code soma.cuda.softmax}.
 */
public enum SoftmaxVariant {
    /** Contiguous rows up to 1024 floats (512 doubles): one warp per row, the row in registers. */
    WARP,
    /** Contiguous rows that fit in shared memory: one block per row, the row cached there. */
    BLOCK,
    /** Contiguous rows of any length: one block per row, an online max-and-sum, two reads. */
    ONLINE,
    /** Rows along an inner axis (inner > 1), or any rows: one thread per row. */
    STRIDED;

    /** The longest row the warp kernel takes: 32 lanes times 32 floats or 16 doubles. */
    public static int warpMaxLength(DType t) {
        return t == DType.F32 ? 1024 : 512;
    }

    /** Parses "warp", "block", "online", "strided"; "auto" or blank gives null (automatic choice). */
    public static SoftmaxVariant parseOrAuto(String s) {
        if (s == null || s.isBlank() || s.trim().equalsIgnoreCase("auto")) {
            return null;
        }
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown softmax variant '" + s
                    + "'; use one of auto, warp, block, online, strided", e);
        }
    }
}
