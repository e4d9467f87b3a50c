package dev.soma.op;

/** The parameters an op may take, named as in PyTorch (and as the CLI's options). */
public enum Param {
    /** Negative slope or saturation scale (leaky_relu, elu, celu). */
    ALPHA("alpha"),
    /** Softplus sharpness. */
    BETA("beta"),
    /** Softplus switches to the identity where beta*x exceeds this. */
    THRESHOLD("threshold"),
    /** The axis softmax normalises along; negative counts from the end. */
    AXIS("axis"),
    /** Softmax: an all -inf row gives zeros instead of NaN (a fully masked attention row). */
    SAFE("safe"),
    /** PReLU's learned slope, one per channel or one for all. */
    WEIGHT("weight");

    private final String cliName;

    Param(String cliName) {
        this.cliName = cliName;
    }

    /** The PyTorch keyword and CLI option name. */
    public String cliName() {
        return cliName;
    }
}
