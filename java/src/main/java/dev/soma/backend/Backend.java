package dev.soma.backend;

import dev.soma.Tensor;
import dev.soma.op.OpArgs;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * One place ops run: the CPU, or one OpenCL or CUDA device. The {@link dev.soma.Engine} validates
 * every argument before calling in, so implementations may assume: shapes of x, y, dy and dx are
 * equal, all dtypes are equal, {@code weight} is non-null exactly for PReLU and has 1 or C
 * elements, the axis has been checked. Implementations are thread-safe and own every native
 * resource they allocate until {@link #close()}.
 */
public interface Backend extends AutoCloseable {

    BackendKind kind();

    /** The device in words, for logs and reports ("PoCL pthread-skylake-avx512 (OpenCL CPU)"). */
    String description();

    /** {@code y = op(x)}; {@code y} may be {@code x} (in place). {@code weight} is PReLU's, else null. */
    void forward(OpArgs args, Tensor x, Tensor weight, Tensor y);

    /**
     * {@code dx = dL/dx} from {@code x} and {@code dy}; for PReLU also {@code dw = dL/dw} (else
     * {@code dw} is null). {@code dx} may alias {@code x} or {@code dy}.
     */
    void backward(OpArgs args, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dw);

    /**
     * {@code y = steps[n-1](... steps[0](x))}: a chain of forward ops; {@code y} may be {@code x}.
     * GPU backends run the whole chain on each chunk while it is on the device (one trip over the
     * bus); this default runs the steps one after another, the later ones in place on {@code y}.
     *
     * @param progress told the output bytes done so far, now and then; may be null
     */
    default void forwardChain(List<ChainStep> steps, Tensor x, Tensor y, LongConsumer progress) {
        Tensor in = x;
        for (ChainStep s : steps) {
            forward(s.args(), in, s.weight(), y);
            in = y;
        }
        if (progress != null) {
            progress.accept(y.byteSize());
        }
    }

    /**
     * {@code ys[i] = op(xs[i])} for many tensors of one dtype (elementwise ops only): GPU backends
     * run one launch over a table of offsets, the CPU one parallel task set. This default loops.
     */
    default void forwardMany(OpArgs args, List<Tensor> xs, List<Tensor> ys) {
        for (int i = 0; i < xs.size(); i++) {
            forward(args, xs.get(i), null, ys.get(i));
        }
    }

    /** {@code dxs[i] = op'(xs[i]) dys[i]} for many tensors (elementwise ops only); see {@link #forwardMany}. */
    default void backwardMany(OpArgs args, List<Tensor> xs, List<Tensor> dys, List<Tensor> dxs) {
        for (int i = 0; i < xs.size(); i++) {
            backward(args, xs.get(i), null, dys.get(i), dxs.get(i), null);
        }
    }

    /** Frees every native resource; idempotent. */
    @Override
    void close();
}
