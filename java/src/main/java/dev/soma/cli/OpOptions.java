package dev.soma.cli;

import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.op.Param;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The op and its parameters, shared by {@code apply} and {@code backward}. Names and defaults are
 * PyTorch's. A parameter the op does not take is refused, not ignored: a typo in a script should
 * not silently compute something else.
 */
final class OpOptions {

    @Option(names = "--op", required = true, paramLabel = "OP", converter = OpConverter.class,
            description = "The activation: one of ${COMPLETION-CANDIDATES}.", completionCandidates = OpNames.class)
    Op op;

    @Option(names = "--alpha", paramLabel = "A",
            description = "Negative slope (leaky_relu, default 0.01) or scale (elu, celu, default 1).")
    Double alpha;

    @Option(names = "--beta", paramLabel = "B", description = "softplus sharpness (default 1).")
    Double beta;

    @Option(names = "--threshold", paramLabel = "T",
            description = "softplus is the identity where beta*x > T (default 20).")
    Double threshold;

    @Option(names = "--axis", paramLabel = "K",
            description = "softmax/log_softmax axis; negative counts from the end (default -1).")
    Integer axis;

    @Option(names = "--safe", description = "softmax/log_softmax: a fully masked (all -inf) row gives zeros, not NaN.")
    boolean safe;

    @Option(names = "--weight", paramLabel = "W.npy",
            description = "prelu's weight: a 1-D .npy of 1 or C values (C = size of axis 1 of the input).")
    Path weight;

    /** The op's arguments, with every given parameter checked against the op. */
    OpArgs toArgs() {
        List<String> refused = new ArrayList<>();
        OpArgs a = OpArgs.of(op);
        try {
            if (alpha != null) {
                a = op.takes(Param.ALPHA) ? a.withAlpha(alpha) : refuse(refused, "--alpha", a);
            }
            if (beta != null) {
                a = op.takes(Param.BETA) ? a.withBeta(beta) : refuse(refused, "--beta", a);
            }
            if (threshold != null) {
                a = op.takes(Param.THRESHOLD) ? a.withThreshold(threshold) : refuse(refused, "--threshold", a);
            }
            if (axis != null) {
                a = op.takes(Param.AXIS) ? a.withAxis(axis) : refuse(refused, "--axis", a);
            }
            if (safe) {
                a = op.takes(Param.SAFE) ? a.withSafe(true) : refuse(refused, "--safe", a);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (weight != null && op != Op.PRELU) {
            refused.add("--weight");
        }
        if (!refused.isEmpty()) {
            throw new UsageException(String.join(", ", refused) + (refused.size() == 1 ? " does" : " do")
                    + " not apply to " + op + ", which takes " + accepted(op));
        }
        if (op == Op.PRELU && weight == null) {
            throw new UsageException("prelu needs --weight W.npy: a 1-D array of 1 weight or one per channel (axis 1)");
        }
        return a;
    }

    /** Checks the axis against the input's rank, as a usage error. */
    static void checkAxis(OpArgs a, int rank, String file) {
        if (a.op().takes(Param.AXIS)) {
            try {
                a.resolveAxis(rank);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--axis " + a.axis() + " does not fit " + file + ": " + e.getMessage());
            }
        }
    }

    private static OpArgs refuse(List<String> refused, String option, OpArgs a) {
        refused.add(option);
        return a;
    }

    /** "no parameters", "--alpha", "--beta and --threshold", "--weight". */
    static String accepted(Op op) {
        List<String> names = new ArrayList<>();
        for (Param p : op.params()) {
            names.add("--" + p.cliName());
        }
        if (names.isEmpty()) {
            return "no parameters";
        }
        if (names.size() == 1) {
            return "only " + names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1);
    }

    /** Parses op names with {@link Op#byId}: case-insensitive, '-' for '_'. */
    static final class OpConverter implements ITypeConverter<Op> {
        @Override
        public Op convert(String value) {
            try {
                return Op.byId(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** The op names, for help text and shell completion. */
    static final class OpNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        OpNames() {
            for (Op o : Op.values()) {
                add(o.id());
            }
        }
    }
}
