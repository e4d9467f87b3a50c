package dev.soma.benchmark;

import dev.soma.backend.BackendKind;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code soma bench} runs: backends x ops x dtypes x directions x sizes.
 *
 * @param backends   the backends, in report order
 * @param device     device index or name for GPU backends; null for each backend's default
 * @param ops        the ops (elementwise ops use {@code sizes}, softmax-like ops use {@code rowLengths})
 * @param sizes      element counts for elementwise ops
 * @param rowLengths row lengths for softmax and log_softmax
 * @param rowElements total elements a softmax case aims for: rows = max(1, rowElements / rowLength)
 * @param dtypes     element types
 * @param directions forward, backward or both
 * @param timing     warm-up, repeats and sample length
 * @param seed       seed of the random inputs (the same for every backend)
 */
public record BenchConfig(List<BackendKind> backends, String device, List<Op> ops, List<Long> sizes,
                          List<Long> rowLengths, long rowElements, List<DType> dtypes,
                          List<Direction> directions, TimingPlan timing, long seed) {

    /** Elementwise sizes by default: 2^12 to 2^24 in steps of 4x. */
    public static final List<Long> DEFAULT_SIZES = List.of(1L << 12, 1L << 14, 1L << 16, 1L << 18, 1L << 20,
            1L << 22, 1L << 24);
    /** Softmax row lengths by default: from short attention rows to vocabulary-sized ones. */
    public static final List<Long> DEFAULT_ROWS = List.of(128L, 1024L, 8192L, 32768L);
    public static final long DEFAULT_ROW_ELEMENTS = 1L << 22;

    public BenchConfig {
        backends = List.copyOf(backends);
        ops = List.copyOf(ops);
        sizes = List.copyOf(sizes);
        rowLengths = List.copyOf(rowLengths);
        dtypes = List.copyOf(dtypes);
        directions = List.copyOf(directions);
        requireNonEmpty("--backend", backends);
        requireNonEmpty("--ops", ops);
        requireNonEmpty("--dtype", dtypes);
        requireNonEmpty("--direction", directions);
        for (Op op : ops) {
            if (op.family() == Family.CHANNEL_WEIGHTED) {
                throw new IllegalArgumentException("soma bench does not time prelu (it needs a weight tensor); "
                        + "leave it out of --ops");
            }
        }
        for (long s : sizes) {
            if (s < 1) {
                throw new IllegalArgumentException("--sizes must be positive element counts, got " + s);
            }
        }
        for (long r : rowLengths) {
            if (r < 1) {
                throw new IllegalArgumentException("--rows must be positive row lengths, got " + r);
            }
        }
        if (rowElements < 1) {
            throw new IllegalArgumentException("row elements must be positive, got " + rowElements);
        }
    }

    /** Every op the benchmark can time: all but prelu. */
    public static List<Op> benchmarkableOps() {
        List<Op> ops = new ArrayList<>();
        for (Op op : Op.values()) {
            if (op.family() != Family.CHANNEL_WEIGHTED) {
                ops.add(op);
            }
        }
        return ops;
    }

    /** The cases in run order: dtype, direction, op, then ascending size. */
    public List<BenchCase> cases() {
        List<BenchCase> out = new ArrayList<>();
        for (DType t : dtypes) {
            for (Direction d : directions) {
                for (Op op : ops) {
                    if (op.family() == Family.ROW_REDUCTION) {
                        for (long len : rowLengths.stream().sorted().toList()) {
                            long rows = Math.max(1, rowElements / len);
                            out.add(new BenchCase(op, d, t, new long[] {rows, len}));
                        }
                    } else {
                        for (long n : sizes.stream().sorted().toList()) {
                            out.add(new BenchCase(op, d, t, new long[] {n}));
                        }
                    }
                }
            }
        }
        return out;
    }

    private static void requireNonEmpty(String option, List<?> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException(option + " needs at least one value");
        }
    }
}
