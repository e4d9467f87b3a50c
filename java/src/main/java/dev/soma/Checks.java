package dev.soma;

import dev.soma.backend.Backend;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.op.DType;
import java.lang.foreign.MemorySegment;

/**
 * The argument checks behind {@link Engine}'s public methods. Each names the argument, says what
 * was wrong and what to do, in one line, and runs before any allocation or backend work. Java's
 * conventions decide the type: {@link NullPointerException} for a null, {@link IllegalStateException}
 * for a closed tensor, {@link IllegalArgumentException} for everything else about a value.
 *
 * <p>The engine runs all of them itself; the public ones are there for front ends (the CLI) that
 * want to refuse bad input before they create output files or start a device.
 */
public final class Checks {
    private Checks() {
    }

    /** {@code value}, or an NPE "name is null; fix". */
    static <T> T notNull(T value, String name, String fix) {
        if (value == null) {
            throw new NullPointerException(name + " is null; " + fix);
        }
        return value;
    }

    /** A non-null tensor whose memory is still there (not closed, not a segment of a closed arena). */
    static Tensor open(String name, Tensor t) {
        notNull(t, name, "pass a tensor");
        if (t.isClosed()) {
            throw new IllegalStateException(name + " is closed (its memory was freed); pass a tensor that is still open");
        }
        return t;
    }

    /**
     * {@code t} is open and has {@code ref}'s dtype and shape (inputs such as dy).
     *
     * @throws NullPointerException     when {@code t} is null
     * @throws IllegalStateException    when {@code t} is closed
     * @throws IllegalArgumentException naming {@code name} when the dtype or shape differs
     */
    public static Tensor like(String name, Tensor t, String refName, Tensor ref) {
        open(name, t);
        if (t.dtype() != ref.dtype()) {
            throw new IllegalArgumentException(name + " is " + t.dtype().numpyName() + " but " + refName + " is "
                    + ref.dtype().numpyName() + "; convert one so both match (float32 and float64 do not mix)");
        }
        if (!t.sameShape(ref)) {
            throw new IllegalArgumentException(name + " has shape " + t.shapeString() + " but " + refName + " has "
                    + ref.shapeString() + "; pass a tensor of " + refName + "'s shape");
        }
        return t;
    }

    /**
     * The tensor to write: {@code out} checked like {@code ref} and writable, or a new tensor like
     * {@code ref} when {@code out} is null. Call it last, after every other check: it allocates.
     */
    static Tensor output(String name, Tensor out, String refName, Tensor ref) {
        if (out == null) {
            return ref.newLike();
        }
        writable(name, out, refName, ref);
        return out;
    }

    /** The checks of {@link #output} without the allocation (run them before other work). */
    static void writable(String name, Tensor out, String refName, Tensor ref) {
        if (out == null) {
            return;
        }
        open(name, out);
        if (out.dtype() != ref.dtype()) {
            throw new IllegalArgumentException(name + " is " + out.dtype().numpyName() + " but " + refName + " is "
                    + ref.dtype().numpyName() + "; pass a " + ref.dtype().numpyName() + " output, or null for a new one");
        }
        if (!out.sameShape(ref)) {
            throw new IllegalArgumentException(name + " has shape " + out.shapeString() + " but " + refName + " has "
                    + ref.shapeString() + "; pass an output of " + refName + "'s shape, or null for a new one");
        }
        if (out.segment().isReadOnly()) {
            throw new IllegalArgumentException(name + " is read-only (a read-only segment or mapping); pass a writable"
                    + " tensor, or null for a new one");
        }
    }

    /**
     * An output may be exactly an input (in place: same memory, same size) where {@code inPlace}
     * allows it; any other sharing of memory would let a kernel read what it already overwrote.
     */
    static void noOverlap(String outName, Tensor out, String inName, Tensor in, boolean inPlace) {
        if (out == null || in == null) {
            return;
        }
        MemorySegment o = region(out);
        MemorySegment i = region(in);
        var shared = o.asOverlappingSlice(i);
        if (shared.isEmpty()) {
            return;
        }
        // The shared bytes are all of both regions exactly when the two are the same memory.
        boolean exact = o.byteSize() == i.byteSize() && shared.get().byteSize() == o.byteSize();
        if (exact && inPlace) {
            return;
        }
        throw new IllegalArgumentException(outName + (exact ? " is " + inName + " itself" : " overlaps " + inName
                + " in memory without being the same elements") + ": " + outName + " is written while " + inName
                + " is read; pass " + (inPlace ? inName + " itself (in place), " : "") + "a separate tensor, or null for a new one");
    }

    /** The device behind the engine can compute this dtype (float64 needs double precision on the GPU). */
    static void supported(Backend backend, String name, DType t) {
        if (backend instanceof DeviceBackend d && !d.runtime().supports(t)) {
            throw new IllegalArgumentException(name + " is " + t.numpyName() + " but " + d.description()
                    + " cannot compute " + t.numpyName() + " (no double-precision support); convert to float32"
                    + " or use the CPU backend (Engine.create(\"cpu\"), --backend cpu)");
        }
    }

    /**
     * PReLU's weight: open, 1-D, x's dtype, 1 or C elements (C = x's size along axis 1; 1 below rank 2).
     *
     * @throws NullPointerException     when {@code w} is null
     * @throws IllegalStateException    when {@code w} is closed
     * @throws IllegalArgumentException naming {@code name} otherwise
     */
    public static void preluWeight(String name, Tensor w, Tensor x) {
        notNull(w, name, "pass a 1-D tensor of 1 or C weights (C = x's size along axis 1)");
        open(name, w);
        if (w.dtype() != x.dtype()) {
            throw new IllegalArgumentException(name + " is " + w.dtype().numpyName() + " but x is "
                    + x.dtype().numpyName() + "; convert one so both match (float32 and float64 do not mix)");
        }
        if (w.rank() != 1) {
            throw new IllegalArgumentException(name + " must be 1-D, got shape " + w.shapeString()
                    + "; pass 1 weight or one per channel (axis 1 of x)");
        }
        long channels = x.rank() >= 2 ? x.dim(1) : 1;
        long n = w.elementCount();
        if (n != 1 && n != channels) {
            throw new IllegalArgumentException(name + " has " + n + " elements but x " + x.shapeString()
                    + " has " + channels + " channel(s) along axis 1; pass "
                    + (channels == 1 ? "1 weight" : "1 or " + channels + " weights"));
        }
    }

    /** The bytes a tensor's elements occupy (its segment may be longer). */
    private static MemorySegment region(Tensor t) {
        return t.segment().asSlice(0, t.byteSize());
    }
}
