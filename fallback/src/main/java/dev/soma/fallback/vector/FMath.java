package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.NE;

import dev.soma.op.Op;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
        return d.blend(x, x.compare(VectorOperators.NE, x));
    }

    /** A compare and a masked move (cheaper than Java-semantics max; see {@link #relu6}). */
    static FloatVector relu(FloatVector x) {
        return x.blend(0f, x.compare(LT, 0f));
    }

    static FloatVector reluDerivative(FloatVector x) {
        return nanFrom(x, FloatVector.zero(Lanes.F).blend(1f, x.compare(GT, 0f)));
    }

    /**
     * x times a per-lane slope (1 where x > 0, else alpha) picked by a masked move of a constant:
     * in JMH at 2^26 the form "alpha x, then blend x back in" ran at half relu's speed while blends
     * of constants (relu6) ran at relu's. NaN fails the compare and stays NaN (alpha NaN); a zero
     * slope takes the relu form, so that -inf gives 0 (the limit), not 0 * -inf.
     */
    static FloatVector leakyRelu(FloatVector x, float alpha) {
        if (alpha == 0f) {
            return x.blend(0f, x.compare(LE, 0f));
        }
        return x.mul(FloatVector.broadcast(Lanes.F, alpha).blend(1f, x.compare(GT, 0f)));
    }

    static FloatVector leakyReluDerivative(FloatVector x, float alpha) {
        return nanFrom(x, FloatVector.broadcast(Lanes.F, alpha).blend(1f, x.compare(GT, 0f)));
    }

    /**
     * Two compares into mask registers and two masked moves: Java's min/max semantics (NaN, -0.0)
     * cost C2 a longer sequence each, which made relu6 half as fast as relu. NaN fails both
     * compares and passes through; -0.0 stays -0.0 (the sign of zero is not part of the contract).
     */
    static FloatVector relu6(FloatVector x) {
        return x.blend(0f, x.compare(LT, 0f)).blend(6f, x.compare(GT, 6f));
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
        // x (h / 6), h = x + 3 clamped to [0, 6] by masked moves of constants: h / 6 is exactly 1
        // from x = 3 up (so x itself, no overflow of x * 6), and the last move gives 0 from -3 down
        // (also at -inf, where x * 0 would be NaN). Two roundings inside (-3, 3).
        FloatVector t = x.add(3f);
        FloatVector h = t.blend(0f, t.compare(LT, 0f)).blend(6f, t.compare(GT, 6f));
        return x.mul(h.div(6f)).blend(0f, x.compare(LE, -3f));
    }

    static FloatVector hardswishDerivative(FloatVector x) {
        FloatVector mid = x.fma(2f, 3f).div(6f);
        FloatVector d = mid.blend(0f, x.compare(LT, -3f)).blend(1f, x.compare(GT, 3f));
        return nanFrom(x, d);
    }

    // ---- float exp and expm1 -------------------------------------------------------------------
    // Deterministic by default: the same input gives the same bits in the interpreter, C1 and C2,
    // on every thread (issue #8). The Vector API's EXP/EXPM1 are not: C2 compiles them to SVML
    // calls while the interpreter and C1 compute each lane with the Java fallback, so results
    // changed by an ulp once a loop got hot. Our polynomial below is made of +, *, fma, compares,
    // blends and bit operations only, which give the same bits in every tier.
    // -Dsoma.cpu.svmlFloat=true (or -Dsoma.cpu.svml=true) sends float exp and expm1 through SVML:
    // NOT deterministic, kept for comparison.

    static final boolean SVML = Boolean.getBoolean("soma.cpu.svmlFloat") || Boolean.getBoolean("soma.cpu.svml");
    static final float LOG2E = 1.44269504f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    static final float SHIFTER = 12582912f;
    static final int SHIFTER_BITS = 0x4B400000;
    /** ln 2 split: the high part has 15 significant bits, so k * LN2_HI is exact for |k| < 512. */
    static final float LN2_HI = 0.693145751953125f;
    static final float LN2_LO = 1.42860677e-6f;
    // e^r ~ 1 + r + r^2 (Q0 + Q1 r + ... + Q5 r^5) on |r| <= ln2/2: a near-minimax fit of our own
    // (weighted least squares on Chebyshev nodes), relative error 1.1e-9 before float rounding.
    static final float Q0 = 0.5f;
    static final float Q1 = 0.1666666567325592f;
    static final float Q2 = 0.041666269302368164f;
    static final float Q3 = 0.00833342969417572f;
    static final float Q4 = 0.001394601771607995f;
    static final float Q5 = 0.0001982643734663725f;

    /**
     * e^x on float lanes, below 2 float ulps (relative 1.5e-7) down to x = -86.6, where e^x is
     * still a normal float; below -86.6 (and at -inf) it gives 0, an absolute error under 2.6e-38.
     * That flush is deliberate: x86 cores take a microcode assist of ~100 cycles for every
     * instruction that produces a denormal, and the benchmark's data (like real activations with
     * large negative values) would hit it on most vectors. +inf from 88.73, NaN for NaN (it fails
     * both clamping compares and passes through).
     */
    static FloatVector exp(FloatVector x) {
        if (SVML) {
            return x.lanewise(VectorOperators.EXP);
        }
        return expBelow89(x.blend(89f, x.compare(GT, 89f)));
    }

    /**
     * {@link #exp} after its upper clamp at 89 (or NaN), up to the overflow limit: for arguments
     * that may exceed 88 (celu with a negative alpha); the others use the shorter
     * {@link #expUpTo88}. One method with no helpers, so that C2 inlines all of it.
     */
    static FloatVector expBelow89(FloatVector x) {
        if (SVML) {
            return x.lanewise(VectorOperators.EXP);
        }
        // One scale factor: 2p (in [1.4, 2.8], exact) times 2^(k-1),
        // which is a normal float for every k from -125 (x = -86.6) to 128 (just below the overflow
        // limit), so the product is correctly rounded and overflow gives +inf. Below -86.6 the
        // result is flushed to 0 (absolute error under 2.6e-38; no denormal is ever formed).
        VectorMask<Float> under = x.compare(LT, -86.6f);
        FloatVector xc = x.blend(-86.6f, under);
        FloatVector t = xc.fma(LOG2E, SHIFTER);
        FloatVector k = t.sub(SHIFTER);
        FloatVector r = k.fma(FloatVector.broadcast(Lanes.F, -LN2_HI), xc).add(k.mul(-LN2_LO));
        FloatVector q = r.fma(FloatVector.broadcast(Lanes.F, Q5), FloatVector.broadcast(Lanes.F, Q4))
                .fma(r, FloatVector.broadcast(Lanes.F, Q3)).fma(r, FloatVector.broadcast(Lanes.F, Q2))
                .fma(r, FloatVector.broadcast(Lanes.F, Q1)).fma(r, FloatVector.broadcast(Lanes.F, Q0));
        FloatVector p = q.mul(r).fma(r, r).add(1f);
        // t's low mantissa bits hold k + 1.5 * 2^23; k - 1 + 127 shifted into the exponent field.
        FloatVector s = (FloatVector) ((IntVector) t.reinterpretAsInts()).add(126 - SHIFTER_BITS)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.add(p).mul(s).blend(0f, under);
    }

    // e^r ~ 1 + r (1 + r (P0 + P1 r + ... + P4 r^4)) on |r| <= ln2/2, one degree below Q's: our own
    // weighted least-squares fit on Chebyshev nodes, refined towards minimax (Lawson); relative
    // error 3.1e-9 in exact arithmetic, 6.2e-8 evaluated in float by the fma chain below.
    static final float P0 = 0.4999999403953552f;
    static final float P1 = 0.1666652113199234f;
    static final float P2 = 0.04166838899254799f;
    static final float P3 = 0.00836874544620514f;
    static final float P4 = 0.001381453825160861f;

    /**
     * e^x for x <= 88 (or NaN; larger arguments get garbage, for callers that never pass them): the
     * exponentials of the sigmoid family (e^-|x|), softplus, mish (e^min(x, 20)), softmax and the
     * derivatives built on them. Clamped at -87, so that 2^k (k >= -126) is a normal float made
     * from exponent bits, and p 2^k stays finite up to 88: no second scale factor. Within 2 float
     * ulps from -87 to 88 (6.8e-8 relative with AVX-512's table form, {@link #expFrom87To88});
     * below -87 (and at -inf) 0, an absolute error under 1.7e-38. (Estrin's scheme for the
     * polynomial form shortened the dependency chain and made sigmoid 8 % faster, but its extra
     * parse nodes pushed log_softmax's pipelined loop past C2's inlining cutoff: 17 -> 27 ms at
     * 2^26. Horner it stays.)
     */
    static FloatVector expUpTo88(FloatVector x) {
        if (SVML) {
            return x.lanewise(VectorOperators.EXP);
        }
        VectorMask<Float> under = x.compare(LT, -87f);
        return expFrom87To88(x.blend(-87f, under)).blend(0f, under);
    }

    /**
     * {@link #expUpTo88} for arguments known to lie in [-87, 88] (or NaN): no clamp below, three
     * vector instructions fewer. With 16 float lanes (AVX-512) by {@link #expByTable}, otherwise by
     * {@link #expByPolynomial}.
     */
    static FloatVector expFrom87To88(FloatVector x) {
        if (SVML) {
            return x.lanewise(VectorOperators.EXP);
        }
        return TABLE_EXP ? expByTable(x) : expByPolynomial(x);
    }

    /** Whether a float vector holds the 16 entries of {@link #expByTable}'s tables. */
    static final boolean TABLE_EXP = Lanes.F.length() == 16;
    /** ln 2 / 16 split: the high part has 12 significant bits, so n * L16_HI is exact for |n| < 4096. */
    private static final float LN2_16_HI = 0.0433197021484375f;
    private static final float LN2_16_LO = 1.9966365e-6f;
    /** 2^(j/16) rounded to float, j = 0..15, as bits. */
    private static final IntVector POW2_SIXTEENTHS = sixteenths(false);
    /** The relative rounding error of each entry of {@link #POW2_SIXTEENTHS}, as float bits. */
    private static final IntVector POW2_SIXTEENTHS_ERROR = sixteenths(true);

    private static IntVector sixteenths(boolean error) {
        int[] bits = new int[Math.max(16, Lanes.F.length())];
        for (int j = 0; j < 16; j++) {
            double exact = Math.pow(2, j / 16.0);
            float rounded = (float) exact;
            bits[j] = Float.floatToRawIntBits(error ? (float) ((exact - rounded) / rounded) : rounded);
        }
        return IntVector.fromArray(VectorSpecies.of(int.class, Lanes.F.vectorShape()), bits, 0);
    }

    /**
     * e^x for x in [-87, 88] (or NaN) as 2^k 2^(j/16) e^r, n = 16k + j = round(16 x log2 e),
     * |r| <= ln2/32: the table entry comes from a lane permute, and e^r needs only a cubic (its
     * truncation error 9e-9). The entry's own rounding error d_j (a second table) enters the
     * cubic's constant term, so T (1 + (e^r - 1 + d_j)) is rounded once: worst relative error
     * 6.8e-8 on 3.3 million random arguments, against 7.5e-8 for {@link #expByPolynomial}, with 7
     * multiply-adds instead of 10 and a shorter chain (these ops are bound by the FP pipes'
     * throughput: 22 % faster alone).
     * 2^k goes onto the entry's exponent field as an integer add (1 <= 127 + k <= 254 there: x >= -87
     * keeps k >= -126 with j >= 8), so that the last fma is the only rounding and NaN still
     * propagates through it.
     */
    static FloatVector expByTable(FloatVector x) {
        FloatVector t = x.fma(16 * LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.fma(FloatVector.broadcast(Lanes.F, -LN2_16_LO), n.fma(FloatVector.broadcast(Lanes.F, -LN2_16_HI), x));
        IntVector ti = (IntVector) t.reinterpretAsInts();
        IntVector j = ti.and(15);
        // n's bits shifted by 19, masked to the exponent field, are k's (SHIFTER's bits shift out).
        FloatVector scaled = (FloatVector) j.selectFrom(POW2_SIXTEENTHS).add(ti.lanewise(VectorOperators.LSHL, 19).and(0xFF800000))
                .reinterpretAsFloats();
        FloatVector d = (FloatVector) j.selectFrom(POW2_SIXTEENTHS_ERROR).reinterpretAsFloats();
        FloatVector pm1 = r.fma(1f / 6, 0.5f).fma(r, FloatVector.broadcast(Lanes.F, 1f)).fma(r, d);
        return scaled.fma(pm1, scaled);
    }

    /** {@link #expFrom87To88} where a float vector has fewer than 16 lanes: a degree-6 polynomial. */
    static FloatVector expByPolynomial(FloatVector x) {
        FloatVector t = x.fma(LOG2E, SHIFTER);
        FloatVector k = t.sub(SHIFTER);
        FloatVector r = k.fma(FloatVector.broadcast(Lanes.F, -LN2_LO), k.fma(FloatVector.broadcast(Lanes.F, -LN2_HI), x));
        FloatVector q = r.fma(P4, P3).fma(r, FloatVector.broadcast(Lanes.F, P2))
                .fma(r, FloatVector.broadcast(Lanes.F, P1)).fma(r, FloatVector.broadcast(Lanes.F, P0));
        FloatVector p = r.fma(r.fma(q, FloatVector.broadcast(Lanes.F, 1f)), FloatVector.broadcast(Lanes.F, 1f));
        // t's bits are SHIFTER_BITS + k; k + 127 in [1, 254] is a normal exponent.
        FloatVector s = (FloatVector) ((IntVector) t.reinterpretAsInts()).add(127 - SHIFTER_BITS)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s);
    }

    /**
     * e^-(c (h + l)) for c (h + l) in [0, 87] (never NaN) and |l| <= ulp(h), c = 1 or 1/2 (a
     * constant at every call, which C2 folds): GELU's e^(-x^2/2) and gelu_tanh's e^-|v|, with the
     * low part of a split argument added to the reduced argument m = h + l + n ln2/(16c) instead
     * of a correction factor afterwards (an add against an fma, and a shorter dependency chain).
     * The fmas forming m are exact (m is small; the ln 2 parts have 12 significant bits). Table
     * and cubic as in {@link #expByTable}; the polynomial of {@link #expByPolynomial} with fewer
     * than 16 lanes.
     */
    static FloatVector expOfNegative(FloatVector h, FloatVector l, float c) {
        if (!TABLE_EXP) {
            return expOfNegativeByPolynomial(h, l, c);
        }
        FloatVector t = h.fma(-c * 16 * LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector m = n.fma(FloatVector.broadcast(Lanes.F, LN2_16_LO / c), n.fma(FloatVector.broadcast(Lanes.F, LN2_16_HI / c), h)).add(l);
        IntVector ti = (IntVector) t.reinterpretAsInts();
        IntVector j = ti.and(15);
        FloatVector scaled = (FloatVector) j.selectFrom(POW2_SIXTEENTHS).add(ti.lanewise(VectorOperators.LSHL, 19).and(0xFF800000))
                .reinterpretAsFloats();
        FloatVector d = (FloatVector) j.selectFrom(POW2_SIXTEENTHS_ERROR).reinterpretAsFloats();
        // e^r - 1 + d for r = -c m: r + r^2/2 + r^3/6 + d, in m.
        FloatVector pm1 = m.fma(-c * c * c / 6, c * c / 2).fma(m, FloatVector.broadcast(Lanes.F, -c)).fma(m, d);
        return scaled.fma(pm1, scaled);
    }

    /** {@link #expOfNegative} where a float vector has fewer than 16 lanes (a method of its own: size). */
    static FloatVector expOfNegativeByPolynomial(FloatVector h, FloatVector l, float c) {
        FloatVector t = h.fma(-c * LOG2E, SHIFTER);
        FloatVector k = t.sub(SHIFTER);
        // r = -c m, m = h + l + k ln2 / c; e^r = 1 + r (1 + r Q(r)) written in m.
        FloatVector m = k.fma(FloatVector.broadcast(Lanes.F, LN2_LO / c), k.fma(FloatVector.broadcast(Lanes.F, LN2_HI / c), h)).add(l);
        FloatVector r = m.mul(-c);
        FloatVector q = r.fma(P4, P3).fma(r, FloatVector.broadcast(Lanes.F, P2))
                .fma(r, FloatVector.broadcast(Lanes.F, P1)).fma(r, FloatVector.broadcast(Lanes.F, P0));
        FloatVector p = r.fma(r.fma(q, FloatVector.broadcast(Lanes.F, 1f)), FloatVector.broadcast(Lanes.F, 1f));
        return p.mul((FloatVector) ((IntVector) t.reinterpretAsInts()).add(127 - SHIFTER_BITS)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    /**
     * e^x - 1 on float lanes: where x rounds to k = 0 (|x| < ln2/2) the reduced polynomial itself
     * (no cancellation), elsewhere e^x - 1 with |result| > 0.29, so the subtraction costs at most
     * a factor 3.5 on e^x's rounding: below 3e-7 relative everywhere; -1 below x = -87.
     */
    static FloatVector expm1(FloatVector x) {
        if (SVML) {
            return x.lanewise(VectorOperators.EXPM1);
        }
        // Clamps as compare + masked move (NaN fails both compares and passes through).
        VectorMask<Float> under = x.compare(LT, -87f);
        FloatVector xc = x.blend(-87f, under).blend(89f, x.compare(GT, 89f));
        FloatVector t = xc.fma(LOG2E, SHIFTER);
        FloatVector k = t.sub(SHIFTER);
        FloatVector r = k.fma(FloatVector.broadcast(Lanes.F, -LN2_HI), xc).add(k.mul(-LN2_LO));
        FloatVector q = r.fma(FloatVector.broadcast(Lanes.F, Q5), FloatVector.broadcast(Lanes.F, Q4))
                .fma(r, FloatVector.broadcast(Lanes.F, Q3)).fma(r, FloatVector.broadcast(Lanes.F, Q2))
                .fma(r, FloatVector.broadcast(Lanes.F, Q1)).fma(r, FloatVector.broadcast(Lanes.F, Q0));
        FloatVector p = q.mul(r).fma(r, r);
        IntVector ki = ((IntVector) t.reinterpretAsInts()).sub(SHIFTER_BITS);
        IntVector h = ki.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = (FloatVector) h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = (FloatVector) ki.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector big = p.add(1f).mul(s1).mul(s2).sub(1f).blend(-1f, under);
        return big.blend(p, k.compare(EQ, 0f));
    }

    /**
     * {@link #expm1} for arguments known to be at most 0 (or NaN; other lanes get garbage, for
     * callers that blend them away): tanh's -2|x| and the negative branch of elu, selu and celu.
     * As {@link #expUpTo88}: no upper clamp, one-factor 2^k (k >= -126 after the clamp), ln 2
     * subtracted by two fmas, the shorter P polynomial; e^r - 1 = r (1 + r q) keeps its relative
     * accuracy near 0 (the result where k = 0), and (1 + p) 2^k - 1 is one fma, p 2^k + (2^k - 1),
     * where 2^k - 1 is exact down to k = -24 and within 2^k of -1 below. Below 3e-7 relative.
     */
    static FloatVector expm1NonPositive(FloatVector x) {
        if (SVML) {
            return x.lanewise(VectorOperators.EXPM1);
        }
        VectorMask<Float> under = x.compare(LT, -87f);
        FloatVector xc = x.blend(-87f, under);
        FloatVector t = xc.fma(LOG2E, SHIFTER);
        FloatVector k = t.sub(SHIFTER);
        FloatVector r = k.fma(FloatVector.broadcast(Lanes.F, -LN2_LO), k.fma(FloatVector.broadcast(Lanes.F, -LN2_HI), xc));
        FloatVector q = r.fma(P4, P3).fma(r, FloatVector.broadcast(Lanes.F, P2))
                .fma(r, FloatVector.broadcast(Lanes.F, P1)).fma(r, FloatVector.broadcast(Lanes.F, P0));
        FloatVector p = r.fma(q, FloatVector.broadcast(Lanes.F, 1f)).mul(r);
        FloatVector s = (FloatVector) ((IntVector) t.reinterpretAsInts()).add(127 - SHIFTER_BITS)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector big = p.fma(s, s.sub(1f)).blend(-1f, under);
        return big.blend(p, k.compare(EQ, 0f));
    }

    // ---- exponential ops on float lanes (own float exp/expm1 above, or SVML: a few ulps): a float32 result within
    // 1e-6 needs no widening when nothing cancels; the tests hold every one of these to rule 5.

    static FloatVector sigmoid(FloatVector x) {
        FloatVector e = expUpTo88(x.abs().neg());
        FloatVector num = FloatVector.broadcast(Lanes.F, 1f).blend(e, x.compare(LT, 0f));
        return num.div(e.add(1f));
    }

    static FloatVector sigmoidDerivative(FloatVector x) {
        FloatVector e = expUpTo88(x.abs().neg());
        FloatVector d = e.add(1f);
        return e.div(d.mul(d));
    }

    // tanh(a) = a P(a^2) / Q(a^2) on [0, 9], P of degree 5 and Q of degree 3 in a^2: our own fit
    // (linearised least squares on the relative error, reweighted towards minimax); relative error
    // 8.6e-8 in exact arithmetic, 3.1e-7 evaluated in float with these rounded coefficients. From
    // 9 up tanh is 1 within 3e-8.
    private static final float TP0 = 0.9999999403953552f;
    private static final float TP1 = 0.12930449843406677f;
    private static final float TP2 = 0.0029326819349080324f;
    private static final float TP3 = 9.372563908982556e-06f;
    private static final float TP4 = -1.30782629170767e-08f;
    private static final float TP5 = 1.8963941528227224e-11f;
    private static final float TQ1 = 0.4626374840736389f;
    private static final float TQ2 = 0.023812374100089073f;
    private static final float TQ3 = 0.0002297249884577468f;

    /**
     * tanh as a rational function of x^2 (no exponential): about 20 vector instructions against 29
     * for -expm1(-2|x|) / (expm1(-2|x|) + 2). |x| is held at 9 (tanh is 1 there to float precision)
     * and x^2 is taken from |x| held at 2^-40 or above (no subnormal product, so no microcode
     * assist; the numerator keeps the true |x|, so tiny x gives x). The sign is copied from x.
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector ah = a.blend(9f, a.compare(GT, 9f));
        FloatVector al = ah.blend(0x1p-40f, ah.compare(LT, 0x1p-40f));
        FloatVector u = al.mul(al);
        FloatVector p = u.fma(TP5, TP4).fma(u, FloatVector.broadcast(Lanes.F, TP3)).fma(u, FloatVector.broadcast(Lanes.F, TP2))
                .fma(u, FloatVector.broadcast(Lanes.F, TP1)).fma(u, FloatVector.broadcast(Lanes.F, TP0));
        FloatVector q = u.fma(TQ3, TQ2).fma(u, FloatVector.broadcast(Lanes.F, TQ1)).fma(u, FloatVector.broadcast(Lanes.F, 1f));
        FloatVector t = ah.mul(p).div(q);
        return (FloatVector) ((IntVector) t.reinterpretAsInts())
                .or(((IntVector) x.reinterpretAsInts()).and(Integer.MIN_VALUE)).reinterpretAsFloats();
    }

    static FloatVector tanhDerivative(FloatVector x) {
        FloatVector e = expUpTo88(x.abs().mul(-2f));
        FloatVector d = e.add(1f);
        return e.mul(4f).div(d.mul(d));
    }

    static FloatVector elu(FloatVector x, float alpha) {
        return expm1NonPositive(x).mul(alpha).blend(x, x.compare(GT, 0f));
    }

    static FloatVector eluDerivative(FloatVector x, float alpha) {
        return expUpTo88(x).mul(alpha).blend(1f, x.compare(GT, 0f));
    }

    static FloatVector selu(FloatVector x) {
        return expm1NonPositive(x).mul((float) Op.SELU_ALPHA).blend(x, x.compare(GT, 0f))
                .mul((float) Op.SELU_SCALE);
    }

    static FloatVector seluDerivative(FloatVector x) {
        return expUpTo88(x).mul((float) DMath.SELU_SCALE_ALPHA)
                .blend((float) Op.SELU_SCALE, x.compare(GT, 0f));
    }

    /** alpha (e^(x/alpha) - 1) for x <= 0, x above: expm1 of x / alpha (a division, so exact for alpha = 1). */
    static FloatVector celu(FloatVector x, float alpha) {
        // No branch on alpha (a vector merged from two branches is allocated in every iteration;
        // the default alpha has its own loop, celuPositivePowerOfTwo). x / alpha is x * (1 / alpha)
        // exactly where that is exact. Where x < 0 and alpha < 0, u > 0 and e^u may overflow float
        // while alpha e^u does not (|alpha| < 1): above u = 80 the result is alpha e^(u/2) e^(u/2) - alpha.
        FloatVector u = x.div(alpha);
        FloatVector h = exp(u.mul(0.5f));
        FloatVector y = expm1(u).mul(alpha).blend(h.mul(alpha).mul(h).sub(alpha), u.compare(GT, 80f));
        return y.blend(x, x.compare(GT, 0f));
    }

    /** {@link #celu} for alpha > 0 a power of two (the default 1): u = x / alpha <= 0 on the lanes kept. */
    static FloatVector celuPositivePowerOfTwo(FloatVector x, float alpha) {
        return expm1NonPositive(x.mul(1f / alpha)).mul(alpha).blend(x, x.compare(GT, 0f));
    }


    /**
     * dy celu'(x) for any alpha (the default, alpha > 0 a power of two, has its own loop:
     * {@link #celuPositivePowerOfTwoDerivative}). e^u (u = x/alpha) is applied as e^(u/2) twice:
     * with alpha < 0, x < 0 gives u > 0, and e^u overflows float while dy e^u may not (x = -44.9,
     * alpha = -0.5 gave inf against 1.6e37). No branch on alpha: a vector merged from two branches
     * is allocated in every iteration (and x / alpha is x * (1 / alpha) exactly where that is exact).
     */
    static FloatVector celuGradient(FloatVector x, FloatVector g, float alpha) {
        FloatVector h = exp(x.div(alpha).mul(0.5f));
        return h.mul(g).mul(h).blend(g, x.compare(GT, 0f));
    }

    /**
     * celu'(x) for alpha > 0 a power of two (the default 1): e^(x/alpha) for x <= 0 (celu'(0) = 1
     * from the exponential branch), 1 above, with no branch on alpha and one exponential; a loop of
     * its own (see gen_elementwise_loops.py's SPLIT).
     */
    static FloatVector celuPositivePowerOfTwoDerivative(FloatVector x, float alpha) {
        return expUpTo88(x.mul(1f / alpha)).blend(1f, x.compare(GT, 0f));
    }

    /**
     * (1/beta) log(1 + e^(beta x)) = (max(bx, 0) + log1p(e^-|bx|)) / beta; x where beta x > threshold.
     * Where bx is very negative the result is about e^bx / beta, whose relative error is the absolute
     * error of bx: float rounding of beta x (up to 11.5 * 6e-8 where the result is still above 1e-5)
     * would cost most of the 1e-6 budget, so the rounding error of the product (exact by fma) and
     * of beta itself (split into float hi + lo) are carried into e^-|bx| as a first-order factor
     * ({@link #compensatedExp}). For beta a power of two (the default 1) see {@link #softplusPowerOfTwo}.
     */
    static FloatVector softplus(FloatVector x, double betaWide, double thresholdWide) {
        return softplusFrom(x, softplusExp(x, betaWide), betaWide, thresholdWide);
    }

    /** The first stage of {@link #softplus}, for staged loops: e^-|beta x|, compensated. */
    static FloatVector softplusExp(FloatVector x, double betaWide) {
        return compensatedExp(x, x.mul((float) betaWide), betaWide);
    }

    /** The second stage of {@link #softplus}, given e = {@link #softplusExp}(x, beta). */
    static FloatVector softplusFrom(FloatVector x, FloatVector e, double betaWide, double thresholdWide) {
        float beta = (float) betaWide;
        FloatVector bh = x.mul(beta);
        FloatVector y = betaSoftplus(bh, e).div(beta);
        return y.blend(x, bh.compare(GT, (float) thresholdWide));
    }

    /**
     * {@link #softplus} for beta a power of two: beta x is exact, so e^-|beta x| needs no
     * compensation and 1/beta is a multiply (none for beta = 1). A loop of its own, chosen once per
     * call: with both forms in one loop C2 compiled both, and the op (latency-bound, not unrolled)
     * paid for the larger body.
     */
    static FloatVector softplusPowerOfTwo(FloatVector x, float beta, float threshold) {
        return softplusPowerOfTwoFrom(x, softplusPowerOfTwoExp(x, beta), beta, threshold);
    }

    /** The first stage of {@link #softplusPowerOfTwo}, for staged loops: e^-|beta x|. */
    static FloatVector softplusPowerOfTwoExp(FloatVector x, float beta) {
        return expUpTo88((beta == 1f ? x : x.mul(beta)).abs().neg());
    }

    /** The second stage of {@link #softplusPowerOfTwo}, given e = {@link #softplusPowerOfTwoExp}(x, beta). */
    static FloatVector softplusPowerOfTwoFrom(FloatVector x, FloatVector e, float beta, float threshold) {
        FloatVector bh = beta == 1f ? x : x.mul(beta);
        FloatVector y = betaSoftplus(bh, e);
        return (beta == 1f ? y : y.mul(1f / beta)).blend(x, bh.compare(GT, threshold));
    }

    /** max(b, 0) + log1p(e) for e = e^-|b|: beta times softplus, given b = beta x. */
    private static FloatVector betaSoftplus(FloatVector b, FloatVector e) {
        // log1p(e) for e in [0, 1] as e P(e), P of degree 9 by Horner's scheme: no division, and
        // ten fmas (Estrin's scheme took four more vector instructions for its powers of e: the
        // op is throughput-bound now that its loops stage the exponential, and Horner's longer
        // dependency chain overlaps across vectors).
        FloatVector poly = e.fma(L1F9, L1F8).fma(e, FloatVector.broadcast(Lanes.F, L1F7))
                .fma(e, FloatVector.broadcast(Lanes.F, L1F6)).fma(e, FloatVector.broadcast(Lanes.F, L1F5))
                .fma(e, FloatVector.broadcast(Lanes.F, L1F4)).fma(e, FloatVector.broadcast(Lanes.F, L1F3))
                .fma(e, FloatVector.broadcast(Lanes.F, L1F2)).fma(e, FloatVector.broadcast(Lanes.F, L1F1))
                .fma(e, FloatVector.broadcast(Lanes.F, L1F0));
        return e.fma(poly, b.blend(0f, b.compare(LT, 0f)));
    }

    /**
     * Whether v is plus or minus a power of two that float holds with room (1 among them): then
     * scaling by v or 1 / v is exact in float (short of overflow). celu divides by such an alpha
     * with a multiply; softplus with such a beta needs no compensation (about a fifth of its vector
     * instructions, and no division).
     */
    static boolean isPowerOfTwo(double v) {
        double a = Math.abs(v);
        return a >= 0x1p-60 && a <= 0x1p60 && (Double.doubleToRawLongBits(a) & 0x000FFFFFFFFFFFFFL) == 0;
    }

    /**
     * e^-|beta x| given bh = float(beta x), with the rounding error of the product (exact by fma)
     * and of beta itself (split into float hi + lo) carried in as a first-order factor.
     */
    private static FloatVector compensatedExp(FloatVector x, FloatVector bh, double betaWide) {
        float beta = (float) betaWide;
        float betaLo = (float) (betaWide - beta);
        FloatVector bl = x.fma(FloatVector.broadcast(Lanes.F, beta), bh.neg()).add(x.mul(betaLo));
        // Where beta x overflows (or x is NaN) the correction is infinite or NaN: drop it (e^-|bx| is 0 or NaN there).
        // (One compare: test(IS_FINITE) is integer work that costs more of C2's parse nodes.)
        bl = FloatVector.zero(Lanes.F).blend(bl, bl.abs().compare(LT, Float.POSITIVE_INFINITY));
        FloatVector e0 = expUpTo88(bh.abs().neg());
        // -|bh + bl| = -|bh| - bl for bh >= 0, -|bh| + bl below.
        return e0.fma(bl.blend(bl.neg(), bh.compare(GE, 0f)), e0);
    }

    /**
     * sigmoid(beta x), 1 where beta x > threshold, on float lanes: softplus' never crosses zero,
     * so nothing cancels and no widening is needed. Where beta x is very negative the result is
     * about e^(beta x), whose relative error is the absolute error of beta x: the product's
     * rounding (exact by fma) and beta's (split into float hi + lo) enter e^-|bx| as a first-order
     * factor, as in {@link #softplus}. For beta a power of two see {@link #softplusPowerOfTwoDerivative}.
     */
    static FloatVector softplusDerivative(FloatVector x, double betaWide, double thresholdWide) {
        FloatVector bh = x.mul((float) betaWide);
        FloatVector e = compensatedExp(x, bh, betaWide);
        // sigmoid(bh) from e = e^-|bh|, written out: a helper called after the exponential, past
        // C2's node cutoff, stayed out of line and boxed (18 bytes allocated per element).
        FloatVector num = FloatVector.broadcast(Lanes.F, 1f).blend(e, bh.compare(GE, 0f).not());
        return num.div(e.add(1f)).blend(1f, bh.compare(GT, (float) thresholdWide));
    }

    /**
     * {@link #softplusDerivative} for beta a power of two (the default 1): beta x is exact, so no
     * compensation. A loop of its own, as for the forward: with both forms in one method, a process
     * that had used both betas compiled both, passed C2's node cutoff and left expUpTo88 out of line
     * (12 bytes allocated per element; NoBoxingAfterEveryKernelTest).
     */
    static FloatVector softplusPowerOfTwoDerivative(FloatVector x, float beta, float threshold) {
        FloatVector bh = x.mul(beta);
        FloatVector e = expUpTo88(bh.abs().neg());
        FloatVector num = FloatVector.broadcast(Lanes.F, 1f).blend(e, bh.compare(GE, 0f).not());
        return num.div(e.add(1f)).blend(1f, bh.compare(GT, threshold));
    }

    // log1p(e) / e on [0, 1] as a polynomial of degree 9 in e: our own weighted least-squares fit on
    // Chebyshev nodes, reweighted towards minimax; relative error 4.7e-9 in exact arithmetic, 1.5e-7
    // evaluated in float. Floats broadcast at the use site: as static final vectors (fewer parse
    // nodes) C2 reloaded them from memory in every iteration of the staged loop over Java arrays,
    // which then ran 0.32 ns per element against 0.26 over native memory (now both 0.26).
    private static final float L1F0 = 1.0f;
    private static final float L1F1 = -0.4999990165233612f;
    private static final float L1F2 = 0.3332996368408203f;
    private static final float L1F3 = -0.24954132735729218f;
    private static final float L1F4 = 0.19675931334495544f;
    private static final float L1F5 = -0.15305569767951965f;
    private static final float L1F6 = 0.10603617131710052f;
    private static final float L1F7 = -0.056959159672260284f;
    private static final float L1F8 = 0.019851263612508774f;
    private static final float L1F9 = -0.0032439809292554855f;

    /** x sigmoid(x); x is clamped at -1000 so that -inf * 0 gives 0 (the limit). */
    static FloatVector silu(FloatVector x) {
        // Clamp as compare + masked move (cheaper than Java-semantics max; NaN passes through).
        return x.blend(-1000f, x.compare(LT, -1000f)).mul(sigmoid(x));
    }

    // silu'(x) = sigmoid(x) (1 + x sigmoid(-x)). With a = |x|, e = e^-a and r = 1/(1 + e): for x > 0,
    // r + a e r^2 (no cancellation); for x <= 0, e r^2 N(a), N(a) = 1 + e - a, which crosses zero
    // at a0 = 1.27846454276107... (silu's minimum), where 1 + e and a cancel and e's own rounding
    // (2e-8) would cost up to 1e-3 of the result where it is still above 1e-5. Within 0.4 of a0,
    // N = -d S(d), d = a - a0 (a0 a float pair) and S(d) = 1 + E (1 - e^-d)/d with E = e^-a0: its
    // Taylor series to d^6 (truncation under 1e-8). Elsewhere |N| > 0.48 and (1 - a) + e is fine.
    private static final float SILU_ROOT_HI = 1.2784645557403564f;
    private static final float SILU_ROOT_LO = -1.2979282537628478e-08f;
    private static final float SILU_ROOT_SERIES0 = 1.2784645557403564f;
    private static final float SILU_ROOT_SERIES1 = -0.13923227787017822f;
    private static final float SILU_ROOT_SERIES2 = 0.046410758048295975f;
    private static final float SILU_ROOT_SERIES3 = -0.011602689512073994f;
    private static final float SILU_ROOT_SERIES4 = 0.0023205378092825413f;
    private static final float SILU_ROOT_SERIES5 = -0.00038675632094964385f;
    private static final float SILU_ROOT_SERIES6 = 5.525090091396123e-05f;
    private static final int HUNDRED_BITS = Float.floatToRawIntBits(100f);

    /**
     * silu'(x) on float lanes, relative accuracy through its zero at x = -a0 (the double-lane form
     * it replaces for float32 took 2.2x as long). |x| is held in [2^-40, 100] (e^-100 flushes to 0:
     * 1 above, -0 below, the limits); NaN in, NaN out.
     */
    static FloatVector siluDerivative(FloatVector x) {
        FloatVector a = (FloatVector) ((IntVector) x.reinterpretAsInts()).and(0x7FFFFFFF).max(TINY_BITS).min(HUNDRED_BITS)
                .reinterpretAsFloats();
        FloatVector e = expUpTo88(a.neg());
        FloatVector r = FloatVector.broadcast(Lanes.F, 1f).div(e.add(1f));
        FloatVector er = e.mul(r);
        FloatVector positive = a.mul(er).fma(r, r);
        FloatVector negative = er.mul(r).mul(siluRootFactor(a, e));
        return positive.blend(negative, x.compare(LE, 0f)).blend(x, x.compare(NE, x));
    }

    /** N(a) = 1 + e - a for e = e^-a, to relative accuracy near its zero (see {@link #siluDerivative}). */
    private static FloatVector siluRootFactor(FloatVector a, FloatVector e) {
        FloatVector d = a.sub(SILU_ROOT_HI).sub(SILU_ROOT_LO);
        FloatVector s = d.fma(SILU_ROOT_SERIES6, SILU_ROOT_SERIES5).fma(d, FloatVector.broadcast(Lanes.F, SILU_ROOT_SERIES4))
                .fma(d, FloatVector.broadcast(Lanes.F, SILU_ROOT_SERIES3)).fma(d, FloatVector.broadcast(Lanes.F, SILU_ROOT_SERIES2))
                .fma(d, FloatVector.broadcast(Lanes.F, SILU_ROOT_SERIES1)).fma(d, FloatVector.broadcast(Lanes.F, SILU_ROOT_SERIES0));
        FloatVector far = FloatVector.broadcast(Lanes.F, 1f).sub(a).add(e);
        return far.blend(d.neg().mul(s), d.abs().compare(LT, 0.4f));
    }

    /** x tanh(softplus x) = x n / (n + 2), n = e (e + 2), e = e^min(x, 20): beyond 20 the ratio is 1. */
    static FloatVector mish(FloatVector x) {
        return mishFrom(x, mishExp(x));
    }

    /** The first stage of {@link #mish}, for staged loops: e^min(x, 20). */
    static FloatVector mishExp(FloatVector x) {
        // Clamps as compare + masked move (cheaper than Java-semantics min/max; NaN passes through).
        return expUpTo88(x.blend(20f, x.compare(GT, 20f)));
    }

    /** The second stage of {@link #mish}, given e = {@link #mishExp}(x). */
    static FloatVector mishFrom(FloatVector x, FloatVector e) {
        FloatVector n = e.add(2f).mul(e);
        return x.blend(-1000f, x.compare(LT, -1000f)).mul(n.div(n.add(2f)));
    }

    // mish'(x) = t + x sech^2 sigmoid(x) with e = e^x, n = e (e + 2), t = n/(n + 2), sech^2 =
    // 4 (n + 1)/(n + 2)^2, sigmoid = e/(1 + e); one division u = 1/((n + 2)(1 + e)) gives all three
    // (n + 2 <= 2.4e17 and 1 + e <= 4.9e8 with x held at 20). For x <= 0 the two terms cancel near
    // the zero at x0 = -1.19243121451549521...: there mish' = e H(x) / ((n + 2)^2 (1 + e)) with
    // H = e^4 + 5 e^3 + (10 + 4x) e^2 + (10 + 8x) e + 4 (1 + x), Horner's scheme in e after
    // combining the large cancelling parts exactly (4 (1 + x) is exact near x0); within 0.3 of x0,
    // H = d S(d), d = x - x0 (x0 a float pair), S by its Taylor series to d^8 (truncation 1.4e-8,
    // computed with mpmath). Outside that window |H| > 2.1.
    private static final float MISH_ROOT_HI = -1.1924312114715576f;
    private static final float MISH_ROOT_LO = -3.0439375464652585e-09f;
    private static final float MISH_ROOT_SERIES0 = 8.352669715881348f;
    private static final float MISH_ROOT_SERIES1 = 4.894756317138672f;
    private static final float MISH_ROOT_SERIES2 = 3.3357126712799072f;
    private static final float MISH_ROOT_SERIES3 = 1.784980058670044f;
    private static final float MISH_ROOT_SERIES4 = 0.8317800164222717f;
    private static final float MISH_ROOT_SERIES5 = 0.35124772787094116f;
    private static final float MISH_ROOT_SERIES6 = 0.13660086691379547f;
    private static final float MISH_ROOT_SERIES7 = 0.04942942038178444f;
    private static final float MISH_ROOT_SERIES8 = 0.016787787899374962f;

    /**
     * mish'(x) on float lanes, relative accuracy through its zero at x0 (the double-lane form it
     * replaces for float32 took 2.4x as long). 1 above x = 20 (the limit to float precision),
     * 0 below -87 (e flushes; the limit); NaN in, NaN out.
     */
    static FloatVector mishDerivative(FloatVector x) {
        // The helpers first: past C2's node cutoff (reached inside the exponential) they would stay
        // out of line and box (see JitDirectives).
        FloatVector nearRoot = mishNearRoot(x);
        FloatVector e = mishExp(x);
        FloatVector n = e.add(2f).mul(e);
        FloatVector n2 = n.add(2f);
        FloatVector e1 = e.add(1f);
        FloatVector u = FloatVector.broadcast(Lanes.F, 1f).div(n2.mul(e1));
        FloatVector q = e1.mul(u);
        FloatVector sech2 = n.add(1f).mul(4f).mul(q).mul(q);
        FloatVector positive = x.mul(sech2).fma(e.mul(n2).mul(u), n.mul(q));
        // H by Horner's scheme in e, x held at -100 or above (-inf would make inf * 0); written out:
        // a helper called after the exponential stayed out of line (node cutoff).
        FloatVector xh = x.blend(-100f, x.compare(LT, -100f));
        FloatVector h = e.add(5f).fma(e, xh.fma(4f, 10f)).fma(e, xh.fma(8f, 10f)).fma(e, xh.add(1f).mul(4f))
                .blend(nearRoot, x.sub(MISH_ROOT_HI).abs().compare(LT, 0.3f));
        FloatVector negative = e.mul(h).mul(q).mul(u);
        return positive.blend(negative, x.compare(LE, 0f)).blend(1f, x.compare(GT, 20f)).blend(x, x.compare(NE, x));
    }

    /** H(x) = d S(d) for d = x - x0 by S's series (see above): accurate within 0.3 of x0. */
    private static FloatVector mishNearRoot(FloatVector x) {
        FloatVector d = x.sub(MISH_ROOT_HI).sub(MISH_ROOT_LO);
        return d.fma(MISH_ROOT_SERIES8, MISH_ROOT_SERIES7)
                .fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES6)).fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES5))
                .fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES4)).fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES3))
                .fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES2)).fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES1))
                .fma(d, FloatVector.broadcast(Lanes.F, MISH_ROOT_SERIES0)).mul(d);
    }

    // ---- GELU on float lanes -------------------------------------------------------------------
    /** Below this |x| both GELUs compute their Phi from TINY itself (it is 1/2 there to float precision). */
    private static final float TINY = 0x1p-40f;
    private static final int TINY_BITS = Float.floatToRawIntBits(TINY);
    private static final int TEN_BITS = Float.floatToRawIntBits(10f);
    private static final int MINUS_TEN_BITS = Float.floatToRawIntBits(-10f);
    private static final int GELU_TANH_CLAMP_BITS = Float.floatToRawIntBits(1e5f);

    // erfcx(a) = e^(a^2) erfc(a) on a in [0, 10/sqrt 2] as a degree-8 polynomial in t = (a - 3)/(a + 3):
    // our own weighted least-squares fit on 8000 Chebyshev nodes (against scipy's erfcx), reweighted
    // towards minimax and rounded to float; relative error 6.5e-8 in exact arithmetic, 3.4e-7
    // evaluated in float with t rounded (Horner with fma). Degree 10 (1.5e-8) cost gelu 3 % more
    // time for a worst gelu error of 4.2e-7 instead of 4.7e-7 (dense sweep; the contract is 1e-6).
    private static final float ERFCX0 = 0.17900115251541138f;
    private static final float ERFCX1 = -0.32623374462127686f;
    private static final float ERFCX2 = 0.2456039935350418f;
    private static final float ERFCX3 = -0.15010994672775269f;
    private static final float ERFCX4 = 0.07166335731744766f;
    private static final float ERFCX5 = -0.024449089542031288f;
    private static final float ERFCX6 = 0.004249729681760073f;
    private static final float ERFCX7 = 0.0008824730175547302f;
    private static final float ERFCX8 = -0.0004285947361495346f;
    private static final float THREE_SQRT2 = 4.2426406871f;

    /**
     * x Phi(x) on float lanes, within 1e-6 of the float64 truth (the dense sweep in
     * FloatLaneSweepTest measures it). Phi(-|x|) = erfc(a)/2 with a = |x|/sqrt 2 is computed as
     * e^(-x^2/2) erfcx(a) / 2: relative accuracy in the negative tail, where gelu is tiny and
     * 1 - Phi would cancel. x^2 is split exactly (hi + lo) so that e^(-x^2/2) loses nothing to
     * the rounding of x^2 (which is up to 50 here and would cost 1e-6). |x| is clamped at 10:
     * beyond, Phi(-|x|) < 8e-24, so gelu is x for x > 10 and within 1e-22 of 0 below -10 (the
     * clamp of x at -10 also gives 0 rather than NaN at -inf).
     */
    static FloatVector gelu(FloatVector x) {
        // |x| held in [2^-40, 10] by integer min and max on its bits (non-negative floats order as
        // their bits do): x^2 and its rounding error stay normal floats (an underflowing product
        // costs a microcode assist per lane: 2.3x slower on data with 1 in 8 tiny values), and
        // Phi is 1/2 below 2^-40 to float precision. NaN's bits lie above 10's, so a NaN lane
        // computes with 10 and the final sum with x itself makes it NaN again.
        IntVector bits = (IntVector) x.reinterpretAsInts();
        FloatVector half = lowerTail((FloatVector) bits.and(0x7FFFFFFF).max(TINY_BITS).min(TEN_BITS).reinterpretAsFloats());
        // x Phi(x) = max(x, 0) - |x| Phi(-|x|), one fma: -|x| held at -10 (integer min on the bits
        // of -|x|, which order as their magnitudes do) so that -inf gives 0, not NaN; max(x, 0) as
        // a masked move, which keeps NaN.
        FloatVector negativeMagnitude = (FloatVector) bits.or(0x80000000).min(MINUS_TEN_BITS).reinterpretAsFloats();
        return negativeMagnitude.fma(half, x.blend(0f, x.compare(LT, 0f)));
    }

    /**
     * Phi(-xa) = e^(-xa^2/2) erfcx(xa/sqrt 2) / 2 for xa in [2^-40, 10]: {@link #gelu}'s body, a
     * method of its own so that each stays under C2's FreqInlineSize (325 bytes of bytecode; a
     * hot method over it is left out of line, and its vectors box).
     */
    private static FloatVector lowerTail(FloatVector xa) {
        FloatVector hi = xa.mul(xa);
        FloatVector lo = xa.fma(xa, hi.neg());
        FloatVector e = expOfNegative(hi, lo, 0.5f);
        return e.mul(halfErfcx(xa));
    }

    /** erfcx(xa/sqrt 2) / 2 by the ERFCX fit (the 1/2 is in its coefficients, exactly). */
    private static FloatVector halfErfcx(FloatVector xa) {
        // t = (a - 3)/(a + 3) for a = xa/sqrt 2, with the 1/sqrt 2 moved onto the 3s.
        FloatVector t = xa.sub(THREE_SQRT2).div(xa.add(THREE_SQRT2));
        return t.fma(ERFCX8 / 2, ERFCX7 / 2)
                .fma(t, FloatVector.broadcast(Lanes.F, ERFCX6 / 2)).fma(t, FloatVector.broadcast(Lanes.F, ERFCX5 / 2))
                .fma(t, FloatVector.broadcast(Lanes.F, ERFCX4 / 2)).fma(t, FloatVector.broadcast(Lanes.F, ERFCX3 / 2))
                .fma(t, FloatVector.broadcast(Lanes.F, ERFCX2 / 2)).fma(t, FloatVector.broadcast(Lanes.F, ERFCX1 / 2))
                .fma(t, FloatVector.broadcast(Lanes.F, ERFCX0 / 2));
    }

    // gelu'(x) = Phi(x) + x phi(x) = e^(-x^2/2) M(|x|) for x <= 0 and 1 - e^(-x^2/2) M(|x|) for x > 0,
    // M(a) = erfcx(a/sqrt 2)/2 - a/sqrt(2 pi). M crosses zero at a0 = 0.75179152469356..., where
    // Phi and x phi cancel (the float sum of the two terms loses everything near gelu's minimum);
    // so M = (a0 - a) Q(t) with a0 as a float pair and Q, which has no root, as a degree-7
    // polynomial in t = (a - 3 sqrt 2)/(a + 3 sqrt 2): our own weighted least-squares fit on 3000
    // Chebyshev nodes for a in [0, 10], reweighted towards minimax; relative error 1.5e-8 in exact
    // arithmetic, 1.8e-7 evaluated in float.
    private static final float GELU_ROOT_HI = 0.7517915368080139f;
    private static final float GELU_ROOT_LO = -1.211444988769017e-08f;
    private static final float GELU_PRIME0 = 0.45922011137008667f;
    private static final float GELU_PRIME1 = -0.09979170560836792f;
    private static final float GELU_PRIME2 = 0.06086943671107292f;
    private static final float GELU_PRIME3 = -0.030405381694436073f;
    private static final float GELU_PRIME4 = 0.011730517260730267f;
    private static final float GELU_PRIME5 = -0.0030529533978551626f;
    private static final float GELU_PRIME6 = 0.000249755714321509f;
    private static final float GELU_PRIME7 = 0.00024185795336961746f;

    /**
     * gelu'(x) on float lanes, relative accuracy through its zero at x = -a0 (the double-lane form
     * it replaces for float32 took 7x as long). |x| is held in [2^-40, 10] as in {@link #gelu}:
     * above 10 the result is 1 to float precision; below -10 it is 0 (the truth is under 3e-21 in
     * magnitude there, and 0 is the limit at -inf). NaN in, NaN out.
     */
    static FloatVector geluDerivative(FloatVector x) {
        IntVector bits = (IntVector) x.reinterpretAsInts();
        FloatVector em = geluDerivativeTail((FloatVector) bits.and(0x7FFFFFFF).max(TINY_BITS).min(TEN_BITS).reinterpretAsFloats());
        FloatVector d = FloatVector.broadcast(Lanes.F, 1f).sub(em).blend(em, x.compare(LE, 0f));
        return d.blend(0f, x.compare(LT, -10f)).blend(x, x.compare(NE, x));
    }

    /** e^(-xa^2/2) M(xa) for xa in [2^-40, 10] (see {@link #geluDerivative}). */
    private static FloatVector geluDerivativeTail(FloatVector xa) {
        FloatVector hi = xa.mul(xa);
        FloatVector lo = xa.fma(xa, hi.neg());
        FloatVector e = expOfNegative(hi, lo, 0.5f);
        FloatVector t = xa.sub(THREE_SQRT2).div(xa.add(THREE_SQRT2));
        FloatVector q = t.fma(GELU_PRIME7, GELU_PRIME6).fma(t, FloatVector.broadcast(Lanes.F, GELU_PRIME5))
                .fma(t, FloatVector.broadcast(Lanes.F, GELU_PRIME4)).fma(t, FloatVector.broadcast(Lanes.F, GELU_PRIME3))
                .fma(t, FloatVector.broadcast(Lanes.F, GELU_PRIME2)).fma(t, FloatVector.broadcast(Lanes.F, GELU_PRIME1))
                .fma(t, FloatVector.broadcast(Lanes.F, GELU_PRIME0));
        // a0 - xa: the first difference is exact near the root (Sterbenz), the low part adds once.
        FloatVector fromRoot = FloatVector.broadcast(Lanes.F, GELU_ROOT_HI).sub(xa).add(GELU_ROOT_LO);
        return e.mul(fromRoot.mul(q));
    }

    // ---- GELU (tanh approximation) on float lanes ----------------------------------------------
    /** 2 sqrt(2/pi) and 2 sqrt(2/pi) 0.044715, each split into a float and its float remainder. */
    private static final float K1_HI = 1.5957691669464111f;
    private static final float K1_LO = -4.534068054340423e-08f;
    private static final float K2_HI = 0.07135481387376785f;
    private static final float K2_LO = 2.3988324659995897e-09f;
    private static final FloatVector K2_HI_V = FloatVector.broadcast(Lanes.F, K2_HI);
    private static final FloatVector K2_LO_V = FloatVector.broadcast(Lanes.F, K2_LO);
    private static final FloatVector K1_HI_V = FloatVector.broadcast(Lanes.F, K1_HI);
    private static final FloatVector K1_LO_V = FloatVector.broadcast(Lanes.F, K1_LO);

    /**
     * x/2 (1 + tanh u) = x sigmoid(v), v = 2u = x (K1 + K2 x^2), on float lanes. Where v is negative
     * the result is about x e^v, whose relative error is the absolute error of v, and v reaches -13
     * while the result is still above 1e-5: plain float arithmetic (errors up to 5e-7 in v) would
     * not meet 1e-6. So |v| is carried as a float pair vh + vl ({@link #geluTanhTail}). |x| is
     * clamped at 1e5 (x itself above, 0 below, as in the double version).
     */
    static FloatVector geluTanh(FloatVector x) {
        // a = |x| held in [2^-40, 1e5] by integer max and min on its bits (non-negative floats order
        // as their bits do). Above 1e5, e^-|v| is 0 and the ratio exactly 1, so the product below
        // is x itself (+inf at +inf); the product takes x held at -1e5, which keeps -inf * 0 from
        // making NaN. Below 2^-40 the ratio is 1/2 to float precision, and a^2 and the error terms
        // stay normal floats (an underflowing product costs a microcode assist per lane: 2.3x slower
        // on data with 1 in 8 tiny values). NaN's bits lie above 1e5's: a NaN lane computes with
        // 1e5, and the product with x makes it NaN again.
        FloatVector a = (FloatVector) ((IntVector) x.abs().reinterpretAsInts()).max(TINY_BITS).min(GELU_TANH_CLAMP_BITS)
                .reinterpretAsFloats();
        FloatVector e = geluTanhTail(a);
        VectorMask<Float> positive = x.compare(GE, 0f);
        FloatVector num = e.blend(1f, positive);
        return x.blend(-1e5f, x.compare(LT, -1e5f)).mul(num.div(e.add(1f)));
    }

    // gelu_tanh'(x) = sigmoid(v) (1 + x sigmoid(-v) v'), v' = K1 + 3 K2 x^2. With a = |x|, e = e^-|v|
    // and r = 1/(1 + e): for x > 0, r + a v' e r^2 (no cancellation); for x <= 0, e r^2 G(a),
    // G(a) = 1 + e - a v'(a), which crosses zero at a0 = 0.75246142207101625..., where 1 + e and
    // a v' cancel. Within 0.3 of a0, G = -d S(d), d = a - a0 (a0 a float pair), S by its Taylor
    // series to d^7 (truncation 1e-8, computed with mpmath); elsewhere |G| > 0.74 and
    // (1 - a v') + e is fine.
    private static final float GELU_TANH_ROOT_HI = 0.7524614334106445f;
    private static final float GELU_TANH_ROOT_LO = -1.1339627903339533e-08f;
    private static final float GELU_TANH_ROOT_SERIES0 = 2.4606568813323975f;
    private static final float GELU_TANH_ROOT_SERIES1 = 0.09991152584552765f;
    private static final float GELU_TANH_ROOT_SERIES2 = 0.40044769644737244f;
    private static final float GELU_TANH_ROOT_SERIES3 = -0.0759589895606041f;
    private static final float GELU_TANH_ROOT_SERIES4 = 0.03048599138855934f;
    private static final float GELU_TANH_ROOT_SERIES5 = -0.011295231990516186f;
    private static final float GELU_TANH_ROOT_SERIES6 = 0.0036903773434460163f;
    private static final float GELU_TANH_ROOT_SERIES7 = -0.001152934622950852f;

    /**
     * gelu_tanh'(x) on float lanes, relative accuracy through its zero at x = -a0 (the double-lane
     * form it replaces for float32 took 2.4x as long). |x| held in [2^-40, 1e5] as in
     * {@link #geluTanh}: 1 above, -0 below (the limits); NaN in, NaN out.
     */
    static FloatVector geluTanhDerivative(FloatVector x) {
        FloatVector a = (FloatVector) ((IntVector) x.reinterpretAsInts()).and(0x7FFFFFFF).max(TINY_BITS)
                .min(GELU_TANH_CLAMP_BITS).reinterpretAsFloats();
        // The helper first: past C2's node cutoff (reached inside the exponential) it would stay
        // out of line and box (see JitDirectives).
        FloatVector nearRoot = geluTanhNearRoot(a);
        FloatVector e = geluTanhTail(a);
        FloatVector r = FloatVector.broadcast(Lanes.F, 1f).div(e.add(1f));
        FloatVector slope = a.mul(a).fma(3 * K2_HI, K1_HI).mul(a);
        FloatVector positive = slope.mul(e).mul(r).fma(r, r);
        // G = 1 + e - a v': the series within 0.3 of a0 (NaN elsewhere never: d is finite).
        FloatVector g = FloatVector.broadcast(Lanes.F, 1f).sub(slope).add(e)
                .blend(nearRoot, a.sub(GELU_TANH_ROOT_HI).abs().compare(LT, 0.3f));
        FloatVector negative = e.mul(r).mul(r).mul(g);
        return positive.blend(negative, x.compare(LE, 0f)).blend(x, x.compare(NE, x));
    }

    /** G(a) = -d S(d) for d = a - a0 by S's series (see above): accurate within 0.3 of a0. */
    private static FloatVector geluTanhNearRoot(FloatVector a) {
        FloatVector d = a.sub(GELU_TANH_ROOT_HI).sub(GELU_TANH_ROOT_LO);
        return d.fma(GELU_TANH_ROOT_SERIES7, GELU_TANH_ROOT_SERIES6)
                .fma(d, FloatVector.broadcast(Lanes.F, GELU_TANH_ROOT_SERIES5)).fma(d, FloatVector.broadcast(Lanes.F, GELU_TANH_ROOT_SERIES4))
                .fma(d, FloatVector.broadcast(Lanes.F, GELU_TANH_ROOT_SERIES3)).fma(d, FloatVector.broadcast(Lanes.F, GELU_TANH_ROOT_SERIES2))
                .fma(d, FloatVector.broadcast(Lanes.F, GELU_TANH_ROOT_SERIES1)).fma(d, FloatVector.broadcast(Lanes.F, GELU_TANH_ROOT_SERIES0))
                .mul(d.neg());
    }

    /**
     * e^-|v| for a = |x| in [2^-40, 1e5], |v| = a (K1 + K2 a^2) carried as vh + vl: a^2 and the
     * products split exactly by fma, K1 + K2 a^2 as wh + wl (K1_HI - wh is exact by Sterbenz while
     * K2 a^2 <= K1, i.e. a <= 4.7, which covers the range where it matters), the constants as hi +
     * lo. vl is added to the reduced argument of the exponential, and 2^k goes onto the exponent
     * field as an integer add: fewer multiplies than e^vh times a correction. 0 where vh > 87.
     */
    private static FloatVector geluTanhTail(FloatVector a) {
        FloatVector sh = a.mul(a);
        FloatVector sl = a.fma(a, sh.neg());
        FloatVector wh = sh.fma(K2_HI_V, K1_HI_V);
        FloatVector wl = sh.fma(K2_HI_V, K1_HI_V.sub(wh)).add(sl.fma(K2_HI_V, sh.fma(K2_LO_V, K1_LO_V)));
        FloatVector vh = a.mul(wh);
        FloatVector vl = a.fma(wl, a.fma(wh, vh.neg()));
        FloatVector e = expOfNegative(vh, vl, 1f);
        return e.blend(0f, vh.compare(GT, 87f));
    }

}
