package dev.soma;

/**
 * PReLU's two gradients.
 *
 * @param dx dL/dx, the shape of x
 * @param dw dL/dw, the shape of the weight: each channel's sum over batch and spatial positions
 */
public record PreluGradients(Tensor dx, Tensor dw) {

    public PreluGradients {
        if (dx == null || dw == null) {
            throw new NullPointerException((dx == null ? "dx" : "dw") + " is null; PReLU has both gradients, pass both");
        }
    }
}
