package dev.soma.fallback;

import dev.soma.op.DType;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;

/**
 * Every Soma op on the CPU, over flat, contiguous, native-order memory. Two implementations exist:
 * the scalar reference (computes in double with well-conditioned formulas; the truth every test
 * compares to) and the Vector API fast path. {@link CpuKernelsProvider} picks one at start-up.
 *
 * <p>Conventions shared by every method:
 * <ul>
 *   <li>A segment holds elements of type {@code t} in native byte order, element {@code i} at byte
 *       {@code i * t.byteSize()}; segments may be heap ({@code MemorySegment.ofArray}) or native.</li>
 *   <li>An output may be the same segment as an input (in place); outputs never partially overlap inputs.</li>
 *   <li>Element counts are {@code long}: off-heap tensors may exceed 2^31 elements.</li>
 *   <li>Arguments are already validated by the caller (shapes, lengths, parameters).</li>
 *   <li>Implementations are thread-safe and may use several threads internally.</li>
 * </ul>
 */
public interface CpuKernels {

    /** Short name for logs and reports: "scalar" or "vector". */
    String name();

    /** Elementwise forward: {@code y[i] = f(x[i])} for {@code i < n}. Not for PReLU or softmax ops. */
    void forward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long n);

    /** Elementwise backward: {@code dx[i] = f'(x[i]) * dy[i]} for {@code i < n}. */
    void backward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx, long n);

    /**
     * PReLU forward over a tensor viewed as {@code (outer, channels, inner)}:
     * {@code y = x > 0 ? x : w[c] * x} where {@code w} has {@code weightCount} elements (1 or channels).
     */
    void preluForward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment y,
                      long outer, long channels, long inner);

    /**
     * PReLU backward: writes {@code dx} (shape of x) and {@code dw} ({@code weightCount} elements,
     * overwritten, each the sum over every element of its channel, or of all elements when
     * {@code weightCount == 1}).
     */
    void preluBackward(DType t, MemorySegment x, MemorySegment w, long weightCount, MemorySegment dy,
                       MemorySegment dx, MemorySegment dw, long outer, long channels, long inner);

    /**
     * Softmax or log-softmax ({@code args.op()}) over a tensor viewed as {@code (outer, len, inner)},
     * normalising along the middle dimension: row {@code (o, i)} is the elements
     * {@code x[(o * len + k) * inner + i]} for {@code k < len}. Honours {@code args.safe()}.
     */
    void softmaxForward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long outer, long len, long inner);

    /**
     * Backward of softmax or log-softmax from the input {@code x} (the forward is recomputed) and
     * {@code dy}, in the same {@code (outer, len, inner)} view.
     */
    void softmaxBackward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx,
                         long outer, long len, long inner);
}
