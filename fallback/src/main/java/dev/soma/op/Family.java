package dev.soma.op;

/**
 * How an op reads its input: the one thing every backend must know to dispatch it.
 * Elementwise ops map each element on its own; PReLU also reads a per-channel weight;
 * softmax-like ops reduce along one axis.
 */
public enum Family {
    /** y[i] = f(x[i]) with scalar parameters only. */
    ELEMENTWISE,
    /** y[i] = f(x[i], w[channel(i)]): PReLU, channel = index along axis 1. */
    CHANNEL_WEIGHTED,
    /** Normalised along one axis: softmax, log_softmax. */
    ROW_REDUCTION
}
