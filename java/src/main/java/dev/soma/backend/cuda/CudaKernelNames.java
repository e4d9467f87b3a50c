package dev.soma.backend.cuda;

import dev.soma.op.DType;
import dev.soma.op.Family;
import dev.soma.op.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code extern "C"} names of the kernels in cuda/kernels, built from the op catalogue. The
 * kernel sources spell the same names out; a test parses them and checks both sides agree.
 */
public final class CudaKernelNames {
    /** Elements per lane the warp softmax kernels are compiled for. */
    static final int[] WARP_LANE_COUNTS = {1, 2, 4, 8, 16, 32};

    private CudaKernelNames() {
    }

    static String suffix(DType t) {
        return t == DType.F32 ? "f32" : "f64";
    }

    public static String elementwiseForward(Op op, DType t) {
        return "soma_fwd_" + suffix(t) + "_" + op.id();
    }

    public static String elementwiseBackward(Op op, DType t) {
        return "soma_bwd_" + suffix(t) + "_" + op.id();
    }

    /** The multi-tensor elementwise kernels (op code as an argument). */
    public static String multiForward(DType t) {
        return "soma_multi_fwd_" + suffix(t);
    }

    public static String multiBackward(DType t) {
        return "soma_multi_bwd_" + suffix(t);
    }

    public static String preluForward(DType t) {
        return "soma_prelu_fwd_" + suffix(t);
    }

    public static String preluBackwardDx(DType t) {
        return "soma_prelu_bwd_dx_" + suffix(t);
    }

    public static String preluWeightPartial(DType t) {
        return "soma_prelu_dw_partial_" + suffix(t);
    }

    public static String preluWeightFinal(DType t) {
        return "soma_prelu_dw_final_" + suffix(t);
    }

    /**
     * A softmax kernel; {@code perLane} (elements per lane) matters for {@link SoftmaxVariant#WARP} only.
     */
    public static String softmax(SoftmaxVariant v, boolean backward, DType t, int perLane) {
        String base = "soma_softmax_" + v.name().toLowerCase(java.util.Locale.ROOT) + (backward ? "_bwd_" : "_") + suffix(t);
        return v == SoftmaxVariant.WARP ? base + "_k" + perLane : base;
    }

    /** Every kernel name the Java side may look up. */
    public static List<String> all() {
        List<String> names = new ArrayList<>();
        for (DType t : DType.values()) {
            for (Op op : Op.values()) {
                if (op.family() == Family.ELEMENTWISE) {
                    names.add(elementwiseForward(op, t));
                    names.add(elementwiseBackward(op, t));
                }
            }
            names.add("soma_softmax_piece_stats_" + suffix(t));
            names.add("soma_softmax_piece_apply_" + suffix(t));
            names.add("soma_softmax_piece_dot_" + suffix(t));
            names.add("soma_softmax_piece_bwd_" + suffix(t));
            names.add(multiForward(t));
            names.add(multiBackward(t));
            names.add(preluForward(t));
            names.add(preluBackwardDx(t));
            names.add(preluWeightPartial(t));
            names.add(preluWeightFinal(t));
            for (SoftmaxVariant v : SoftmaxVariant.values()) {
                for (boolean bwd : new boolean[] {false, true}) {
                    if (v == SoftmaxVariant.WARP) {
                        for (int k : WARP_LANE_COUNTS) {
                            if (32 * k <= SoftmaxVariant.warpMaxLength(t)) {
                                names.add(softmax(v, bwd, t, k));
                            }
                        }
                    } else {
                        names.add(softmax(v, bwd, t, 0));
                    }
                }
            }
        }
        return names;
    }
}
