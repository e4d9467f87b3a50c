/*
 * soma_math.h: the forward and backward of every elementwise Soma op, for one element.
 *
 * Written once, compiled three ways: as OpenCL C 1.2 (the .cl kernels include it), as CUDA C++
 * (the .cu kernels include it) and as plain C99 (host-side harnesses). The numerics contract is
 * shared/semantics.md: NaN in gives NaN out (forward and backward), infinite inputs give the
 * limits, overflow is honest, and float32 results stay within 1e-6 of a float64 reference.
 *
 * How float32 meets 1e-6: where a float formula cannot (the float rounding of an inner argument
 * is amplified, or a derivative crosses zero and cancels), soma_fwd_f / soma_bwd_f evaluate the
 * double formula and round once; that needs SOMA_FP64 (always on CUDA and plain C, on OpenCL when
 * the device has cl_khr_fp64). Without it the float formulas below are used; they are the
 * well-conditioned forms (expm1, log1p, erfc, sigmoid(x)*sigmoid(-x), sech^2 from exp) and lose
 * accuracy only where soma_f32_via_f64 says so. Never build with fast-math.
 *
 * Op codes equal dev.soma.op.Op ordinals (a Java test parses the defines below).
 */
#ifndef SOMA_MATH_H
#define SOMA_MATH_H

#define SOMA_OP_SIGMOID 0
#define SOMA_OP_TANH 1
#define SOMA_OP_RELU 2
#define SOMA_OP_LEAKY_RELU 3
#define SOMA_OP_PRELU 4
#define SOMA_OP_ELU 5
#define SOMA_OP_CELU 6
#define SOMA_OP_SELU 7
#define SOMA_OP_GELU 8
#define SOMA_OP_GELU_TANH 9
#define SOMA_OP_SILU 10
#define SOMA_OP_SOFTPLUS 11
#define SOMA_OP_MISH 12
#define SOMA_OP_RELU6 13
#define SOMA_OP_HARDSIGMOID 14
#define SOMA_OP_HARDSWISH 15
#define SOMA_OP_SOFTMAX 16
#define SOMA_OP_LOG_SOFTMAX 17
#define SOMA_OP_COUNT 18

/* ---- dialect: qualifiers and the float-precision math names ---------------------------------- */
#if defined(__OPENCL_VERSION__) || defined(__OPENCL_C_VERSION__)
#define SOMA_OPENCL 1
#define SOMA_FN inline
/* SOMA_NO_FP64 builds the float-only code a device without cl_khr_fp64 gets (for testing it on PoCL). */
#if defined(cl_khr_fp64) && !defined(SOMA_NO_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define SOMA_FP64 1
#endif
/* OpenCL C overloads the math built-ins by argument type. */
#define soma_expf(x) exp(x)
#define soma_expm1f(x) expm1(x)
#define soma_log1pf(x) log1p(x)
#define soma_erfcf(x) erfc(x)
#define soma_tanhf(x) tanh(x)
#define soma_fabsf(x) fabs(x)
#define soma_logf(x) log(x)
#define soma_isnan(x) isnan(x)
#define soma_isinf(x) isinf(x)
#elif defined(__CUDACC__)
#define SOMA_FN __device__ __forceinline__
#define SOMA_FP64 1
#define soma_expf(x) expf(x)
#define soma_expm1f(x) expm1f(x)
#define soma_log1pf(x) log1pf(x)
#define soma_erfcf(x) erfcf(x)
#define soma_tanhf(x) tanhf(x)
#define soma_fabsf(x) fabsf(x)
#define soma_logf(x) logf(x)
#define soma_isnan(x) isnan(x)
#define soma_isinf(x) isinf(x)
#else /* plain C99 on the host: tests and harnesses */
#include <math.h>
#define SOMA_FN static inline
#define SOMA_FP64 1
#define soma_expf(x) expf(x)
#define soma_expm1f(x) expm1f(x)
#define soma_log1pf(x) log1pf(x)
#define soma_erfcf(x) erfcf(x)
#define soma_tanhf(x) tanhf(x)
#define soma_fabsf(x) fabsf(x)
#define soma_logf(x) logf(x)
#define soma_isnan(x) isnan(x)
#define soma_isinf(x) isinf(x)
#endif

/* SELU's constants (PyTorch's), and lambda*alpha for the negative branch. */
#define SOMA_SELU_SCALE 1.0507009873554804934193349852946
#define SOMA_SELU_ALPHA 1.6732632423543772848170429916717
#define SOMA_SELU_SCALE_ALPHA 1.7580993408473768599402175208123
/* GELU: 1/sqrt(2), 1/sqrt(2*pi); tanh form: sqrt(2/pi) and its cubic coefficient. */
#define SOMA_SQRT1_2 0.70710678118654752440084436210485
#define SOMA_INV_SQRT_2PI 0.39894228040143267793994605993438
#define SOMA_SQRT_2_PI 0.79788456080286535587989211986876
#define SOMA_GELU_TANH_C 0.044715
/* Beyond this |x| gelu_tanh' is exactly its limit (0 or 1) in both precisions; avoids inf*0. */
#define SOMA_GELU_TANH_DERIV_CUTOFF 30.0

/* ================================= float32 formulas ========================================== */

/* sigmoid without overflow: e = exp(-|x|) never exceeds 1. */
SOMA_FN float soma_sigmoid_f(float x) {
    float e = soma_expf(-soma_fabsf(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* sigmoid(x) * sigmoid(-x) = e / (1 + e)^2 with e = exp(-|x|): no 1 - y cancellation. */
SOMA_FN float soma_sigmoid_deriv_f(float x) {
    float e = soma_expf(-soma_fabsf(x));
    float d = 1.0f + e;
    return e / (d * d);
}

SOMA_FN float soma_fwd_f_direct(int op, float x, float alpha, float beta, float threshold) {
    switch (op) {
    case SOMA_OP_SIGMOID:
        return soma_sigmoid_f(x);
    case SOMA_OP_TANH:
        return soma_tanhf(x);
    case SOMA_OP_RELU:
        return x > 0.0f ? x : 0.0f;
    case SOMA_OP_LEAKY_RELU:
        /* a zero slope gives 0 even at -inf (the limit), not 0 * -inf */
        return x > 0.0f ? x : (alpha == 0.0f ? 0.0f : alpha * x);
    case SOMA_OP_ELU:
        return x > 0.0f ? x : alpha * soma_expm1f(x);
    case SOMA_OP_CELU: {
        if (x > 0.0f) {
            return x;
        }
        float z = x / alpha;
        /* alpha < 0: alpha * e^z can be finite where e^z overflows; fold alpha into the exponent */
        return z > 80.0f ? -soma_expf(z + soma_logf(-alpha)) - alpha : alpha * soma_expm1f(z);
    }
    case SOMA_OP_SELU:
        return x > 0.0f ? (float)SOMA_SELU_SCALE * x : (float)SOMA_SELU_SCALE_ALPHA * soma_expm1f(x);
    case SOMA_OP_GELU:
        if (soma_isinf(x)) {
            return x > 0.0f ? x : 0.0f;
        }
        return 0.5f * x * soma_erfcf(-x * (float)SOMA_SQRT1_2);
    case SOMA_OP_GELU_TANH: {
        if (soma_isinf(x)) {
            return x > 0.0f ? x : 0.0f;
        }
        /* x/2 (1 + tanh u) = x * sigmoid(2u): no cancellation in the negative tail. */
        float u = (float)SOMA_SQRT_2_PI * (x + (float)SOMA_GELU_TANH_C * x * x * x);
        return x * soma_sigmoid_f(2.0f * u);
    }
    case SOMA_OP_SILU:
        if (soma_isinf(x)) {
            return x > 0.0f ? x : 0.0f;
        }
        return x * soma_sigmoid_f(x);
    case SOMA_OP_SOFTPLUS: {
        float bx = beta * x;
        if (bx > threshold) {
            return x;
        }
        /* log(1 + e^z) = max(z, 0) + log1p(e^-|z|): never overflows. */
        return ((bx > 0.0f ? bx : 0.0f) + soma_log1pf(soma_expf(-soma_fabsf(bx)))) / beta;
    }
    case SOMA_OP_MISH: {
        if (soma_isinf(x)) {
            return x > 0.0f ? x : 0.0f;
        }
        /* tanh(log1p(e^x)) = n / (n + 2), n = e^x (e^x + 2); for x > 0 in terms of e^-x. */
        float t;
        if (x <= 0.0f) {
            float e = soma_expf(x);
            float n = e * (e + 2.0f);
            t = n / (n + 2.0f);
        } else {
            float e = soma_expf(-x);
            float a = 1.0f + 2.0f * e;
            t = a / (a + 2.0f * e * e);
        }
        return x * t;
    }
    case SOMA_OP_RELU6:
        return x <= 0.0f ? 0.0f : (x >= 6.0f ? 6.0f : x);
    case SOMA_OP_HARDSIGMOID:
        /* (x + 3) / 6: x + 3 is exact near -3, so one rounding (x/6 + 1/2 cancels there). */
        return x <= -3.0f ? 0.0f : (x >= 3.0f ? 1.0f : (x + 3.0f) / 6.0f);
    case SOMA_OP_HARDSWISH:
        return x <= -3.0f ? 0.0f : (x >= 3.0f ? x : x * (x + 3.0f) / 6.0f);
    default:
        return x - x + (0.0f / 0.0f); /* not an elementwise op: NaN, never a plausible number */
    }
}

/* f'(x) in float; the caller multiplies by dy. */
SOMA_FN float soma_deriv_f_direct(int op, float x, float alpha, float beta, float threshold) {
    switch (op) {
    case SOMA_OP_SIGMOID:
        return soma_sigmoid_deriv_f(x);
    case SOMA_OP_TANH: {
        /* sech^2 x = 4e / (1 + e)^2 with e = exp(-2|x|): no 1 - tanh^2 cancellation. */
        float e = soma_expf(-2.0f * soma_fabsf(x));
        float d = 1.0f + e;
        return 4.0f * e / (d * d);
    }
    case SOMA_OP_RELU:
        return x > 0.0f ? 1.0f : 0.0f;
    case SOMA_OP_LEAKY_RELU:
        return x > 0.0f ? 1.0f : alpha;
    case SOMA_OP_ELU:
        return x > 0.0f ? 1.0f : alpha * soma_expf(x);
    case SOMA_OP_CELU:
        return x > 0.0f ? 1.0f : soma_expf(x / alpha);
    case SOMA_OP_SELU:
        return x > 0.0f ? (float)SOMA_SELU_SCALE : (float)SOMA_SELU_SCALE_ALPHA * soma_expf(x);
    case SOMA_OP_GELU:
        if (soma_isinf(x)) {
            return x > 0.0f ? 1.0f : 0.0f;
        }
        return 0.5f * soma_erfcf(-x * (float)SOMA_SQRT1_2)
               + x * (float)SOMA_INV_SQRT_2PI * soma_expf(-0.5f * x * x);
    case SOMA_OP_GELU_TANH: {
        if (soma_fabsf(x) > (float)SOMA_GELU_TANH_DERIV_CUTOFF) {
            return x > 0.0f ? 1.0f : 0.0f;
        }
        float x2 = x * x;
        float u = (float)SOMA_SQRT_2_PI * (x + (float)SOMA_GELU_TANH_C * x2 * x);
        float du = (float)SOMA_SQRT_2_PI * (1.0f + 3.0f * (float)SOMA_GELU_TANH_C * x2);
        /* d/dx x sigmoid(2u) = sigmoid(2u) + 2x u' sigmoid(2u) sigmoid(-2u) */
        return soma_sigmoid_f(2.0f * u) + 2.0f * x * du * soma_sigmoid_deriv_f(2.0f * u);
    }
    case SOMA_OP_SILU:
        if (soma_isinf(x)) {
            return x > 0.0f ? 1.0f : 0.0f;
        }
        return soma_sigmoid_f(x) + x * soma_sigmoid_deriv_f(x);
    case SOMA_OP_SOFTPLUS: {
        float bx = beta * x;
        return bx > threshold ? 1.0f : soma_sigmoid_f(bx);
    }
    case SOMA_OP_MISH: {
        if (soma_isinf(x)) {
            return x > 0.0f ? 1.0f : 0.0f;
        }
        /* mish' = t + x sech^2(sp) sigmoid(x), t = tanh(sp), sp = softplus(x). */
        float t, sech2;
        if (x <= 0.0f) {
            float e = soma_expf(x);
            float n = e * (e + 2.0f);
            float q = n + 1.0f; /* (1 + e)^2 */
            t = n / (n + 2.0f);
            sech2 = 4.0f * q / ((q + 1.0f) * (q + 1.0f));
        } else {
            float e = soma_expf(-x);
            float a = 1.0f + 2.0f * e;
            float den = a + 2.0f * e * e; /* (1 + e)^2 + e^2 */
            t = a / den;
            sech2 = 4.0f * (1.0f + e) * (1.0f + e) * e * e / (den * den);
        }
        return t + x * sech2 * soma_sigmoid_f(x);
    }
    case SOMA_OP_RELU6:
        return (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f;
    case SOMA_OP_HARDSIGMOID:
        return (x > -3.0f && x < 3.0f) ? 1.0f / 6.0f : 0.0f;
    case SOMA_OP_HARDSWISH:
        /* PyTorch: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above; as (2x + 3) / 6, exact near the root -1.5. */
        return x < -3.0f ? 0.0f : (x <= 3.0f ? (2.0f * x + 3.0f) / 6.0f : 1.0f);
    default:
        return x - x + (0.0f / 0.0f);
    }
}

/* ================================= float64 formulas ========================================== */
#ifdef SOMA_FP64

SOMA_FN double soma_sigmoid_d(double x) {
    double e = exp(-fabs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

SOMA_FN double soma_sigmoid_deriv_d(double x) {
    double e = exp(-fabs(x));
    double d = 1.0 + e;
    return e / (d * d);
}

SOMA_FN double soma_fwd_d_direct(int op, double x, double alpha, double beta, double threshold) {
    switch (op) {
    case SOMA_OP_SIGMOID:
        return soma_sigmoid_d(x);
    case SOMA_OP_TANH:
        return tanh(x);
    case SOMA_OP_RELU:
        return x > 0.0 ? x : 0.0;
    case SOMA_OP_LEAKY_RELU:
        return x > 0.0 ? x : (alpha == 0.0 ? 0.0 : alpha * x);
    case SOMA_OP_ELU:
        return x > 0.0 ? x : alpha * expm1(x);
    case SOMA_OP_CELU: {
        if (x > 0.0) {
            return x;
        }
        double z = x / alpha;
        return z > 700.0 ? -exp(z + log(-alpha)) - alpha : alpha * expm1(z);
    }
    case SOMA_OP_SELU:
        return x > 0.0 ? SOMA_SELU_SCALE * x : SOMA_SELU_SCALE_ALPHA * expm1(x);
    case SOMA_OP_GELU:
        if (soma_isinf(x)) {
            return x > 0.0 ? x : 0.0;
        }
        return 0.5 * x * erfc(-x * SOMA_SQRT1_2);
    case SOMA_OP_GELU_TANH: {
        if (soma_isinf(x)) {
            return x > 0.0 ? x : 0.0;
        }
        double u = SOMA_SQRT_2_PI * (x + SOMA_GELU_TANH_C * x * x * x);
        return x * soma_sigmoid_d(2.0 * u);
    }
    case SOMA_OP_SILU:
        if (soma_isinf(x)) {
            return x > 0.0 ? x : 0.0;
        }
        return x * soma_sigmoid_d(x);
    case SOMA_OP_SOFTPLUS: {
        double bx = beta * x;
        if (bx > threshold) {
            return x;
        }
        return ((bx > 0.0 ? bx : 0.0) + log1p(exp(-fabs(bx)))) / beta;
    }
    case SOMA_OP_MISH: {
        if (soma_isinf(x)) {
            return x > 0.0 ? x : 0.0;
        }
        double t;
        if (x <= 0.0) {
            double e = exp(x);
            double n = e * (e + 2.0);
            t = n / (n + 2.0);
        } else {
            double e = exp(-x);
            double a = 1.0 + 2.0 * e;
            t = a / (a + 2.0 * e * e);
        }
        return x * t;
    }
    case SOMA_OP_RELU6:
        return x <= 0.0 ? 0.0 : (x >= 6.0 ? 6.0 : x);
    case SOMA_OP_HARDSIGMOID:
        return x <= -3.0 ? 0.0 : (x >= 3.0 ? 1.0 : (x + 3.0) / 6.0);
    case SOMA_OP_HARDSWISH:
        return x <= -3.0 ? 0.0 : (x >= 3.0 ? x : x * (x + 3.0) / 6.0);
    default:
        return x - x + (0.0 / 0.0);
    }
}

SOMA_FN double soma_deriv_d_direct(int op, double x, double alpha, double beta, double threshold) {
    switch (op) {
    case SOMA_OP_SIGMOID:
        return soma_sigmoid_deriv_d(x);
    case SOMA_OP_TANH: {
        double e = exp(-2.0 * fabs(x));
        double d = 1.0 + e;
        return 4.0 * e / (d * d);
    }
    case SOMA_OP_RELU:
        return x > 0.0 ? 1.0 : 0.0;
    case SOMA_OP_LEAKY_RELU:
        return x > 0.0 ? 1.0 : alpha;
    case SOMA_OP_ELU:
        return x > 0.0 ? 1.0 : alpha * exp(x);
    case SOMA_OP_CELU:
        return x > 0.0 ? 1.0 : exp(x / alpha);
    case SOMA_OP_SELU:
        return x > 0.0 ? SOMA_SELU_SCALE : SOMA_SELU_SCALE_ALPHA * exp(x);
    case SOMA_OP_GELU:
        if (soma_isinf(x)) {
            return x > 0.0 ? 1.0 : 0.0;
        }
        return 0.5 * erfc(-x * SOMA_SQRT1_2) + x * SOMA_INV_SQRT_2PI * exp(-0.5 * x * x);
    case SOMA_OP_GELU_TANH: {
        if (fabs(x) > SOMA_GELU_TANH_DERIV_CUTOFF) {
            return x > 0.0 ? 1.0 : 0.0;
        }
        double x2 = x * x;
        double u = SOMA_SQRT_2_PI * (x + SOMA_GELU_TANH_C * x2 * x);
        double du = SOMA_SQRT_2_PI * (1.0 + 3.0 * SOMA_GELU_TANH_C * x2);
        return soma_sigmoid_d(2.0 * u) + 2.0 * x * du * soma_sigmoid_deriv_d(2.0 * u);
    }
    case SOMA_OP_SILU:
        if (soma_isinf(x)) {
            return x > 0.0 ? 1.0 : 0.0;
        }
        return soma_sigmoid_d(x) + x * soma_sigmoid_deriv_d(x);
    case SOMA_OP_SOFTPLUS: {
        double bx = beta * x;
        return bx > threshold ? 1.0 : soma_sigmoid_d(bx);
    }
    case SOMA_OP_MISH: {
        if (soma_isinf(x)) {
            return x > 0.0 ? 1.0 : 0.0;
        }
        double t, sech2;
        if (x <= 0.0) {
            double e = exp(x);
            double n = e * (e + 2.0);
            double q = n + 1.0;
            t = n / (n + 2.0);
            sech2 = 4.0 * q / ((q + 1.0) * (q + 1.0));
        } else {
            double e = exp(-x);
            double a = 1.0 + 2.0 * e;
            double den = a + 2.0 * e * e;
            t = a / den;
            sech2 = 4.0 * (1.0 + e) * (1.0 + e) * e * e / (den * den);
        }
        return t + x * sech2 * soma_sigmoid_d(x);
    }
    case SOMA_OP_RELU6:
        return (x > 0.0 && x < 6.0) ? 1.0 : 0.0;
    case SOMA_OP_HARDSIGMOID:
        return (x > -3.0 && x < 3.0) ? 1.0 / 6.0 : 0.0;
    case SOMA_OP_HARDSWISH:
        return x < -3.0 ? 0.0 : (x <= 3.0 ? (2.0 * x + 3.0) / 6.0 : 1.0);
    default:
        return x - x + (0.0 / 0.0);
    }
}

/** y = f(x) in float64. NaN in gives NaN out. */
SOMA_FN double soma_fwd_d(int op, double x, double alpha, double beta, double threshold) {
    if (soma_isnan(x)) {
        return x;
    }
    return soma_fwd_d_direct(op, x, alpha, beta, threshold);
}

/** dx = f'(x) * dy in float64. A NaN x or dy gives NaN. */
SOMA_FN double soma_bwd_d(int op, double x, double dy, double alpha, double beta, double threshold) {
    if (soma_isnan(x)) {
        return x;
    }
    return soma_deriv_d_direct(op, x, alpha, beta, threshold) * dy;
}

#endif /* SOMA_FP64 */

/* ================================= float32 entry points ====================================== */

/*
 * Ops whose float formula misses 1e-6 somewhere, measured on PoCL against the float64 kernel
 * (opencl/test/soma_cl_check accuracy; worst errors of the float formulas in brackets):
 * gelu (fwd 1.2e-6, bwd 1.1e-3) and gelu_tanh (1.6e-6, 1.7e-3): the float rounding of x/sqrt(2)
 * or of the cubic is amplified in the negative tail, and the derivative crosses zero near -0.75
 * where it cancels; silu' (1.6e-3 at -1.28) and mish' (1.9e-3 at -1.19) cross zero too;
 * softplus with beta != 1 (1.1e-6) and celu with alpha != 1 (8.5e-7, worse for larger |x/alpha|)
 * round beta*x or x/alpha first. Everything else stays below 3e-7 in float.
 */
SOMA_FN int soma_f32_fwd_via_f64(int op, float alpha, float beta) {
    return op == SOMA_OP_GELU || op == SOMA_OP_GELU_TANH || (op == SOMA_OP_CELU && alpha != 1.0f)
           || (op == SOMA_OP_SOFTPLUS && beta != 1.0f);
}

SOMA_FN int soma_f32_bwd_via_f64(int op, float alpha, float beta) {
    return op == SOMA_OP_GELU || op == SOMA_OP_GELU_TANH || op == SOMA_OP_SILU || op == SOMA_OP_MISH
           || (op == SOMA_OP_CELU && alpha != 1.0f) || (op == SOMA_OP_SOFTPLUS && beta != 1.0f);
}

/** y = f(x) in float32. NaN in gives NaN out. */
SOMA_FN float soma_fwd_f(int op, float x, float alpha, float beta, float threshold) {
    if (soma_isnan(x)) {
        return x;
    }
#if defined(SOMA_FP64) && !defined(SOMA_F32_NO_F64)
    if (soma_f32_fwd_via_f64(op, alpha, beta)) {
        return (float)soma_fwd_d_direct(op, (double)x, (double)alpha, (double)beta, (double)threshold);
    }
#endif
    return soma_fwd_f_direct(op, x, alpha, beta, threshold);
}

/** dx = f'(x) * dy in float32. A NaN x or dy gives NaN. */
SOMA_FN float soma_bwd_f(int op, float x, float dy, float alpha, float beta, float threshold) {
    if (soma_isnan(x)) {
        return x;
    }
#if defined(SOMA_FP64) && !defined(SOMA_F32_NO_F64)
    if (soma_f32_bwd_via_f64(op, alpha, beta)) {
        return (float)(soma_deriv_d_direct(op, (double)x, (double)alpha, (double)beta, (double)threshold)
                       * (double)dy);
    }
#endif
    return soma_deriv_f_direct(op, x, alpha, beta, threshold) * dy;
}

#endif /* SOMA_MATH_H */
