package dev.soma.benchmark;

import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * One thing to time: an op, a pass, an element type and a shape. Elementwise ops use a 1-D shape;
 * softmax and log_softmax a 2-D {@code (rows, rowLength)} shape normalised along the last axis.
 */
public record BenchCase(Op op, Direction direction, DType dtype, long[] shape) {

    public BenchCase {
        shape = shape.clone();
    }

    public OpArgs args() {
        return OpArgs.of(op);
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** The row length for row reductions, else the element count: the x axis of the charts. */
    public long sizeAxisValue() {
        return op.family() == Family.ROW_REDUCTION ? shape[shape.length - 1] : elements();
    }

    /** Bytes the pass must move at the least: every input read once and the output written once. */
    public long trafficBytes() {
        return elements() * dtype.byteSize() * direction.accessesPerElement();
    }

    /** The shape as CSV-safe text: "16777216" or "4096x1024". */
    public String shapeText() {
        StringJoiner j = new StringJoiner("x");
        for (long d : shape) {
            j.add(Long.toString(d));
        }
        return j.toString();
    }

    /** "gelu backward float32 16777216", for messages. */
    public String label() {
        return op.id() + " " + direction.id() + " " + dtype.numpyName() + " " + shapeText();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BenchCase c && c.op == op && c.direction == direction && c.dtype == dtype
                && Arrays.equals(c.shape, shape);
    }

    @Override
    public int hashCode() {
        return ((op.hashCode() * 31 + direction.hashCode()) * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return label();
    }
}
