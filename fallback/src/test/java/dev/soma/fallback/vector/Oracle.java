package dev.soma.fallback.vector;

import dev.soma.fallback.CpuKernels;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A plain scalar double implementation written independently of the vector code (StrictMath, a
 * continued fraction for erfc), used as the truth until the project's scalar reference is merged.
 */
final class Oracle implements CpuKernels {

    @Override
    public String name() {
        return "oracle";
    }

    static double get(DType t, MemorySegment s, long i) {
        return t == DType.F32 ? s.getAtIndex(ValueLayout.JAVA_FLOAT, i) : s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
    }

    static void set(DType t, MemorySegment s, long i, double v) {
        if (t == DType.F32) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        } else {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        }
    }

    /** erfc(|x|/sqrt 2) by Taylor series of erf near 0 and Laplace's continued fraction beyond (term counts checked against mpmath). */
    static double erfcHalfNormal(double xa) {
        double z = xa / StrictMath.sqrt(2);
        if (z < 0.7) {
            double sum = 0;
            double term = z;
            for (int n = 0; n < 40; n++) {
                sum += term / (2 * n + 1);
                term *= -z * z / (n + 1);
            }
            return 1 - 2 / StrictMath.sqrt(StrictMath.PI) * sum;
        }
        if (xa > 40) {
            return 0;
        }
        double t = z;
        int terms = z < 1 ? 500 : z < 2 ? 200 : 60;
        for (int k = terms; k >= 1; k--) {
            t = z + (k / 2.0) / t;
        }
        double hi = xa * xa;
        double lo = Math.fma(xa, xa, -hi);
        double g = StrictMath.exp(-hi / 2) * (1 - lo / 2);
        return g / (StrictMath.sqrt(StrictMath.PI) * t);
    }

    static double phi(double x) {
        double c = erfcHalfNormal(Math.abs(x)) / 2;
        return x <= 0 ? c : 1 - c;
    }

    static double sigmoid(double x) {
        double e = StrictMath.exp(-Math.abs(x));
        return (x < 0 ? e : 1) / (1 + e);
    }

    static double sigmoidPrime(double x) {
        double e = StrictMath.exp(-Math.abs(x));
        return e / ((1 + e) * (1 + e));
    }

    static double softplus(double x, double beta, double th) {
        double bx = x * beta;
        if (bx > th) {
            return x;
        }
        return (Math.max(bx, 0) + StrictMath.log1p(StrictMath.exp(-Math.abs(bx)))) / beta;
    }

    static double fwd(OpArgs a, double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double al = a.alpha();
        return switch (a.op()) {
            case SIGMOID -> sigmoid(x);
            case TANH -> StrictMath.tanh(x);
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x > 0 ? x : al * x;
            case ELU -> x > 0 ? x : al * StrictMath.expm1(x);
            case CELU -> x > 0 ? x : al * StrictMath.expm1(x / al);
            case SELU -> Op.SELU_SCALE * (x > 0 ? x : Op.SELU_ALPHA * StrictMath.expm1(x));
            case GELU -> x < -40 ? 0 : x * phi(x);
            case GELU_TANH -> {
                if (x > 1e5) {
                    yield x;
                }
                if (x < -1e5) {
                    yield 0;
                }
                double u = StrictMath.sqrt(2 / StrictMath.PI) * (x + 0.044715 * x * x * x);
                yield x * sigmoid(2 * u);
            }
            case SILU -> x < -1000 ? 0 : x * sigmoid(x);
            case SOFTPLUS -> softplus(x, a.beta(), a.threshold());
            case MISH -> x < -1000 ? 0 : x * StrictMath.tanh(softplus(x, 1, 20));
            case RELU6 -> Math.min(Math.max(x, 0), 6);
            case HARDSIGMOID -> Math.min(Math.max(x + 3, 0), 6) / 6;
            case HARDSWISH -> x <= -3 ? 0 : x >= 3 ? x : x * (x + 3) / 6;
            default -> throw new IllegalArgumentException(a.op().toString());
        };
    }

    static double der(OpArgs a, double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double al = a.alpha();
        return switch (a.op()) {
            case SIGMOID -> sigmoidPrime(x);
            case TANH -> {
                double e = StrictMath.exp(-2 * Math.abs(x));
                yield 4 * e / ((1 + e) * (1 + e));
            }
            case RELU -> x > 0 ? 1 : 0;
            case LEAKY_RELU -> x > 0 ? 1 : al;
            case ELU -> x > 0 ? 1 : al * StrictMath.exp(x);
            case CELU -> x > 0 ? 1 : StrictMath.exp(x / al);
            case SELU -> x > 0 ? Op.SELU_SCALE : Op.SELU_SCALE * Op.SELU_ALPHA * StrictMath.exp(x);
            case GELU -> {
                double xc = Math.max(-40, Math.min(40, x));
                yield phi(x) + xc * StrictMath.exp(-xc * xc / 2) / StrictMath.sqrt(2 * StrictMath.PI);
            }
            case GELU_TANH -> {
                double xc = Math.max(-1e5, Math.min(1e5, x));
                double k = StrictMath.sqrt(2 / StrictMath.PI);
                double u2 = 2 * k * (xc + 0.044715 * xc * xc * xc);
                yield sigmoid(u2) + xc * sigmoidPrime(u2) * 2 * k * (1 + 3 * 0.044715 * xc * xc);
            }
            case SILU -> sigmoid(x) + Math.max(-1000, Math.min(1000, x)) * sigmoidPrime(x);
            case SOFTPLUS -> x * a.beta() > a.threshold() ? 1 : sigmoid(x * a.beta());
            case MISH -> {
                if (x > 40) {
                    yield 1;
                }
                double xc = Math.max(-1000, x);
                double t = StrictMath.tanh(softplus(x, 1, 20));
                double sech2 = 1 / StrictMath.pow(StrictMath.cosh(softplus(x, 1, 20)), 2);
                yield t + xc * sech2 * sigmoid(x);
            }
            case RELU6 -> x > 0 && x < 6 ? 1 : 0;
            case HARDSIGMOID -> x > -3 && x < 3 ? 1.0 / 6 : 0;
            case HARDSWISH -> x < -3 ? 0 : x <= 3 ? (2 * x + 3) / 6 : 1;
            default -> throw new IllegalArgumentException(a.op().toString());
        };
    }

    @Override
    public void forward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long n) {
        for (long i = 0; i < n; i++) {
            set(t, y, i, fwd(args, get(t, x, i)));
        }
    }

    @Override
    public void backward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx, long n) {
        for (long i = 0; i < n; i++) {
            set(t, dx, i, der(args, get(t, x, i)) * get(t, dy, i));
        }
    }

    @Override
    public void preluForward(DType t, MemorySegment x, MemorySegment w, long wc, MemorySegment y,
                             long outer, long ch, long inner) {
        for (long o = 0; o < outer; o++) {
            for (long c = 0; c < ch; c++) {
                double wv = get(t, w, wc == 1 ? 0 : c);
                for (long k = 0; k < inner; k++) {
                    long i = (o * ch + c) * inner + k;
                    double v = get(t, x, i);
                    set(t, y, i, v > 0 ? v : wv * v);
                }
            }
        }
    }

    @Override
    public void preluBackward(DType t, MemorySegment x, MemorySegment w, long wc, MemorySegment dy,
                              MemorySegment dx, MemorySegment dw, long outer, long ch, long inner) {
        double[] sums = new double[(int) wc];
        for (long o = 0; o < outer; o++) {
            for (long c = 0; c < ch; c++) {
                int wi = (int) (wc == 1 ? 0 : c);
                double wv = get(t, w, wi);
                for (long k = 0; k < inner; k++) {
                    long i = (o * ch + c) * inner + k;
                    double v = get(t, x, i);
                    double g = get(t, dy, i);
                    set(t, dx, i, Double.isNaN(v) ? v : (v > 0 ? 1 : wv) * g);
                    sums[wi] += v > 0 ? 0 : v * g;
                }
            }
        }
        for (int c = 0; c < wc; c++) {
            set(t, dw, c, sums[c]);
        }
    }

    @Override
    public void softmaxForward(OpArgs args, DType t, MemorySegment x, MemorySegment y, long outer, long len,
                               long inner) {
        boolean log = args.op() == Op.LOG_SOFTMAX;
        for (long o = 0; o < outer; o++) {
            for (long j = 0; j < inner; j++) {
                long base = o * len * inner + j;
                double m = Double.NEGATIVE_INFINITY;
                boolean nan = false;
                for (long k = 0; k < len; k++) {
                    double v = get(t, x, base + k * inner);
                    nan |= Double.isNaN(v);
                    m = Math.max(m, v);
                }
                if (nan || !Double.isFinite(m)) {
                    double fill = args.safe() && !nan && m == Double.NEGATIVE_INFINITY ? 0 : Double.NaN;
                    for (long k = 0; k < len; k++) {
                        set(t, y, base + k * inner, fill);
                    }
                    continue;
                }
                double s = 0;
                for (long k = 0; k < len; k++) {
                    s += StrictMath.exp(get(t, x, base + k * inner) - m);
                }
                for (long k = 0; k < len; k++) {
                    double d = get(t, x, base + k * inner) - m;
                    set(t, y, base + k * inner, log ? d - StrictMath.log(s) : StrictMath.exp(d) / s);
                }
            }
        }
    }

    @Override
    public void softmaxBackward(OpArgs args, DType t, MemorySegment x, MemorySegment dy, MemorySegment dx,
                                long outer, long len, long inner) {
        boolean log = args.op() == Op.LOG_SOFTMAX;
        for (long o = 0; o < outer; o++) {
            for (long j = 0; j < inner; j++) {
                long base = o * len * inner + j;
                double m = Double.NEGATIVE_INFINITY;
                boolean nan = false;
                for (long k = 0; k < len; k++) {
                    double v = get(t, x, base + k * inner);
                    nan |= Double.isNaN(v);
                    m = Math.max(m, v);
                }
                if (nan || !Double.isFinite(m)) {
                    double fill = args.safe() && !nan && m == Double.NEGATIVE_INFINITY ? 0 : Double.NaN;
                    for (long k = 0; k < len; k++) {
                        set(t, dx, base + k * inner, fill);
                    }
                    continue;
                }
                double s = 0;
                for (long k = 0; k < len; k++) {
                    s += StrictMath.exp(get(t, x, base + k * inner) - m);
                }
                double dot = 0;
                for (long k = 0; k < len; k++) {
                    long i = base + k * inner;
                    double p = StrictMath.exp(get(t, x, i) - m) / s;
                    dot += log ? get(t, dy, i) : get(t, dy, i) * p;
                }
                for (long k = 0; k < len; k++) {
                    long i = base + k * inner;
                    double p = StrictMath.exp(get(t, x, i) - m) / s;
                    double g = get(t, dy, i);
                    set(t, dx, i, log ? g - p * dot : p * (g - dot));
                }
            }
        }
    }
}
