package dev.soma.bench;

import dev.soma.Tensor;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One benchmark case of the device benchmarks: the op with PyTorch's defaults, its shape, host
 * inputs from the shared {@link Samples} (extremal values included) and the check of a full-size
 * output. Shapes: elementwise ops {@code [size]}; softmax rows {@code [size / row, row]};
 * PReLU {@code [size / (64 inner), 64 channels, inner]} with {@code inner = min(1024, size / 64)}.
 */
final class OpCase implements AutoCloseable {
    static final long PRELU_CHANNELS = 64;
    /** Elements checked per window; three windows (start, middle, end) of whole rows or blocks. */
    private static final long WINDOW = 1 << 14;

    final OpArgs args;
    final DType dtype;
    final boolean backward;
    final long size;
    final long[] shape;
    /** Elements of one whole row (softmax) or (channels, inner) block (PReLU); 1 for elementwise ops. */
    final long unit;
    final Tensor x;
    /** The upstream gradient; null for a forward case. */
    final Tensor dy;
    final Tensor w;

    OpCase(String op, String direction, String dtype, long size, long row) {
        this.args = Op.byId(op).defaults();
        this.dtype = DType.valueOf(dtype);
        if (!direction.equals("forward") && !direction.equals("backward")) {
            throw new IllegalArgumentException("direction must be forward or backward, got " + direction);
        }
        this.backward = direction.equals("backward");
        this.size = size;
        Op o = args.op();
        if (o.family() == Family.ROW_REDUCTION) {
            requireMultiple(size, row, "a softmax row of " + row);
            shape = new long[] {size / row, row};
            unit = row;
        } else if (o == Op.PRELU) {
            long inner = Math.max(1, Math.min(1024, size / PRELU_CHANNELS));
            requireMultiple(size, PRELU_CHANNELS * inner, "PReLU's 64 channels of " + inner);
            shape = new long[] {size / (PRELU_CHANNELS * inner), PRELU_CHANNELS, inner};
            unit = PRELU_CHANNELS * inner;
        } else {
            shape = new long[] {size};
            unit = 1;
        }
        x = Tensor.allocateNative(this.dtype, shape);
        dy = backward ? Tensor.allocateNative(this.dtype, shape) : null;
        w = Tensor.allocateNative(this.dtype, PRELU_CHANNELS);
        Samples.fillInput(args, this.dtype, x.segment(), size, 1);
        if (backward) {
            Samples.fillGradient(this.dtype, dy.segment(), size, 2);
        }
        Samples.fillPreluWeights(this.dtype, w.segment(), PRELU_CHANNELS, 3);
    }

    boolean isPrelu() {
        return args.op() == Op.PRELU;
    }

    Family family() {
        return args.op().family();
    }

    /** Fills {@code out} with the poison value, so elements a kernel skipped fail the check. */
    void poison(Tensor out) {
        Samples.poison(dtype, out.segment(), out.elementCount());
    }

    /** Throws unless three windows of {@code out} (the whole of it when small) meet the contract. */
    void validate(String what, Tensor out) {
        long window = Math.max(unit, Math.min(size, WINDOW) / unit * unit);
        long[] starts = window >= size ? new long[] {0} : new long[] {0, (size / 2) / unit * unit, size - window};
        long[] wshape = shape.clone();
        wshape[0] = shape.length == 1 ? window : window / unit;
        for (long start : starts) {
            ResultCheck.check(what + " (elements " + start + " to " + (start + window) + " of " + Arrays.toString(shape)
                            + ")", args, slice(x, start, window, wshape), backward ? slice(dy, start, window, wshape) : null,
                    isPrelu() ? w : null, slice(out, start, window, wshape));
        }
    }

    private Tensor slice(Tensor t, long start, long n, long[] wshape) {
        long b = dtype.byteSize();
        MemorySegment s = t.segment().asSlice(start * b, n * b);
        return Tensor.wrap(s, dtype, wshape);
    }

    private static void requireMultiple(long size, long unit, String what) {
        if (size % unit != 0 || size < unit) {
            throw new IllegalArgumentException("size " + size + " is not a whole number of " + what
                    + " elements; pick a size that is a multiple of " + unit);
        }
    }

    @Override
    public void close() {
        x.close();
        if (dy != null) {
            dy.close();
        }
        w.close();
    }
}
