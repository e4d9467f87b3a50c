package dev.soma.backend;

import dev.soma.op.Family;
import java.util.List;

/**
 * How a tensor may be cut into chunks for a chain of ops: every chunk holds whole "units", the
 * smallest pieces each op can compute alone. Elementwise ops: one element. PReLU with C weights:
 * one outer slice (C x inner elements, so every chunk starts at channel 0). Softmax: one outer
 * slice of its axis (whole rows, also for inner axes). Each unit is the product of a suffix of the
 * shape, so the largest unit of a chain is a multiple of all the others.
 */
public final class Chunking {
    private Chunking() {
    }

    /** Elements per indivisible unit of {@code shape} for every step of the chain. */
    public static long unitElements(List<ChainStep> steps, long[] shape) {
        long unit = 1;
        for (ChainStep s : steps) {
            unit = Math.max(unit, unitElements(s, shape));
        }
        return unit;
    }

    static long unitElements(ChainStep s, long[] shape) {
        Family f = s.args().op().family();
        if (f == Family.ELEMENTWISE || (f == Family.CHANNEL_WEIGHTED && s.weight().elementCount() == 1)) {
            return 1;
        }
        OpLayout l = OpLayout.of(s.args(), shape);
        return Math.max(1, l.mid() * l.inner());
    }

    /** The layout of a chunk of {@code count} elements (whole units) for one step. */
    public static OpLayout chunkLayout(ChainStep s, long[] shape, long count) {
        Family f = s.args().op().family();
        if (f == Family.ELEMENTWISE) {
            return new OpLayout(1, count, 1);
        }
        if (f == Family.CHANNEL_WEIGHTED && s.weight().elementCount() == 1) {
            return new OpLayout(1, 1, count);
        }
        OpLayout l = OpLayout.of(s.args(), shape);
        long slice = Math.max(1, l.mid() * l.inner());
        return new OpLayout(count / slice, l.mid(), l.inner());
    }

    /**
     * Elements per chunk: the most whole units within {@code maxElements}, at least one unit (the
     * caller checks that one unit fits at all).
     */
    public static long chunkElements(long unit, long maxElements, long total) {
        long units = Math.max(1, maxElements / unit);
        return Math.min(units * unit, Math.max(unit, total));
    }
}
