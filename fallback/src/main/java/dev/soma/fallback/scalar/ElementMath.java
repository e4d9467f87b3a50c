package dev.soma.fallback.scalar;

import dev.soma.op.Op;
import dev.soma.op.OpArgs;

/**
 * The per-element math of every elementwise op, forward and backward, in double: the definition
 * the scalar reference applies and every other path is tested against (see shared/semantics.md).
 *
 * <p>Conventions:
 * <ul>
 *   <li>NaN in gives NaN out, forward and backward, also where PyTorch lets the gradient through.</li>
 *   <li>Infinite inputs give the limit (gelu(-inf) = 0, silu'(+inf) = 1, ...).</li>
 *   <li>{@code backward} returns {@code f'(x) * dy}, one IEEE product: a NaN {@code dy} gives NaN,
 *       and an infinite {@code dy} where {@code f'(x) = 0} gives NaN too (no branch swallows it).</li>
 *   <li>Kink subgradients follow PyTorch's CPU kernels: relu'(0) = 0, leaky_relu'(0) = alpha,
 *       relu6'(0) = relu6'(6) = 0, hardsigmoid' = 1/6 strictly inside (-3, 3),
 *       hardswish' = x/3 + 1/2 on the closed [-3, 3] (so -1/2 at -3 and 3/2 at 3), 0 below, 1 above;
 *       the exponential branch at 0 for elu, celu, selu.</li>
 *   <li>Well-conditioned forms throughout: expm1, log1p, erfc, sigmoid(x) * sigmoid(-x),
 *       sech^2 from exp(-2|x|), 1 + tanh(u) as 2 sigmoid(2u).</li>
 * </ul>
 * A float32 result is this double value rounded once, so a true result beyond the float range
 * becomes +-inf (selu(3.4e38f) = +inf).
 */
public final class ElementMath {
    private static final double SQRT_HALF = 0.7071067811865476;
    /** 1/sqrt(2 pi), for the normal density. */
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    /** sqrt(2/pi), GELU's tanh approximation. */
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;
    private static final double GELU_TANH_C = 0.044715;
    private static final double SELU_LAMBDA = Op.SELU_SCALE;
    private static final double SELU_ALPHA = Op.SELU_ALPHA;
    private static final double SELU_LAMBDA_ALPHA = Op.SELU_SCALE * Op.SELU_ALPHA;
    /** Beyond this, e^z overflows double: celu with negative alpha switches to a log-shifted form. */
    private static final double EXP_SAFE = 700.0;

    private static final Op[] OPS = Op.values();

    private ElementMath() {
    }

    /** {@code f(x)} for the elementwise op of {@code args}. */
    public static double forward(OpArgs args, double x) {
        return forward(args.op().ordinal(), x, args.alpha(), args.beta(), args.threshold());
    }

    /** {@code f'(x) * dy} for the elementwise op of {@code args}. */
    public static double backward(OpArgs args, double x, double dy) {
        return backward(args.op().ordinal(), x, dy, args.alpha(), args.beta(), args.threshold());
    }

    /**
     * {@code f(x)} by op code ({@link Op#ordinal()}), the same signature as soma_math.h's
     * {@code soma_fwd_d}. Parameters an op does not take are ignored.
     *
     * @throws IllegalArgumentException for PReLU, softmax and log_softmax (not elementwise)
     */
    public static double forward(int op, double x, double alpha, double beta, double threshold) {
        if (Double.isNaN(x)) {
            requireElementwise(op);
            return x;
        }
        return switch (OPS[op]) {
            case SIGMOID -> sigmoid(x);
            case TANH -> Math.tanh(x);
            case RELU -> x > 0 ? x : 0.0;
            case LEAKY_RELU -> x > 0 ? x : scaleNegative(alpha, x);
            case ELU -> x > 0 ? x : alpha * Math.expm1(x);
            case CELU -> celu(x, alpha);
            case SELU -> x > 0 ? SELU_LAMBDA * x : SELU_LAMBDA_ALPHA * Math.expm1(x);
            case GELU -> gelu(x);
            case GELU_TANH -> geluTanh(x);
            case SILU -> x == Double.NEGATIVE_INFINITY ? 0.0 : x * sigmoid(x);
            case SOFTPLUS -> softplus(x, beta, threshold);
            case MISH -> mish(x);
            case RELU6 -> x <= 0 ? 0.0 : Math.min(x, 6.0);
            case HARDSIGMOID -> x <= -3 ? 0.0 : x >= 3 ? 1.0 : (x + 3.0) / 6.0; // x + 3 is exact near -3: no cancellation
            case HARDSWISH -> x <= -3 ? 0.0 : x >= 3 ? x : x * (x + 3.0) / 6.0;
            case PRELU, SOFTMAX, LOG_SOFTMAX -> throw notElementwise(op);
        };
    }

    /**
     * {@code f'(x) * dy} by op code, the same signature as soma_math.h's {@code soma_bwd_d}.
     *
     * @throws IllegalArgumentException for PReLU, softmax and log_softmax (not elementwise)
     */
    public static double backward(int op, double x, double dy, double alpha, double beta, double threshold) {
        if (Double.isNaN(x)) {
            requireElementwise(op);
            return x;
        }
        return derivative(op, x, alpha, beta, threshold) * dy;
    }

    /** {@code f'(x)}, the local derivative (kink subgradients as in the class comment). */
    public static double derivative(int op, double x, double alpha, double beta, double threshold) {
        if (Double.isNaN(x)) {
            requireElementwise(op);
            return x;
        }
        return switch (OPS[op]) {
            case SIGMOID -> sigmoidPrime(x);
            case TANH -> tanhPrime(x);
            case RELU -> x > 0 ? 1.0 : 0.0;
            case LEAKY_RELU -> x > 0 ? 1.0 : alpha;
            case ELU -> x > 0 ? 1.0 : alpha * Math.exp(x);
            case CELU -> x > 0 ? 1.0 : Math.exp(x / alpha);
            case SELU -> x > 0 ? SELU_LAMBDA : SELU_LAMBDA_ALPHA * Math.exp(x);
            case GELU -> geluPrime(x);
            case GELU_TANH -> geluTanhPrime(x);
            case SILU -> siluPrime(x);
            case SOFTPLUS -> beta * x > threshold ? 1.0 : sigmoid(beta * x);
            case MISH -> mishPrime(x);
            case RELU6 -> x > 0 && x < 6 ? 1.0 : 0.0;
            case HARDSIGMOID -> x > -3 && x < 3 ? 1.0 / 6.0 : 0.0;
            // PyTorch: x/3 + 1/2 on [-3, 3]; written (2x + 3)/6, exact up to one rounding near its zero at -1.5
            case HARDSWISH -> x < -3 ? 0.0 : x <= 3 ? (2.0 * x + 3.0) / 6.0 : 1.0;
            case PRELU, SOFTMAX, LOG_SOFTMAX -> throw notElementwise(op);
        };
    }

    // ---- PReLU (elementwise given the channel's weight) ----

    /** PReLU forward with the channel's weight {@code w}. */
    public static double prelu(double x, double w) {
        if (Double.isNaN(x)) {
            return x;
        }
        return x > 0 ? x : scaleNegative(w, x);
    }

    /** PReLU's dL/dx: {@code dy} where x &gt; 0, else {@code w * dy} (x = 0 takes the weight). */
    public static double preluDx(double x, double w, double dy) {
        if (Double.isNaN(x)) {
            return x;
        }
        return (x > 0 ? 1.0 : w) * dy;
    }

    /** One element's contribution to PReLU's dL/dw: {@code x * dy} where x &lt;= 0, else 0. NaN x gives NaN. */
    public static double preluDwTerm(double x, double dy) {
        if (Double.isNaN(x)) {
            return x;
        }
        return x > 0 ? 0.0 : x * dy;
    }

    // ---- the functions, each well conditioned over the whole double range ----

    /** 1/(1+e^-x), with the exponential always of a non-positive argument. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    /** sigmoid(x) * sigmoid(-x) = e/(1+e)^2 with e = exp(-|x|): no 1 - y cancellation. */
    public static double sigmoidPrime(double x) {
        double e = Math.exp(-Math.abs(x));
        double d = 1.0 + e;
        return e / (d * d);
    }

    /** sech^2 x = 4e/(1+e)^2 with e = exp(-2|x|): no 1 - tanh^2 cancellation. */
    public static double tanhPrime(double x) {
        double e = Math.exp(-2.0 * Math.abs(x));
        double d = 1.0 + e;
        return 4.0 * e / (d * d);
    }

    /** s * x for x &lt;= 0, with a zero slope giving 0 even at x = -inf (the limit). */
    private static double scaleNegative(double s, double x) {
        return s == 0.0 ? 0.0 : s * x;
    }

    private static double celu(double x, double alpha) {
        if (x > 0) {
            return x; // min(0, alpha*expm1(x/alpha)) is 0 for x > 0 whatever alpha's sign
        }
        double z = x / alpha;
        if (z > EXP_SAFE) {
            // alpha < 0: alpha*(e^z - 1) = -(e^(z + log|alpha|)) + |alpha| without overflowing e^z early.
            return -Math.exp(z + Math.log(-alpha)) - alpha;
        }
        return alpha * Math.expm1(z);
    }

    /** Phi(x) = erfc(-x/sqrt 2)/2, the standard normal distribution function. */
    public static double normalCdf(double x) {
        return 0.5 * Erfc.erfc(-x * SQRT_HALF);
    }

    /** x Phi(x); the erfc form keeps the negative tail accurate. */
    private static double gelu(double x) {
        if (x == Double.NEGATIVE_INFINITY) {
            return 0.0;
        }
        return x * normalCdf(x);
    }

    /** Phi(x) + x phi(x). */
    private static double geluPrime(double x) {
        if (Double.isInfinite(x)) {
            return x > 0 ? 1.0 : 0.0;
        }
        double density = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
        return normalCdf(x) + x * density;
    }

    /** x/2 (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3): no 1 + tanh cancellation. */
    private static double geluTanh(double x) {
        if (x == Double.NEGATIVE_INFINITY) {
            return 0.0;
        }
        return x * sigmoid(2.0 * geluTanhInner(x));
    }

    private static double geluTanhInner(double x) {
        return SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
    }

    /** sigmoid(2u) + x * 2 sigmoid(2u) sigmoid(-2u) * u'(x). */
    private static double geluTanhPrime(double x) {
        if (Double.isInfinite(x)) {
            return x > 0 ? 1.0 : 0.0;
        }
        double twoU = 2.0 * geluTanhInner(x);
        double slope = sigmoidPrime(twoU);
        double rest = 0.0;
        if (slope != 0.0) { // else x^2 may overflow while the true term is 0
            double du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_C * x * x);
            rest = x * 2.0 * slope * du;
        }
        return sigmoid(twoU) + rest;
    }

    /** sigmoid(x) + x sigmoid(x) sigmoid(-x). */
    private static double siluPrime(double x) {
        if (Double.isInfinite(x)) {
            return x > 0 ? 1.0 : 0.0;
        }
        return sigmoid(x) + x * sigmoidPrime(x);
    }

    /** (1/beta) log(1 + e^(beta x)) = (log1p(e^-|bx|) + max(bx, 0)) / beta; x where beta x &gt; threshold. */
    private static double softplus(double x, double beta, double threshold) {
        double bx = beta * x;
        if (bx > threshold) {
            return x;
        }
        return (Math.log1p(Math.exp(-Math.abs(bx))) + Math.max(bx, 0.0)) / beta;
    }

    /**
     * tanh(softplus(x)) as a ratio of exponentials that never overflows or cancels:
     * with q = (1 + e^x)^2, tanh(log(1 + e^x)) = (q - 1)/(q + 1).
     * For x &lt;= 0 (e = e^x): e(e+2) / (e(e+2) + 2); for x &gt; 0 (e = e^-x): (1+2e) / (1+2e+2e^2).
     */
    private static double tanhSoftplus(double x) {
        if (x <= 0) {
            double e = Math.exp(x);
            double n = e * (e + 2.0);
            return n / (n + 2.0);
        }
        double e = Math.exp(-x);
        double n = 1.0 + 2.0 * e;
        return n / (n + 2.0 * e * e);
    }

    /** sech^2(softplus(x)) = 4q/(q+1)^2 with q = (1 + e^x)^2, written per sign of x as above. */
    private static double sech2Softplus(double x) {
        if (x <= 0) {
            double e = Math.exp(x);
            double q = (1.0 + e) * (1.0 + e);
            return 4.0 * q / ((q + 1.0) * (q + 1.0));
        }
        double e = Math.exp(-x);
        double p = (1.0 + e) * (1.0 + e); // q = p / e^2
        double d = p + e * e;
        return 4.0 * p * e * e / (d * d);
    }

    private static double mish(double x) {
        if (x == Double.NEGATIVE_INFINITY) {
            return 0.0;
        }
        return x * tanhSoftplus(x);
    }

    /** tanh(sp) + x sech^2(sp) sigmoid(x). */
    private static double mishPrime(double x) {
        if (Double.isInfinite(x)) {
            return x > 0 ? 1.0 : 0.0;
        }
        return tanhSoftplus(x) + x * sech2Softplus(x) * sigmoid(x);
    }

    private static void requireElementwise(int op) {
        Op o = OPS[op];
        if (o == Op.PRELU || o == Op.SOFTMAX || o == Op.LOG_SOFTMAX) {
            throw notElementwise(op);
        }
    }

    private static IllegalArgumentException notElementwise(int op) {
        return new IllegalArgumentException(OPS[op] + " is not elementwise: use the PReLU or softmax entry points");
    }
}
