package dev.soma.backend.opencl;

import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import org.hipparchus.special.Erf;

/**
 * A float64 reference for the OpenCL tests, written independently of soma_math.h (different
 * formulas where the header has a choice: sech^2 from cosh, the tanh form of gelu_tanh's
 * derivative) and following semantics.md: NaN in gives NaN out, the limits at +-inf, PyTorch's
 * kink subgradients. It stands in until the shared scalar reference (ScalarKernels) is merged.
 */
final class OpenClReference {
    private static final double SQRT1_2 = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double SQRT_2_PI = Math.sqrt(2 / Math.PI);

    private OpenClReference() {
    }

    static double forward(OpArgs a, double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double al = a.alpha();
        return switch (a.op()) {
            case SIGMOID -> sigmoid(x);
            case TANH -> Math.tanh(x);
            case RELU -> x > 0 ? x : 0;
            case LEAKY_RELU -> x > 0 ? x : al * x;
            case ELU -> x > 0 ? x : al * Math.expm1(x);
            case CELU -> x > 0 ? x : al * Math.expm1(x / al);
            case SELU -> Op.SELU_SCALE * (x > 0 ? x : Op.SELU_ALPHA * Math.expm1(x));
            case GELU -> x == Double.NEGATIVE_INFINITY ? 0 : 0.5 * x * Erf.erfc(-x * SQRT1_2);
            case GELU_TANH -> x == Double.NEGATIVE_INFINITY ? 0 : x * sigmoid(2 * geluTanhArg(x));
            case SILU -> x == Double.NEGATIVE_INFINITY ? 0 : x * sigmoid(x);
            case SOFTPLUS -> softplus(x, a.beta(), a.threshold());
            case MISH -> x == Double.NEGATIVE_INFINITY ? 0 : x * Math.tanh(softplus(x, 1, Double.POSITIVE_INFINITY));
            case RELU6 -> Math.min(Math.max(x, 0), 6);
            case HARDSIGMOID -> Math.min(Math.max(x / 6 + 0.5, 0), 1);
            case HARDSWISH -> x <= -3 ? 0 : (x >= 3 ? x : x * (x + 3) / 6);
            default -> throw new IllegalArgumentException(a.op() + " is not elementwise");
        };
    }

    static double derivative(OpArgs a, double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double al = a.alpha();
        boolean posInf = x == Double.POSITIVE_INFINITY;
        boolean inf = Double.isInfinite(x);
        return switch (a.op()) {
            case SIGMOID -> sigmoid(x) * sigmoid(-x);
            case TANH -> sech2(x);
            case RELU -> x > 0 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : al;
            case ELU -> x > 0 ? 1 : al * Math.exp(x);
            case CELU -> x > 0 ? 1 : Math.exp(x / al);
            case SELU -> x > 0 ? Op.SELU_SCALE : Op.SELU_SCALE * Op.SELU_ALPHA * Math.exp(x);
            case GELU -> inf ? (posInf ? 1 : 0)
                    : 0.5 * Erf.erfc(-x * SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
            case GELU_TANH -> {
                if (Math.abs(x) > 1e6) {
                    yield x > 0 ? 1 : 0;
                }
                double u = geluTanhArg(x);
                double du = SQRT_2_PI * (1 + 3 * 0.044715 * x * x);
                yield sigmoid(2 * u) + 0.5 * x * sech2(u) * du;
            }
            case SILU -> inf ? (posInf ? 1 : 0) : sigmoid(x) * (1 + x * sigmoid(-x));
            case SOFTPLUS -> a.beta() * x > a.threshold() ? 1 : sigmoid(a.beta() * x);
            case MISH -> {
                if (inf) {
                    yield posInf ? 1 : 0;
                }
                double sp = softplus(x, 1, Double.POSITIVE_INFINITY);
                yield Math.tanh(sp) + x * sech2(sp) * sigmoid(x);
            }
            case RELU6 -> x > 0 && x < 6 ? 1 : 0;
            case HARDSIGMOID -> x > -3 && x < 3 ? 1.0 / 6 : 0;
            case HARDSWISH -> x < -3 ? 0 : (x <= 3 ? (2 * x + 3) / 6 : 1);
            default -> throw new IllegalArgumentException(a.op() + " is not elementwise");
        };
    }

    static double backward(OpArgs a, double x, double dy) {
        return Double.isNaN(x) ? x : derivative(a, x) * dy;
    }

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }

    /** 1 / cosh^2 x; cosh overflows to inf beyond |x| ~ 710, giving the right limit 0. */
    private static double sech2(double x) {
        double c = Math.cosh(x);
        return 1 / (c * c);
    }

    private static double geluTanhArg(double x) {
        return SQRT_2_PI * (x + 0.044715 * x * x * x);
    }

    private static double softplus(double x, double beta, double threshold) {
        double bx = beta * x;
        if (bx > threshold) {
            return x;
        }
        return (Math.max(bx, 0) + Math.log1p(Math.exp(-Math.abs(bx)))) / beta;
    }

    /**
     * Softmax or log-softmax of one row (forward), or its backward from x and dy, in double.
     * A NaN or +inf in the row gives a NaN row; an all -inf row gives NaN, or zeros when safe.
     */
    static double[] softmaxRow(boolean log, boolean safe, double[] x, double[] dy) {
        int n = x.length;
        double[] out = new double[n];
        double m = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            if (Double.isNaN(v)) {
                m = Double.NaN;
                break;
            }
            m = Math.max(m, v);
        }
        if (safe && m == Double.NEGATIVE_INFINITY) {
            return out;
        }
        double s = 0;
        for (double v : x) {
            s += Math.exp(v - m);
        }
        double dot = 0;
        if (dy != null) {
            for (int k = 0; k < n; k++) {
                dot += log ? dy[k] : Math.exp(x[k] - m) / s * dy[k];
            }
        }
        for (int k = 0; k < n; k++) {
            double p = Math.exp(x[k] - m) / s;
            if (dy == null) {
                out[k] = log ? x[k] - m - Math.log(s) : p;
            } else {
                out[k] = log ? dy[k] - p * dot : p * (dy[k] - dot);
            }
        }
        return out;
    }
}
