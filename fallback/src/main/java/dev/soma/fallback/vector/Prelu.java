package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.D2F;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.F2D;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.NE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * PReLU over an (outer, channels, inner) view. The forward runs on native lanes (one float multiply
 * is correctly rounded); the backward runs in double lanes so that dL/dw, a sum of products, is
 * accumulated in double (float32 products are exact there) and pairwise.
 *
 * <p>Three shapes of work: one weight (a plain elementwise map), {@code inner > 1} (row (o, c) is
 * {@code inner} contiguous elements with one weight), and {@code inner == 1} (channels are the
 * contiguous axis: the weights are loaded as a vector alongside x).
 */
final class Prelu {
    private Prelu() {
    }

    static double weight(boolean f32, MemorySegment w, long c) {
        return f32 ? w.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, c) : w.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, c);
    }

    // ---- forward -------------------------------------------------------------------------------
    // One method per element type behind each dispatcher, never inlined into callers (JitDirectives):
    // compiled together (in a process that had run both types), the loops passed C2's node cutoff and
    // boxed their vectors (25-55 bytes allocated per element; NoBoxingAfterEveryKernelTest). A shared
    // loop with a type flag is not enough either: C2 hoisted the flag's branch as a profile predicate
    // and deoptimised the loop again and again when the other type came (see gen_strided_columns.py).

    static void forwardSpan(boolean f32, MemorySegment x, double w, MemorySegment y, long from, long to) {
        if (f32) {
            forwardSpanF32(x, w, y, from, to);
        } else {
            forwardSpanF64(x, w, y, from, to);
        }
    }

    /** Elements [from, to) with one weight, float32. */
    private static void forwardSpanF32(MemorySegment x, double w, MemorySegment y, long from, long to) {
        float fw = (float) w;
        long i = from;
        for (long end = from + Lanes.F.loopBound(to - from); i < end; i += Lanes.F.length()) {
            FloatVector v = Lanes.loadFloats(x, i);
            Lanes.store(y, i, FMath.leakyRelu(v, fw));
        }
        if (i < to) {
            VectorMask<Float> m = Lanes.F.indexInRange(i, to);
            FloatVector v = Lanes.loadFloats(x, i, m);
            Lanes.store(y, i, FMath.leakyRelu(v, fw), m);
        }
    }

    /** Elements [from, to) with one weight, float64. */
    private static void forwardSpanF64(MemorySegment x, double w, MemorySegment y, long from, long to) {
        long i = from;
        for (long end = from + Lanes.D.loopBound(to - from); i < end; i += Lanes.D.length()) {
            DoubleVector v = Lanes.loadDoubles(x, i);
            Lanes.store(y, i, DMath.scaleNegative(v, w).blend(v, v.compare(GT, 0.0)));
        }
        if (i < to) {
            VectorMask<Double> m = Lanes.D.indexInRange(i, to);
            DoubleVector v = Lanes.loadDoubles(x, i, m);
            Lanes.store(y, i, DMath.scaleNegative(v, w).blend(v, v.compare(GT, 0.0)), m);
        }
    }

    /**
     * Rows [rowFrom, rowTo) of (outer * channels) rows of {@code inner} elements; row r of the
     * tensor has weight r % channels, and the segments' row 0 is the tensor's row {@code origin}.
     * Rows of whole vectors, up to {@link #WINDOW_VECTORS} of them, run in windows
     * ({@link #forwardWindowsF32}); others one loop per row.
     */
    static void forwardRows(boolean f32, MemorySegment x, MemorySegment w, MemorySegment y,
                            long channels, long inner, long origin, long rowFrom, long rowTo) {
        // The channel advances with the row: no long division (tens of cycles) per row.
        long c = (origin + rowFrom) % channels;
        if (runsInWindows(f32, inner)) {
            MemorySegment table = windowTable();
            if (f32) {
                forwardWindowsF32(x, w, y, channels, inner, c, rowFrom, rowTo, table);
            } else {
                forwardWindowsF64(x, w, y, channels, inner, c, rowFrom, rowTo, table);
            }
        } else if (f32) {
            for (long r = rowFrom; r < rowTo; r++) {
                forwardSpanF32(x, weight(true, w, c), y, r * inner, (r + 1) * inner);
                c = c + 1 == channels ? 0 : c + 1;
            }
        } else {
            for (long r = rowFrom; r < rowTo; r++) {
                forwardSpanF64(x, weight(false, w, c), y, r * inner, (r + 1) * inner);
                c = c + 1 == channels ? 0 : c + 1;
            }
        }
    }

    /**
     * Vectors per window: 64 KiB of float32 per stream, and a 4-8 KiB weight table that stays in L1.
     * Rows of more vectors than this run one loop per row, whose overhead they make up for.
     */
    static final int WINDOW_VECTORS = 1024;

    /** Whether rows of {@code inner} elements run in windows: whole vectors, at most a window's worth. */
    static boolean runsInWindows(boolean f32, long inner) {
        long lanes = f32 ? Lanes.F.length() : Lanes.D.length();
        return inner % lanes == 0 && inner / lanes <= WINDOW_VECTORS;
    }

    /**
     * Per thread, freed with the thread: one weight per vector of a window ({@link #WINDOW_VECTORS}
     * doubles), and room for a vector past them: a row's weights are written in whole vectors, the
     * last one reaching into the next row's entries, which that row then overwrites (one store for
     * a row of 3 vectors, not 3).
     */
    private static final ThreadLocal<MemorySegment> WINDOW_TABLE = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate((long) WINDOW_VECTORS * Double.BYTES + Lanes.F.vectorByteSize(), 64));

    private static MemorySegment windowTable() {
        return WINDOW_TABLE.get();
    }

    /**
     * Rows [rowFrom, rowTo) of whole float32 vectors, the first with channel {@code c}: window by
     * window, a table gets each vector's weight (in L1), then one loop runs over the window's
     * vectors and broadcasts its weight from the table. Why not a loop per row: from memory, the
     * row loop's entry and exit, once per 64 vectors at rows of 1024, cost a row 5-15 % against
     * leaky_relu's single loop (most at the fast memory level: 0.85 of leaky_relu), in cache
     * 5-10 %. The windows ran at 0.98-0.99 of the single loop from memory. A weight per element
     * (the expanded weights of short rows) would be a second stream to read: 33 % behind.
     */
    private static void forwardWindowsF32(MemorySegment x, MemorySegment w, MemorySegment y, long channels, long inner,
            long c, long rowFrom, long rowTo, MemorySegment table) {
        int lanes = Lanes.F.length();
        long perRow = inner / lanes;
        long rowsPerWindow = WINDOW_VECTORS / perRow;
        for (long r = rowFrom; r < rowTo; r += rowsPerWindow) {
            long rowEnd = Math.min(rowTo, r + rowsPerWindow);
            int vectors = 0;
            boolean zeroWeight = false;
            for (long q = r; q < rowEnd; q++) {
                float wq = (float) weight(true, w, c);
                zeroWeight |= wq == 0f;
                // Vector stores, not Arrays.fill into a float[]: that took rows of 16 from 0.087 to
                // 0.22 ns per element in cache (48: 0.076 -> 0.095; 256: 0.041 -> 0.052).
                FloatVector wb = FloatVector.broadcast(Lanes.F, wq);
                if (perRow == 1) {
                    table.setAtIndex(ValueLayout.JAVA_FLOAT, vectors, wq);
                } else {
                    for (long k = 0; k < perRow; k += lanes) {
                        wb.reinterpretShape(Lanes.B, 0).intoMemorySegment(table, (vectors + k) * Float.BYTES, Lanes.NO);
                    }
                }
                vectors += (int) perRow;
                c = c + 1 == channels ? 0 : c + 1;
            }
            forwardWindowF32(x, y, r * inner, vectors, table, zeroWeight);
        }
    }

    /**
     * One window: {@code vectors} vectors from element {@code base}, vector k with weight
     * {@code table[k]}. The zero-weight loop keeps 0 at x = -inf (not 0 * inf = NaN); its two
     * extra compares and blend cost a third more in cache, so only windows with a zero weight pay.
     */
    private static void forwardWindowF32(MemorySegment x, MemorySegment y, long base, int vectors, MemorySegment table,
            boolean zeroWeight) {
        int lanes = Lanes.F.length();
        if (zeroWeight) {
            for (int k = 0; k < vectors; k++) {
                FloatVector wv = FloatVector.broadcast(Lanes.F, table.getAtIndex(ValueLayout.JAVA_FLOAT, k));
                long i = base + (long) k * lanes;
                FloatVector v = FloatVector.fromMemorySegment(Lanes.F, x, i * Float.BYTES, Lanes.NO);
                FloatVector out = v.mul(wv).blend(0f, v.compare(EQ, Float.NEGATIVE_INFINITY).and(wv.compare(EQ, 0f)))
                        .blend(v, v.compare(GT, 0f));
                out.reinterpretShape(Lanes.B, 0).intoMemorySegment(y, i * Float.BYTES, Lanes.NO);
            }
        } else {
            for (int k = 0; k < vectors; k++) {
                FloatVector wv = FloatVector.broadcast(Lanes.F, table.getAtIndex(ValueLayout.JAVA_FLOAT, k));
                long i = base + (long) k * lanes;
                FloatVector v = FloatVector.fromMemorySegment(Lanes.F, x, i * Float.BYTES, Lanes.NO);
                FloatVector out = v.mul(wv.blend(1f, v.compare(GT, 0f)));
                out.reinterpretShape(Lanes.B, 0).intoMemorySegment(y, i * Float.BYTES, Lanes.NO);
            }
        }
    }

    /** As {@link #forwardWindowsF32}, float64. */
    private static void forwardWindowsF64(MemorySegment x, MemorySegment w, MemorySegment y, long channels, long inner,
            long c, long rowFrom, long rowTo, MemorySegment table) {
        int lanes = Lanes.D.length();
        long perRow = inner / lanes;
        long rowsPerWindow = WINDOW_VECTORS / perRow;
        for (long r = rowFrom; r < rowTo; r += rowsPerWindow) {
            long rowEnd = Math.min(rowTo, r + rowsPerWindow);
            int vectors = 0;
            boolean zeroWeight = false;
            for (long q = r; q < rowEnd; q++) {
                double wq = weight(false, w, c);
                zeroWeight |= wq == 0.0;
                DoubleVector wb = DoubleVector.broadcast(Lanes.D, wq);
                if (perRow == 1) {
                    table.setAtIndex(ValueLayout.JAVA_DOUBLE, vectors, wq);
                } else {
                    for (long k = 0; k < perRow; k += lanes) {
                        wb.reinterpretShape(Lanes.BD, 0).intoMemorySegment(table, (vectors + k) * Double.BYTES, Lanes.NO);
                    }
                }
                vectors += (int) perRow;
                c = c + 1 == channels ? 0 : c + 1;
            }
            forwardWindowF64(x, y, r * inner, vectors, table, zeroWeight);
        }
    }

    /** As {@link #forwardWindowF32}, float64. */
    private static void forwardWindowF64(MemorySegment x, MemorySegment y, long base, int vectors, MemorySegment table,
            boolean zeroWeight) {
        int lanes = Lanes.D.length();
        if (zeroWeight) {
            for (int k = 0; k < vectors; k++) {
                DoubleVector wv = DoubleVector.broadcast(Lanes.D, table.getAtIndex(ValueLayout.JAVA_DOUBLE, k));
                long i = base + (long) k * lanes;
                DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, i * Double.BYTES, Lanes.NO);
                DoubleVector out = v.mul(wv).blend(0.0, v.compare(EQ, Double.NEGATIVE_INFINITY).and(wv.compare(EQ, 0.0)))
                        .blend(v, v.compare(GT, 0.0));
                out.reinterpretShape(Lanes.BD, 0).intoMemorySegment(y, i * Double.BYTES, Lanes.NO);
            }
        } else {
            for (int k = 0; k < vectors; k++) {
                DoubleVector wv = DoubleVector.broadcast(Lanes.D, table.getAtIndex(ValueLayout.JAVA_DOUBLE, k));
                long i = base + (long) k * lanes;
                DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, i * Double.BYTES, Lanes.NO);
                DoubleVector out = v.mul(wv.blend(1.0, v.compare(GT, 0.0)));
                out.reinterpretShape(Lanes.BD, 0).intoMemorySegment(y, i * Double.BYTES, Lanes.NO);
            }
        }
    }

    /** Most elements in one period of expanded weights: 256 KiB of floats, which stay in L2. */
    static final long MAX_PERIOD = 1 << 16;

    /**
     * Whether the forward of an (outer, channels, inner) tensor runs as channels-last over rows of
     * channels * inner elements, with each weight repeated inner times ({@link #expandWeights}):
     * rows shorter than 128 elements, a period that fits {@link #MAX_PERIOD}, repeated at least 16
     * times (so that writing it costs at most a sixteenth of the op's stores). Row by row, each
     * short row pays a call, a loop's set-up and often a masked tail: in cache, one core, rows of
     * 16 ran at 0.37 ns per element, rows of 49 at 0.26, of 64 at 0.14, against 0.075-0.08
     * expanded (leaky_relu 0.065-0.07). Windows ({@link #forwardRows}, rows of whole vectors)
     * took 0.076-0.097 at rows of 16-48; from rows of 128 they are faster (0.05 at 128, 0.04 at
     * 256, against 0.102 expanded at 256), and from memory the expanded weights are one more
     * stream (rows of 1024 ran 33 % behind leaky_relu at the fast memory level). The bits are the
     * same, but for the sign of a zero (w x is -0 for x < 0 and w = 0, as in the reference and the
     * windows; the span loop gives +0).
     */
    static boolean expandsWeights(long outer, long channels, long inner) {
        return inner > 1 && inner < 128 && channels > 1 && channels * inner <= MAX_PERIOD && outer >= 16;
    }

    /**
     * The calling thread's buffer for {@link #expandWeights} ({@link #MAX_PERIOD} doubles, 512 KiB,
     * freed with the thread): an arena per call cost more than the op on mid-sized tensors (closing
     * a shared arena synchronises with every thread). The op's chunks only read it, and the caller
     * waits for them all before it can expand again.
     */
    private static final ThreadLocal<MemorySegment> EXPANDED = new ThreadLocal<>();

    /** channels * inner weights in this thread's native buffer: weight c repeated inner times. */
    static MemorySegment expandWeights(boolean f32, MemorySegment w, long channels, long inner) {
        long bytes = f32 ? Float.BYTES : Double.BYTES;
        MemorySegment kept = EXPANDED.get();
        if (kept == null) {
            kept = Arena.ofAuto().allocate(MAX_PERIOD * Double.BYTES, 64);
            EXPANDED.set(kept);
        }
        MemorySegment wide = kept.asSlice(0, channels * inner * bytes);
        for (long c = 0; c < channels; c++) {
            if (f32) {
                fillFloats(wide, c * inner, inner, (float) weight(true, w, c));
            } else {
                fillDoubles(wide, c * inner, inner, weight(false, w, c));
            }
        }
        return wide;
    }

    private static void fillFloats(MemorySegment s, long from, long count, float v) {
        FloatVector b = FloatVector.broadcast(Lanes.F, v);
        long i = 0;
        for (long end = Lanes.F.loopBound(count); i < end; i += Lanes.F.length()) {
            b.intoMemorySegment(s, (from + i) * Float.BYTES, Lanes.NO);
        }
        for (; i < count; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, from + i, v);
        }
    }

    private static void fillDoubles(MemorySegment s, long from, long count, double v) {
        DoubleVector b = DoubleVector.broadcast(Lanes.D, v);
        long i = 0;
        for (long end = Lanes.D.loopBound(count); i < end; i += Lanes.D.length()) {
            b.intoMemorySegment(s, (from + i) * Double.BYTES, Lanes.NO);
        }
        for (; i < count; i++) {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, from + i, v);
        }
    }

    static void forwardChannelsLast(boolean f32, MemorySegment x, MemorySegment w, MemorySegment y, long channels,
            long rowFrom, long rowTo) {
        if (f32) {
            forwardChannelsLastF32(x, w, y, channels, rowFrom, rowTo);
        } else {
            forwardChannelsLastF64(x, w, y, channels, rowFrom, rowTo);
        }
    }

    /**
     * Rows [rowFrom, rowTo) of an (outer, channels) float32 tensor: weights vary along the
     * contiguous axis. Loads, stores and the per-lane slope (w x, 0 where w is 0 and x is -inf)
     * written out as Vector API calls: with a tail in every row (37 channels) the helpers were
     * refused by C2 in a process that had run the other kernels ("already compiled into a big
     * method", or a store left as a virtual call), 8-10 bytes allocated per element.
     */
    private static void forwardChannelsLastF32(MemorySegment x, MemorySegment w, MemorySegment y, long channels,
            long rowFrom, long rowTo) {
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * channels;
            long c = 0;
            for (long end = Lanes.F.loopBound(channels); c < end; c += Lanes.F.length()) {
                FloatVector v = FloatVector.fromMemorySegment(Lanes.F, x, (base + c) * Float.BYTES, Lanes.NO);
                FloatVector wv = FloatVector.fromMemorySegment(Lanes.F, w, c * Float.BYTES, Lanes.NO);
                FloatVector out = v.mul(wv).blend(0f, v.compare(EQ, Float.NEGATIVE_INFINITY).and(wv.compare(EQ, 0f)))
                        .blend(v, v.compare(GT, 0f));
                out.reinterpretShape(Lanes.B, 0).intoMemorySegment(y, (base + c) * Float.BYTES, Lanes.NO);
            }
            if (c < channels) {
                forwardChannelsLastTailF32(x, w, y, base, c, channels);
            }
        }
    }

    /** The last, partial vector of a row: apart, so that the loop's compilation parses the math once. */
    private static void forwardChannelsLastTailF32(MemorySegment x, MemorySegment w, MemorySegment y, long base, long c,
            long channels) {
        VectorMask<Float> m = Lanes.F.indexInRange(c, channels);
        FloatVector v = FloatVector.fromMemorySegment(Lanes.F, x, (base + c) * Float.BYTES, Lanes.NO, m);
        FloatVector wv = FloatVector.fromMemorySegment(Lanes.F, w, c * Float.BYTES, Lanes.NO, m);
        FloatVector out = v.mul(wv).blend(0f, v.compare(EQ, Float.NEGATIVE_INFINITY).and(wv.compare(EQ, 0f)))
                .blend(v, v.compare(GT, 0f));
        out.intoMemorySegment(y, (base + c) * Float.BYTES, Lanes.NO, m);
    }

    /** As {@link #forwardChannelsLastF32}, float64. */
    private static void forwardChannelsLastF64(MemorySegment x, MemorySegment w, MemorySegment y, long channels,
            long rowFrom, long rowTo) {
        for (long r = rowFrom; r < rowTo; r++) {
            long base = r * channels;
            long c = 0;
            for (long end = Lanes.D.loopBound(channels); c < end; c += Lanes.D.length()) {
                DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, (base + c) * Double.BYTES, Lanes.NO);
                DoubleVector wv = DoubleVector.fromMemorySegment(Lanes.D, w, c * Double.BYTES, Lanes.NO);
                DoubleVector out = v.mul(wv).blend(0.0, v.compare(EQ, Double.NEGATIVE_INFINITY).and(wv.compare(EQ, 0.0)))
                        .blend(v, v.compare(GT, 0.0));
                out.reinterpretShape(Lanes.BD, 0).intoMemorySegment(y, (base + c) * Double.BYTES, Lanes.NO);
            }
            if (c < channels) {
                forwardChannelsLastTailF64(x, w, y, base, c, channels);
            }
        }
    }

    private static void forwardChannelsLastTailF64(MemorySegment x, MemorySegment w, MemorySegment y, long base, long c,
            long channels) {
        VectorMask<Double> m = Lanes.D.indexInRange(c, channels);
        DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, (base + c) * Double.BYTES, Lanes.NO, m);
        DoubleVector wv = DoubleVector.fromMemorySegment(Lanes.D, w, c * Double.BYTES, Lanes.NO, m);
        DoubleVector out = v.mul(wv).blend(0.0, v.compare(EQ, Double.NEGATIVE_INFINITY).and(wv.compare(EQ, 0.0)))
                .blend(v, v.compare(GT, 0.0));
        out.intoMemorySegment(y, (base + c) * Double.BYTES, Lanes.NO, m);
    }

    // ---- backward ------------------------------------------------------------------------------

    static double backwardSpan(boolean f32, MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
            long from, long to, double[] lanes) {
        return f32 ? backwardSpanF32(x, w, dy, dx, from, to, lanes) : backwardSpanF64(x, w, dy, dx, from, to, lanes);
    }

    /**
     * dx over elements [from, to) of float32 data with one weight w; returns the sum of
     * (x > 0 ? 0 : x) dy over the span (lane-parallel, so spans should be short: callers cut long
     * ranges into blocks). Loads and stores written out (the Lanes helpers were refused by C2 as
     * too big for a cold call site). {@code lanes} is the caller's scratch of one double vector,
     * reused from span to span: one array per span cost 3-5 bytes per element on rows of 16-27.
     */
    private static double backwardSpanF32(MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
            long from, long to, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        DoubleVector wv = DoubleVector.broadcast(Lanes.D, w);
        long i = from;
        for (long end = from + Lanes.D.loopBound(to - from); i < end; i += Lanes.D.length()) {
            DoubleVector v = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, x, i * Float.BYTES, Lanes.NO)
                    .convertShape(F2D, Lanes.D, 0);
            DoubleVector g = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, dy, i * Float.BYTES, Lanes.NO)
                    .convertShape(F2D, Lanes.D, 0);
            VectorMask<Double> pos = v.compare(GT, 0.0);
            DoubleVector d = wv.blend(1.0, pos).blend(v, v.compare(NE, v)).mul(g);
            ((FloatVector) d.convertShape(D2F, Lanes.FH, 0)).reinterpretShape(Lanes.BH, 0)
                    .intoMemorySegment(dx, i * Float.BYTES, Lanes.NO);
            acc = acc.add(v.mul(g).blend(0.0, pos));
        }
        // Lanes summed in a fixed order (Lanes.sum): reduceLanes(ADD) may associate in any order, and
        // C2's tree reduction and the interpreter's serial one gave different bits (issue #8). Summed
        // from an array: acc handed to a method C2 left out of line was boxed in every iteration.
        acc.intoArray(lanes, 0);
        if (i < to) {
            // The tail adds its terms (0 outside its lanes, and acc + 0 is acc) to the array itself:
            // a vector returned from it was boxed once per span.
            backwardSpanTailF32(x, w, dy, dx, i, to, lanes);
        }
        return Lanes.sum(lanes);
    }

    /** As {@link #backwardSpanF32}, float64. */
    private static double backwardSpanF64(MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
            long from, long to, double[] lanes) {
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        DoubleVector wv = DoubleVector.broadcast(Lanes.D, w);
        long i = from;
        for (long end = from + Lanes.D.loopBound(to - from); i < end; i += Lanes.D.length()) {
            DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, i * Double.BYTES, Lanes.NO);
            DoubleVector g = DoubleVector.fromMemorySegment(Lanes.D, dy, i * Double.BYTES, Lanes.NO);
            VectorMask<Double> pos = v.compare(GT, 0.0);
            DoubleVector d = wv.blend(1.0, pos).blend(v, v.compare(NE, v)).mul(g);
            d.reinterpretShape(Lanes.BD, 0).intoMemorySegment(dx, i * Double.BYTES, Lanes.NO);
            acc = acc.add(v.mul(g).blend(0.0, pos));
        }
        // Lanes summed in a fixed order (Lanes.sum): reduceLanes(ADD) may associate in any order, and
        // C2's tree reduction and the interpreter's serial one gave different bits (issue #8). Summed
        // from an array: acc handed to a method C2 left out of line was boxed in every iteration.
        acc.intoArray(lanes, 0);
        if (i < to) {
            // The tail adds its terms (0 outside its lanes, and acc + 0 is acc) to the array itself:
            // a vector returned from it was boxed once per span.
            backwardSpanTailF64(x, w, dy, dx, i, to, lanes);
        }
        return Lanes.sum(lanes);
    }

    /**
     * The last, partial vector of a float32 span: writes its dx, adds its dw terms to {@code lanes}
     * (0 in the lanes past {@code to}: masked loads give 0 there). Loads and stores written out,
     * per type: on rows of 27 elements (a tail per row) the shared helpers were left out of line
     * at this call site and boxed 11 bytes per element.
     */
    private static void backwardSpanTailF32(MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
            long i, long to, double[] lanes) {
        VectorMask<Float> m = Lanes.FH.indexInRange(i, to);
        DoubleVector v = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, x, i * Float.BYTES, Lanes.NO, m)
                .convertShape(F2D, Lanes.D, 0);
        DoubleVector g = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, dy, i * Float.BYTES, Lanes.NO, m)
                .convertShape(F2D, Lanes.D, 0);
        VectorMask<Double> pos = v.compare(GT, 0.0);
        DoubleVector d = DoubleVector.broadcast(Lanes.D, w).blend(1.0, pos).blend(v, v.compare(NE, v)).mul(g);
        ((FloatVector) d.convertShape(D2F, Lanes.FH, 0)).intoMemorySegment(dx, i * Float.BYTES, Lanes.NO, m);
        DoubleVector.fromArray(Lanes.D, lanes, 0).add(v.mul(g).blend(0.0, pos)).intoArray(lanes, 0);
    }

    /** As {@link #backwardSpanTailF32}, float64. */
    private static void backwardSpanTailF64(MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
            long i, long to, double[] lanes) {
        VectorMask<Double> m = Lanes.D.indexInRange(i, to);
        DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, i * Double.BYTES, Lanes.NO, m);
        DoubleVector g = DoubleVector.fromMemorySegment(Lanes.D, dy, i * Double.BYTES, Lanes.NO, m);
        VectorMask<Double> pos = v.compare(GT, 0.0);
        DoubleVector d = DoubleVector.broadcast(Lanes.D, w).blend(1.0, pos).blend(v, v.compare(NE, v)).mul(g);
        d.intoMemorySegment(dx, i * Double.BYTES, Lanes.NO, m);
        DoubleVector.fromArray(Lanes.D, lanes, 0).add(v.mul(g).blend(0.0, pos)).intoArray(lanes, 0);
    }

    /**
     * Elements [from, to) with one weight, dw partial sums added to {@code dw} block by block:
     * float32 in windows ({@link #backwardWindowF32}; the whole vectors in blocks of
     * {@link Softmax#BLOCK}, the last partial vector a block of its own), float64 span by span.
     */
    static void backwardSpanBlocks(boolean f32, MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
                                   long from, long to, Pairwise dw) {
        if (f32) {
            backwardBlocksF32(x, (float) w, dy, dx, from, to, dw, BACKWARD_SCRATCH.get());
        } else {
            backwardSpanBlocks(false, x, w, dy, dx, from, to, dw, new double[Lanes.D.length()]);
        }
    }

    // ---- float32 backward in windows -----------------------------------------------------------
    // As in the forward (forwardWindowsF32), one loop runs over a window of whole vectors instead of
    // a loop per block of 512 elements (or per row): from memory, a loop that exits every 32
    // vectors ran 14 % slower than one over the whole window (0.323 against 0.277 ns per element at
    // 2^26, one weight; leaky_relu' 0.272). Each vector's block (its slot) and weight come from
    // per-window tables; the block's running lane sums are reset where the slot changes and stored
    // to the slot at every vector, so that after the window each slot holds its block's sums (no
    // load: a load-add-store chain through the slot took 1.8x the time in cache). dx is computed on float
    // lanes (one float multiply, the same bits as the double product rounded once), the dL/dw terms
    // on double lanes, low half then high half into the one accumulator: each block's lane sums are
    // the same additions in the same order as the span loop's.

    /** Vectors per backward window, as in the forward. */
    static final int BACKWARD_WINDOW_VECTORS = 1024;
    /** Slots of block sums per window: 16 KiB, in L1 (short rows take fewer rows per window). */
    static final int BACKWARD_WINDOW_SLOTS = 256;

    /** One thread's tables for the backward windows. */
    private static final class BackwardScratch {
        final float[] weights = new float[BACKWARD_WINDOW_VECTORS];
        final int[] slots = new int[BACKWARD_WINDOW_VECTORS];
        final double[] sums = new double[BACKWARD_WINDOW_SLOTS * Lanes.D.length()];
        final double[] lanes = new double[Lanes.D.length()];
    }

    private static final ThreadLocal<BackwardScratch> BACKWARD_SCRATCH = ThreadLocal.withInitial(BackwardScratch::new);

    /** Whether float32 rows of {@code inner} elements run the backward in windows: whole vectors, a window's worth. */
    static boolean backwardRunsInWindows(long inner) {
        return inner % Lanes.F.length() == 0 && inner / Lanes.F.length() <= BACKWARD_WINDOW_VECTORS;
    }

    /** {@link #backwardSpanBlocks} for float32: windows over the whole vectors, then the tail. */
    private static void backwardBlocksF32(MemorySegment x, float w, MemorySegment dy, MemorySegment dx, long from,
            long to, Pairwise dw, BackwardScratch s) {
        int lanes = Lanes.F.length();
        int sumLanes = Lanes.D.length();
        int perBlock = Softmax.BLOCK / lanes;
        long full = from + Lanes.F.loopBound(to - from);
        // Windows start at block boundaries (the window is a whole number of blocks): one pattern,
        // as long as the longest window.
        int longest = (int) Math.min(BACKWARD_WINDOW_VECTORS, (full - from) / lanes);
        for (int k = 0; k < longest; k++) {
            s.weights[k] = w;
            s.slots[k] = k / perBlock;
        }
        for (long b = from; b < full; b += (long) BACKWARD_WINDOW_VECTORS * lanes) {
            int vectors = (int) Math.min(BACKWARD_WINDOW_VECTORS, (full - b) / lanes);
            backwardWindowF32(x, dy, dx, b, vectors, s.weights, s.slots, s.sums);
            for (int slot = 0; slot * perBlock < vectors; slot++) {
                dw.add(Lanes.sum(s.sums, slot * sumLanes, sumLanes));
            }
        }
        if (full < to) {
            dw.add(backwardSpanF32(x, w, dy, dx, full, to, s.lanes));
        }
    }

    /**
     * Rows [rowFrom, rowTo) of whole float32 vectors (at most a window's worth each), the first
     * with channel {@code c}: window by window, whole rows, each row's blocks summed into its
     * channel's {@code dw} in row order, as the row loop does.
     */
    private static void backwardRowsF32(MemorySegment x, MemorySegment w, MemorySegment dy, MemorySegment dx,
            long channels, long inner, long c, long rowFrom, long rowTo, Pairwise[] dw, BackwardScratch s) {
        int lanes = Lanes.F.length();
        int sumLanes = Lanes.D.length();
        int perBlock = Softmax.BLOCK / lanes;
        int perRow = (int) (inner / lanes);
        int blocksPerRow = (perRow + perBlock - 1) / perBlock;
        int rowsPerWindow = Math.min(BACKWARD_WINDOW_VECTORS / perRow, BACKWARD_WINDOW_SLOTS / blocksPerRow);
        for (long r = rowFrom; r < rowTo; r += rowsPerWindow) {
            int rows = (int) Math.min(rowsPerWindow, rowTo - r);
            long first = c;
            for (int q = 0; q < rows; q++) {
                // Arrays.fill: C2 vectorizes it, and the tables need no Vector API code of their own.
                Arrays.fill(s.weights, q * perRow, (q + 1) * perRow, (float) weight(true, w, c));
                for (int b = 0; b < blocksPerRow; b++) {
                    int k = q * perRow + b * perBlock;
                    Arrays.fill(s.slots, k, Math.min((q + 1) * perRow, k + perBlock), q * blocksPerRow + b);
                }
                c = c + 1 == channels ? 0 : c + 1;
            }
            backwardWindowF32(x, dy, dx, r * inner, rows * perRow, s.weights, s.slots, s.sums);
            long ch = first;
            for (int q = 0; q < rows; q++) {
                for (int b = 0; b < blocksPerRow; b++) {
                    dw[(int) ch].add(Lanes.sum(s.sums, (q * blocksPerRow + b) * sumLanes, sumLanes));
                }
                ch = ch + 1 == channels ? 0 : ch + 1;
            }
        }
    }

    /**
     * One window: {@code vectors} float32 vectors from element {@code base}, vector k with weight
     * {@code weights[k]} and its dL/dw terms summed into slot {@code slots[k]} of {@code sums}
     * (slots in order, each a run of consecutive vectors).
     */
    private static void backwardWindowF32(MemorySegment x, MemorySegment dy, MemorySegment dx, long base, int vectors,
            float[] weights, int[] slots, double[] sums) {
        int lanes = Lanes.F.length();
        int sumLanes = Lanes.D.length();
        DoubleVector acc = DoubleVector.zero(Lanes.D);
        int previous = -1;
        for (int k = 0; k < vectors; k++) {
            long i = base + (long) k * lanes;
            FloatVector v = FloatVector.fromMemorySegment(Lanes.F, x, i * Float.BYTES, Lanes.NO);
            FloatVector g = FloatVector.fromMemorySegment(Lanes.F, dy, i * Float.BYTES, Lanes.NO);
            VectorMask<Float> pos = v.compare(GT, 0f);
            FloatVector d = FloatVector.broadcast(Lanes.F, weights[k]).blend(1f, pos).blend(v, v.compare(NE, v)).mul(g);
            // One NaN for every NaN: which operand's NaN a multiply returns when both are NaN could
            // depend on how the JIT ordered them.
            d.blend(Float.NaN, d.compare(NE, d)).reinterpretShape(Lanes.B, 0).intoMemorySegment(dx, i * Float.BYTES, Lanes.NO);
            // dL/dw's term is x dy where x <= 0 (or NaN), else 0 whatever dy is (inf or NaN too):
            // both factors are zeroed there, so the term is 0 * 0.
            FloatVector t = v.blend(0f, pos);
            FloatVector u = g.blend(0f, pos);
            DoubleVector tLow = (DoubleVector) t.convertShape(F2D, Lanes.D, 0);
            DoubleVector tHigh = (DoubleVector) t.convertShape(F2D, Lanes.D, 1);
            DoubleVector gLow = (DoubleVector) u.convertShape(F2D, Lanes.D, 0);
            DoubleVector gHigh = (DoubleVector) u.convertShape(F2D, Lanes.D, 1);
            int slot = slots[k];
            acc = acc.blend(0.0, Lanes.D.maskAll(slot != previous)).add(tLow.mul(gLow)).add(tHigh.mul(gHigh));
            previous = slot;
            acc.intoArray(sums, slot * sumLanes);
        }
    }

    private static void backwardSpanBlocks(boolean f32, MemorySegment x, double w, MemorySegment dy, MemorySegment dx,
                                           long from, long to, Pairwise dw, double[] lanes) {
        for (long b = from; b < to; b += Softmax.BLOCK) {
            dw.add(backwardSpan(f32, x, w, dy, dx, b, Math.min(to, b + Softmax.BLOCK), lanes));
        }
    }

    /** As {@link #forwardRows}: the segments' row 0 is the tensor's row {@code origin}. */
    static void backwardRows(boolean f32, MemorySegment x, MemorySegment w, MemorySegment dy, MemorySegment dx,
                             long channels, long inner, long origin, long rowFrom, long rowTo, Pairwise[] dw) {
        long c = (origin + rowFrom) % channels;
        if (f32 && backwardRunsInWindows(inner)) {
            backwardRowsF32(x, w, dy, dx, channels, inner, c, rowFrom, rowTo, dw, BACKWARD_SCRATCH.get());
            return;
        }
        double[] lanes = new double[Lanes.D.length()];
        for (long r = rowFrom; r < rowTo; r++) {
            backwardSpanBlocks(f32, x, weight(f32, w, c), dy, dx, r * inner, (r + 1) * inner, dw[(int) c], lanes);
            c = c + 1 == channels ? 0 : c + 1;
        }
    }

    /**
     * Rows per block in the channels-last backward: each channel's dw terms are summed serially over
     * a block (in vector lanes), and the block sums pairwise (as the other layouts sum blocks of
     * {@link Softmax#BLOCK} elements). One pairwise add per element made this layout ten times
     * slower than the others (2.9 ns per element in cache).
     */
    private static final int CHANNELS_LAST_BLOCK_ROWS = 64;

    /**
     * (outer, channels) layout: dw lanes line up with channels; one Pairwise per channel.
     * One loop per element type, each with its loads and stores written out: in one loop for both,
     * a process that had run both compiled both, C2 passed its node cutoff and left the dx store
     * out of line, boxing every vector (51 bytes allocated per element;
     * NoBoxingAfterEveryKernelTest). Same operations, same bits.
     */
    static void backwardChannelsLast(boolean f32, MemorySegment x, MemorySegment w, MemorySegment dy,
                                     MemorySegment dx, long channels, long rowFrom, long rowTo, Pairwise[] dw) {
        if (f32) {
            backwardChannelsLastFloats(x, w, dy, dx, channels, rowFrom, rowTo, dw);
        } else {
            backwardChannelsLastDoubles(x, w, dy, dx, channels, rowFrom, rowTo, dw);
        }
    }

    private static void backwardChannelsLastFloats(MemorySegment x, MemorySegment w, MemorySegment dy,
                                                   MemorySegment dx, long channels, long rowFrom, long rowTo,
                                                   Pairwise[] dw) {
        int lanes = Lanes.D.length();
        double[] block = new double[(int) channels];
        for (long r0 = rowFrom; r0 < rowTo; r0 += CHANNELS_LAST_BLOCK_ROWS) {
            long r1 = Math.min(rowTo, r0 + CHANNELS_LAST_BLOCK_ROWS);
            for (long r = r0; r < r1; r++) {
                long base = r * channels;
                for (int c = 0; c < channels; c += lanes) {
                    int cEnd = (int) Math.min(channels, c + lanes);
                    VectorMask<Float> m = Lanes.FH.indexInRange(c, cEnd);
                    VectorMask<Double> md = Lanes.D.indexInRange(c, cEnd);
                    DoubleVector v = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, x, (base + c) * Float.BYTES, Lanes.NO, m)
                            .convertShape(F2D, Lanes.D, 0);
                    DoubleVector g = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, dy, (base + c) * Float.BYTES, Lanes.NO, m)
                            .convertShape(F2D, Lanes.D, 0);
                    DoubleVector wv = (DoubleVector) FloatVector.fromMemorySegment(Lanes.FH, w, c * Float.BYTES, Lanes.NO, m)
                            .convertShape(F2D, Lanes.D, 0);
                    VectorMask<Double> pos = v.compare(GT, 0.0);
                    DoubleVector d = wv.blend(1.0, pos).blend(v, v.compare(NE, v)).mul(g);
                    ((FloatVector) d.convertShape(D2F, Lanes.FH, 0)).intoMemorySegment(dx, (base + c) * Float.BYTES, Lanes.NO, m);
                    DoubleVector.fromArray(Lanes.D, block, c, md).add(v.mul(g).blend(0.0, pos)).intoArray(block, c, md);
                }
            }
            addBlock(block, dw);
        }
    }

    private static void backwardChannelsLastDoubles(MemorySegment x, MemorySegment w, MemorySegment dy,
                                                    MemorySegment dx, long channels, long rowFrom, long rowTo,
                                                    Pairwise[] dw) {
        int lanes = Lanes.D.length();
        double[] block = new double[(int) channels];
        for (long r0 = rowFrom; r0 < rowTo; r0 += CHANNELS_LAST_BLOCK_ROWS) {
            long r1 = Math.min(rowTo, r0 + CHANNELS_LAST_BLOCK_ROWS);
            for (long r = r0; r < r1; r++) {
                long base = r * channels;
                for (int c = 0; c < channels; c += lanes) {
                    int cEnd = (int) Math.min(channels, c + lanes);
                    VectorMask<Double> m = Lanes.D.indexInRange(c, cEnd);
                    DoubleVector v = DoubleVector.fromMemorySegment(Lanes.D, x, (base + c) * Double.BYTES, Lanes.NO, m);
                    DoubleVector g = DoubleVector.fromMemorySegment(Lanes.D, dy, (base + c) * Double.BYTES, Lanes.NO, m);
                    DoubleVector wv = DoubleVector.fromMemorySegment(Lanes.D, w, c * Double.BYTES, Lanes.NO, m);
                    VectorMask<Double> pos = v.compare(GT, 0.0);
                    DoubleVector d = wv.blend(1.0, pos).blend(v, v.compare(NE, v)).mul(g);
                    d.intoMemorySegment(dx, (base + c) * Double.BYTES, Lanes.NO, m);
                    DoubleVector.fromArray(Lanes.D, block, c, m).add(v.mul(g).blend(0.0, pos)).intoArray(block, c, m);
                }
            }
            addBlock(block, dw);
        }
    }

    /** Each channel's block sum into its pairwise accumulator; the block is zeroed for the next. */
    private static void addBlock(double[] block, Pairwise[] dw) {
        for (int c = 0; c < block.length; c++) {
            dw[c].add(block[c]);
            block[c] = 0.0;
        }
    }
}
