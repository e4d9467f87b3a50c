package dev.soma;

import dev.soma.leak.LeakGuard;
import dev.soma.leak.Leaks;
import dev.soma.op.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense, C-ordered (row-major) float32 or float64 tensor of any rank, in host memory.
 *
 * <p>Backed by a Java array ({@link #of(float[], long...)}, small tensors) or by an off-heap
 * {@link MemorySegment} ({@link #allocateNative}, {@link #wrap}): off-heap tensors may exceed 2^31
 * elements. A tensor that owns off-heap memory frees it on {@link #close()} (once; later calls do
 * nothing); one dropped without close() is reported by the leak reporter ({@link Leaks}) and its
 * memory is not freed. Closing any other tensor does nothing. Element {@code i} of the flat (row-major) order is at byte
 * {@code i * dtype().byteSize()} of {@link #segment()}, in native byte order.
 *
 * <p>Tensors are not synchronised: do not write one from two threads at once.
 */
public final class Tensor implements AutoCloseable {
    /** Java arrays stop a little short of Integer.MAX_VALUE on common JVMs. */
    static final long MAX_HEAP_ELEMENTS = Integer.MAX_VALUE - 8;

    private final DType dtype;
    private final long[] shape;
    private final long count;
    private final MemorySegment data;
    private final Arena owner;
    /** Registration with the leak reporter, for tensors that own off-heap memory; else null. */
    private final LeakGuard guard;

    private Tensor(DType dtype, long[] shape, MemorySegment data, Arena owner) {
        this.dtype = dtype;
        this.shape = shape;
        this.count = elementCount(shape);
        this.data = data;
        this.owner = owner;
        long need = count * dtype.byteSize();
        if (data.byteSize() < need) {
            throw new IllegalArgumentException("segment holds " + data.byteSize() + " bytes but shape "
                    + shapeString(shape) + " of " + dtype.numpyName() + " needs " + need
                    + "; pass a larger segment or a smaller shape");
        }
        this.guard = owner == null ? null : Leaks.track(this, "off-heap tensor", data.byteSize(), toString());
    }

    /** A float32 tensor over {@code values} (not copied). With no shape, a 1-D tensor of all values. */
    public static Tensor of(float[] values, long... shape) {
        if (values == null) {
            throw new NullPointerException("values is null; pass an array of the elements in row-major order");
        }
        long[] s = shapeFor(values.length, shape);
        return new Tensor(DType.F32, s, MemorySegment.ofArray(values), null);
    }

    /** A float64 tensor over {@code values} (not copied). With no shape, a 1-D tensor of all values. */
    public static Tensor of(double[] values, long... shape) {
        if (values == null) {
            throw new NullPointerException("values is null; pass an array of the elements in row-major order");
        }
        long[] s = shapeFor(values.length, shape);
        return new Tensor(DType.F64, s, MemorySegment.ofArray(values), null);
    }

    /**
     * A new zero-filled tensor: on the heap when it fits in a Java array, else off-heap (then close it
     * to free the memory: an off-heap tensor is not freed by the garbage collector).
     */
    public static Tensor allocate(DType dtype, long... shape) {
        requireDType(dtype);
        long[] s = checkShape(shape);
        long n = elementCount(s);
        if (n > MAX_HEAP_ELEMENTS) {
            return allocateNative(dtype, s);
        }
        MemorySegment seg = dtype == DType.F32
                ? MemorySegment.ofArray(new float[(int) n])
                : MemorySegment.ofArray(new double[(int) n]);
        return new Tensor(requireDType(dtype), s, seg, null);
    }

    /** A new zero-filled off-heap tensor that owns its memory and frees it on {@link #close()}. */
    public static Tensor allocateNative(DType dtype, long... shape) {
        requireDType(dtype);
        long[] s = checkShape(shape);
        long bytes = Math.multiplyExact(elementCount(s), (long) dtype.byteSize());
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64);
            return new Tensor(dtype, s, seg.asSlice(0, bytes), arena);
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A tensor over existing memory (a mapped file, a buffer of another library), not owned:
     * {@link #close()} leaves it alone. The segment must use native byte order.
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        if (segment == null) {
            throw new NullPointerException("segment is null; pass the memory to view as a tensor");
        }
        requireDType(dtype);
        long[] s = checkShape(shape);
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("segment is closed (its arena was closed); wrap memory that is still allocated");
        }
        if (segment.maxByteAlignment() < dtype.byteSize()) {
            throw new IllegalArgumentException("segment is aligned to " + segment.maxByteAlignment() + " byte(s) but "
                    + dtype.numpyName() + " elements need " + dtype.byteSize() + "; copy it into Tensor.allocateNative("
                    + "dtype, shape) first");
        }
        return new Tensor(dtype, s, segment, null);
    }

    /** A new tensor of the same dtype and shape, zero-filled. */
    public Tensor newLike() {
        return allocate(dtype, shape);
    }

    /** A copy of this tensor (same dtype and shape, on the heap when it fits). */
    public Tensor copy() {
        requireOpen();
        Tensor t = newLike();
        MemorySegment.copy(data, 0, t.data, 0, byteSize());
        return t;
    }

    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy: tensors are never reshaped behind your back). */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The size along {@code axis}; a negative axis counts from the end, as in PyTorch ({@code dim(-1)}
     * is the last).
     *
     * @throws IndexOutOfBoundsException when the axis is outside [-rank, rank)
     */
    public long dim(int axis) {
        int r = shape.length;
        if (axis < -r || axis >= r) {
            throw new IndexOutOfBoundsException("axis " + axis + " is out of range for a tensor of rank " + r
                    + (r == 0 ? "; a 0-d tensor has no axes" : "; use an axis in [" + -r + ", " + (r - 1) + "]"));
        }
        return shape[axis < 0 ? axis + r : axis];
    }

    public int rank() {
        return shape.length;
    }

    public long elementCount() {
        return count;
    }

    public long byteSize() {
        return count * dtype.byteSize();
    }

    /** The elements, row-major, native byte order. */
    public MemorySegment segment() {
        requireOpen();
        return data;
    }

    /** True when the elements live in a Java array. */
    public boolean isHeap() {
        return !data.isNative();
    }

    /** Element {@code i} of the flat row-major order, widened to double. */
    public double get(long i) {
        checkIndex(i);
        return dtype == DType.F32
                ? data.getAtIndex(ValueLayout.JAVA_FLOAT, i)
                : data.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }

    /** Sets element {@code i}; float32 tensors round to nearest. */
    public void set(long i, double v) {
        checkIndex(i);
        if (dtype == DType.F32) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        } else {
            data.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        }
    }

    /** Sets every element to {@code v}. */
    public void fill(double v) {
        requireOpen();
        if (dtype == DType.F32) {
            float f = (float) v;
            for (long i = 0; i < count; i++) {
                data.setAtIndex(ValueLayout.JAVA_FLOAT, i, f);
            }
        } else {
            for (long i = 0; i < count; i++) {
                data.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
            }
        }
    }

    /** The elements as a new float array (float64 rounds). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(checkHeapSized())];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) get(i);
        }
        return out;
    }

    /** The elements as a new double array. */
    public double[] toDoubleArray() {
        double[] out = new double[Math.toIntExact(checkHeapSized())];
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    public boolean sameShape(Tensor other) {
        if (other == null) {
            throw new NullPointerException("other is null; pass the tensor to compare shapes with");
        }
        return Arrays.equals(shape, other.shape);
    }

    /** Frees owned off-heap memory; idempotent; a no-op for heap and wrapped tensors. */
    @Override
    public void close() {
        if (guard != null && guard.close()) {
            owner.close();
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype.numpyName() + " " + Arrays.toString(shape) + (isHeap() ? ", heap" : ", off-heap") + "]";
    }

    /** Shape as text, "(2, 3)", for messages. */
    public String shapeString() {
        return shapeString(shape);
    }

    static String shapeString(long[] s) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) {
            b.append(i == 0 ? "" : ", ").append(s[i]);
        }
        return b.append(s.length == 1 ? ",)" : ")").toString();
    }

    private long checkHeapSized() {
        requireOpen();
        if (count > MAX_HEAP_ELEMENTS) {
            throw new IllegalStateException("tensor of " + count + " elements does not fit in a Java array; read it"
                    + " through segment()");
        }
        return count;
    }

    /** True once the memory is gone: an owned tensor closed, or a wrapped segment's arena closed. */
    public boolean isClosed() {
        return !data.scope().isAlive();
    }

    private void requireOpen() {
        if (isClosed()) {
            throw new IllegalStateException("tensor " + this + " is closed (its memory was freed); use it before"
                    + " closing it, or copy() it first");
        }
    }

    private void checkIndex(long i) {
        requireOpen();
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("index " + i + " is out of range for a tensor of " + count + " elements"
                    + (count == 0 ? "; it is empty" : "; use an index in [0, " + (count - 1) + "] of the row-major order"));
        }
    }

    private static DType requireDType(DType d) {
        if (d == null) {
            throw new NullPointerException("dtype is null; use DType.F32 or DType.F64");
        }
        return d;
    }

    private static long[] shapeFor(int length, long[] shape) {
        if (shape == null || shape.length == 0) {
            return new long[] {length};
        }
        long[] s = checkShape(shape);
        if (elementCount(s) != length) {
            throw new IllegalArgumentException("shape " + shapeString(s) + " has " + elementCount(s)
                    + " elements but the array has " + length + "; pass a shape whose product is the array's length");
        }
        return s;
    }

    private static long[] checkShape(long[] shape) {
        if (shape == null) {
            throw new NullPointerException("shape is null; pass the dimensions, e.g. (2, 3), or none for a 0-d tensor");
        }
        long[] s = shape.clone();
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(s) + " has a negative dimension at axis " + i
                        + "; dimensions are sizes, 0 or more");
            }
        }
        elementCount(s);
        return s;
    }

    private static long elementCount(long[] s) {
        long n = 1;
        try {
            for (long d : s) {
                n = Math.multiplyExact(n, d);
            }
            // Byte sizes must stay representable too.
            Math.multiplyExact(n, 8L);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(s) + " has too many elements to address"
                    + " (their bytes exceed 2^63); split the data into smaller tensors");
        }
        return n;
    }
}
