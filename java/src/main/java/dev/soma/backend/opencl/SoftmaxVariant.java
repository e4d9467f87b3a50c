package dev.soma.backend.opencl;

import java.util.Locale;

/**
 * The three softmax kernel shapes (see softmax_impl.clh). {@link #AUTO} picks by layout; the
 * others force one, for tests and benchmarks (system property {@code soma.opencl.softmax}).
 */
enum SoftmaxVariant {
    /** Choose from the row length, the row count and the device. */
    AUTO,
    /** One work-item per row: inner axes (coalesced) and short rows. */
    STRIDED,
    /** One work-group per row with local-memory tree reductions. */
    GROUP,
    /** Several work-groups per row; per-chunk (max, sum) pairs combined afterwards. */
    SPLIT;

    static SoftmaxVariant parse(String s) {
        if (s == null || s.isBlank()) {
            return AUTO;
        }
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("soma.opencl.softmax must be auto, strided, group or split; got '" + s + "'");
        }
    }
}
