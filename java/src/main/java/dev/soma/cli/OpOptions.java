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
            description = {"The activation: one of ${COMPLETION-CANDIDATES}.",
                "apply: repeat to chain ops (--op gelu --op softmax), run in order on each chunk while it is on the device."},
            completionCandidates = OpNames.class)
    List<Op> ops;

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

    /** The one op's arguments (commands that take a single --op), every given parameter checked against it. */
    OpArgs toArgs() {
        if (ops.size() != 1) {
            throw new UsageException("this command takes one --op, got " + ops.size() + "; chains are for 'soma apply'");
        }
        return toChain().get(0);
    }

    /**
     * The arguments of every --op in order. Each op takes the parameters it accepts; a parameter no
     * op of the chain takes is refused, not ignored: a typo in a script should not silently
     * compute something else.
     */
    List<OpArgs> toChain() {
        List<OpArgs> chain = new ArrayList<>();
        List<String> used = new ArrayList<>();
        try {
            for (Op op : ops) {
                OpArgs a = OpArgs.of(op);
                if (alpha != null && op.takes(Param.ALPHA)) {
                    a = a.withAlpha(alpha);
                    used.add("--alpha");
                }
                if (beta != null && op.takes(Param.BETA)) {
                    a = a.withBeta(beta);
                    used.add("--beta");
                }
                if (threshold != null && op.takes(Param.THRESHOLD)) {
                    a = a.withThreshold(threshold);
                    used.add("--threshold");
                }
                if (axis != null && op.takes(Param.AXIS)) {
                    a = a.withAxis(axis);
                    used.add("--axis");
                }
                if (safe && op.takes(Param.SAFE)) {
                    a = a.withSafe(true);
                    used.add("--safe");
                }
                chain.add(a);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<String> refused = new ArrayList<>();
        addIfUnused(refused, used, alpha != null, "--alpha");
        addIfUnused(refused, used, beta != null, "--beta");
        addIfUnused(refused, used, threshold != null, "--threshold");
        addIfUnused(refused, used, axis != null, "--axis");
        addIfUnused(refused, used, safe, "--safe");
        boolean prelu = ops.contains(Op.PRELU);
        if (weight != null && !prelu) {
            refused.add("--weight");
        }
        if (!refused.isEmpty()) {
            String what = ops.size() == 1 ? ops.get(0) + ", which takes " + accepted(ops.get(0))
                    : "any op of the chain " + ops;
            throw new UsageException(String.join(", ", refused) + (refused.size() == 1 ? " does" : " do")
                    + " not apply to " + what);
        }
        if (prelu && weight == null) {
            throw new UsageException("prelu needs --weight W.npy: a 1-D array of 1 weight or one per channel (axis 1)");
        }
        return chain;
    }

    private static void addIfUnused(List<String> refused, List<String> used, boolean given, String name) {
        if (given && !used.contains(name)) {
            refused.add(name);
        }
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
