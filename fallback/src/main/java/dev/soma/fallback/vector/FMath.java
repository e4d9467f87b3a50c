package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.IS_NAN;
import static jdk.incubator.vector.VectorOperators.LT;

import dev.soma.op.Op;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Piecewise-linear ops on native float lanes. Each is exact or within two float roundings of the
 * float64 truth (formulas chosen so that nothing cancels: x + 3 is exact near -3, 2x + 3 is exact
 * near -1.5), so they need no widening and run at full float width.
 */
final class FMath {
    private FMath() {
    }

    /** Makes a derivative NaN wherever x is NaN (rule 1). */
    static FloatVector nanFrom(FloatVector x, FloatVector d) {
        return d.blend(x, x.test(IS_NAN));
    }

    static FloatVector relu(FloatVector x) {
        return x.max(0f);
    }

    static FloatVector reluDerivative(FloatVector x) {
        return nanFrom(x, FloatVector.zero(Lanes.F).blend(1f, x.compare(GT, 0f)));
    }

    static FloatVector leakyRelu(FloatVector x, float alpha) {
        return scaleNegative(x, alpha).blend(x, x.compare(GT, 0f));
    }

    /** alpha x, except that a zero slope gives 0 at x = -inf (the limit), not 0 * inf = NaN. */
    static FloatVector scaleNegative(FloatVector x, float alpha) {
        FloatVector y = x.mul(alpha);
        return alpha == 0f ? y.blend(0f, x.compare(EQ, Float.NEGATIVE_INFINITY)) : y;
    }

    /** Per-lane slopes: w x, 0 where w is 0 and x is -inf. */
    static FloatVector scaleNegative(FloatVector x, FloatVector w) {
        return x.mul(w).blend(0f, x.compare(EQ, Float.NEGATIVE_INFINITY).and(w.compare(EQ, 0f)));
    }

    static FloatVector leakyReluDerivative(FloatVector x, float alpha) {
        return nanFrom(x, FloatVector.broadcast(Lanes.F, alpha).blend(1f, x.compare(GT, 0f)));
    }

    static FloatVector relu6(FloatVector x) {
        return x.max(0f).min(6f);
    }

    static FloatVector relu6Derivative(FloatVector x) {
        return nanFrom(x, FloatVector.zero(Lanes.F).blend(1f, x.compare(GT, 0f).and(x.compare(LT, 6f))));
    }

    static FloatVector hardsigmoid(FloatVector x) {
        return x.add(3f).max(0f).min(6f).div(6f);
    }

    static FloatVector hardsigmoidDerivative(FloatVector x) {
        return nanFrom(x, FloatVector.zero(Lanes.F).blend(1f / 6, x.compare(GT, -3f).and(x.compare(LT, 3f))));
    }

    /** x (x + 3) / 6 inside (-3, 3); x at and above 3 (x * 6 would overflow), 0 at and below -3. */
    static FloatVector hardswish(FloatVector x) {
        FloatVector y = x.add(3f).mul(x).div(6f);
        return y.blend(x, x.compare(GE, 3f)).blend(0f, x.compare(LE, -3f));
    }

    static FloatVector hardswishDerivative(FloatVector x) {
        FloatVector mid = x.fma(2f, 3f).div(6f);
        FloatVector d = mid.blend(0f, x.compare(LT, -3f)).blend(1f, x.compare(GT, 3f));
        return nanFrom(x, d);
    }

    // ---- exponential ops on float lanes (SVML float exp/expm1, a few ulps): a float32 result within
    // 1e-6 needs no widening when nothing cancels; the tests hold every one of these to rule 5.

    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
        FloatVector num = FloatVector.broadcast(Lanes.F, 1f).blend(e, x.compare(LT, 0f));
        return num.div(e.add(1f));
    }

    static FloatVector sigmoidDerivative(FloatVector x) {
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
        FloatVector d = e.add(1f);
        return e.div(d.mul(d));
    }

    static FloatVector tanh(FloatVector x) {
        FloatVector m = x.abs().mul(-2f).lanewise(VectorOperators.EXPM1);
        FloatVector t = m.neg().div(m.add(2f));
        return t.blend(t.neg(), x.compare(LT, 0f));
    }

    static FloatVector tanhDerivative(FloatVector x) {
        FloatVector e = x.abs().mul(-2f).lanewise(VectorOperators.EXP);
        FloatVector d = e.add(1f);
        return e.mul(4f).div(d.mul(d));
    }

    static FloatVector elu(FloatVector x, float alpha) {
        return x.lanewise(VectorOperators.EXPM1).mul(alpha).blend(x, x.compare(GT, 0f));
    }

    static FloatVector eluDerivative(FloatVector x, float alpha) {
        return x.lanewise(VectorOperators.EXP).mul(alpha).blend(1f, x.compare(GT, 0f));
    }

    static FloatVector selu(FloatVector x) {
        return x.lanewise(VectorOperators.EXPM1).mul((float) Op.SELU_ALPHA).blend(x, x.compare(GT, 0f))
                .mul((float) Op.SELU_SCALE);
    }

    static FloatVector seluDerivative(FloatVector x) {
        return x.lanewise(VectorOperators.EXP).mul((float) DMath.SELU_SCALE_ALPHA)
                .blend((float) Op.SELU_SCALE, x.compare(GT, 0f));
    }

    /** x sigmoid(x); x is clamped at -1000 so that -inf * 0 gives 0 (the limit). */
    static FloatVector silu(FloatVector x) {
        return x.max(-1000f).mul(sigmoid(x));
    }

    /** x tanh(softplus x) = x n / (n + 2), n = e (e + 2), e = e^min(x, 20): beyond 20 the ratio is 1. */
    static FloatVector mish(FloatVector x) {
        FloatVector e = x.min(20f).lanewise(VectorOperators.EXP);
        FloatVector n = e.add(2f).mul(e);
        return x.max(-1000f).mul(n.div(n.add(2f)));
    }
}
