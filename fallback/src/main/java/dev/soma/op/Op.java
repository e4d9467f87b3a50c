package dev.soma.op;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The op catalogue: every activation Soma computes, with its family, parameters and PyTorch defaults.
 * This enum is the one place an op is declared; backends dispatch on {@link #family()} and
 * {@link #ordinal()} (the kernels' op code), and validation lives in {@link OpArgs}.
 * See shared/semantics.md for each op's formula and edge cases.
 */
public enum Op {
    SIGMOID("sigmoid", Family.ELEMENTWISE, Double.NaN),
    TANH("tanh", Family.ELEMENTWISE, Double.NaN),
    RELU("relu", Family.ELEMENTWISE, Double.NaN),
    LEAKY_RELU("leaky_relu", Family.ELEMENTWISE, 0.01, Param.ALPHA),
    PRELU("prelu", Family.CHANNEL_WEIGHTED, Double.NaN, Param.WEIGHT),
    ELU("elu", Family.ELEMENTWISE, 1.0, Param.ALPHA),
    CELU("celu", Family.ELEMENTWISE, 1.0, Param.ALPHA),
    SELU("selu", Family.ELEMENTWISE, Double.NaN),
    GELU("gelu", Family.ELEMENTWISE, Double.NaN),
    GELU_TANH("gelu_tanh", Family.ELEMENTWISE, Double.NaN),
    SILU("silu", Family.ELEMENTWISE, Double.NaN),
    SOFTPLUS("softplus", Family.ELEMENTWISE, Double.NaN, Param.BETA, Param.THRESHOLD),
    MISH("mish", Family.ELEMENTWISE, Double.NaN),
    RELU6("relu6", Family.ELEMENTWISE, Double.NaN),
    HARDSIGMOID("hardsigmoid", Family.ELEMENTWISE, Double.NaN),
    HARDSWISH("hardswish", Family.ELEMENTWISE, Double.NaN),
    SOFTMAX("softmax", Family.ROW_REDUCTION, Double.NaN, Param.AXIS, Param.SAFE),
    LOG_SOFTMAX("log_softmax", Family.ROW_REDUCTION, Double.NaN, Param.AXIS, Param.SAFE);

    /** SELU's fixed scale, λ (PyTorch's constant). */
    public static final double SELU_SCALE = 1.0507009873554804934193349852946;
    /** SELU's fixed α (PyTorch's constant). */
    public static final double SELU_ALPHA = 1.6732632423543772848170429916717;
    /** PyTorch's softplus defaults. */
    public static final double DEFAULT_BETA = 1.0;
    public static final double DEFAULT_THRESHOLD = 20.0;
    /** PyTorch's softmax default axis: the last. */
    public static final int DEFAULT_AXIS = -1;

    private final String id;
    private final Family family;
    private final double defaultAlpha;
    private final Set<Param> params;

    Op(String id, Family family, double defaultAlpha, Param... params) {
        this.id = id;
        this.family = family;
        this.defaultAlpha = defaultAlpha;
        this.params = params.length == 0 ? EnumSet.noneOf(Param.class) : EnumSet.copyOf(Arrays.asList(params));
    }

    /** The op's name as in PyTorch's functional API and the CLI ("leaky_relu"). */
    public String id() {
        return id;
    }

    public Family family() {
        return family;
    }

    /** The parameters this op accepts; any other is refused. */
    public Set<Param> params() {
        return params;
    }

    public boolean takes(Param p) {
        return params.contains(p);
    }

    /** PyTorch's default α for ops that take one; NaN for the others. */
    public double defaultAlpha() {
        return defaultAlpha;
    }

    /** Arguments with every parameter at PyTorch's default. */
    public OpArgs defaults() {
        return OpArgs.of(this);
    }

    @Override
    public String toString() {
        return id;
    }

    /**
     * Looks an op up by its PyTorch name, case-insensitively; '-' is accepted for '_'.
     *
     * @throws IllegalArgumentException naming the known ops when the name is unknown
     * @throws NullPointerException     when the name is null
     */
    public static Op byId(String name) {
        if (name == null) {
            throw new NullPointerException("op name is null; expected one of " + names());
        }
        String key = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Op op : values()) {
            if (op.id.equals(key)) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown op '" + name + "'; expected one of " + names());
    }

    /** Comma-separated list of every op name, for messages and help text. */
    public static String names() {
        return Arrays.stream(values()).map(Op::id).collect(Collectors.joining(", "));
    }
}
