package dev.soma.fallback.vector;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.LE;

import dev.soma.op.Op;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Every elementwise op and its derivative on double lanes.
 *
 * <p>exp and expm1 are our own range reduction plus Taylor polynomials ({@link #expPolynomial},
 * {@link #expm1Polynomial}), made of +, *, fma, compares and bit operations only: they give the same
 * bits in the interpreter, C1 and C2 (issue #8). The Vector API's EXP/EXPM1 do not: C2 compiles them
 * to SVML calls, the interpreter and C1 use a per-lane Java fallback, and results differed by an ulp
 * before and after a loop got hot. {@code -Dsoma.cpu.svml=true} still selects SVML (NOT
 * deterministic; for comparison). The polynomials once measured 2-3x slower than SVML because C2
 * left helpers out of line (NodeCountInliningCutoff, "already compiled into a big method") and boxed
 * every vector crossing them; the generated loops now call the Vector API directly for loads and
 * stores and keep the masked tail in its own method, which keeps the math inlined.
 * erfc (GELU) and log1p (softplus) are ours too: the Vector API has neither.
 *
 * <p>{@code lite} selects shorter polynomials (relative error about 1e-13 instead of 1e-16) for
 * float32 data computed in double lanes. Not shorter still: derivatives like gelu' = Phi(x) + x phi(x)
 * cross zero, and near that root the absolute error of each term (term size times polynomial error)
 * must stay below 1e-11 for the float result to be within 1e-6 of the truth. Call sites pass a
 * constant, so the JIT folds the choice away.
 *
 * <p>Every function propagates NaN, returns the limit at +-inf (inputs are clamped where a formula
 * would form inf*0 or inf/inf), and uses the well-conditioned form of semantics.md. Derivative
 * functions return f'(x); the caller multiplies by dy.
 */
final class DMath {
    private DMath() {
    }

    static final boolean SVML = Boolean.getBoolean("soma.cpu.svml");
    private static final double LOG2E = 1.4426950408889634;
    /** ln 2 split so that n * LN2_HI is exact for |n| < 2^11. */
    private static final double LN2_HI = 0.6931467056274414;
    private static final double LN2_LO = 4.7493250390316726e-07;
    /** Adding 1.5 * 2^52 rounds to an integer that sits in the low mantissa bits. */
    private static final double SHIFTER = 0x1.8p52;
    private static final long SHIFTER_BITS = Double.doubleToRawLongBits(SHIFTER);
    static final double INV_SQRT2 = 0.7071067811865476;
    static final double INV_SQRT_2PI = 0.3989422804014327;
    static final double SQRT_2_OVER_PI = 0.7978845608028654;
    static final double GELU_TANH_C = 0.044715;
    static final double SELU_SCALE_ALPHA = Op.SELU_SCALE * Op.SELU_ALPHA;

    /** 1/k! for k = 0..13: Taylor series of exp on |r| <= ln2/2 (error 5e-18 at degree 13). */
    private static final double[] INV_FACT = {
        1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
        1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0};

    /**
     * erfc(z) * exp(z^2) * (1 + 2z) for z >= 0 as a polynomial in t = (z - 3) / (z + 3), fitted by us
     * (Chebyshev interpolation at 80 nodes in 50-digit arithmetic, truncated where the coefficients fall
     * below 1e-17, converted to monomials). Used by float32 too (see the class comment).
     */
    private static final double[] ERFCX_FULL = {
        1.2530080582697296, -0.13562110612458117, -0.0475622943534492, 0.1296451587027594,
        -0.11927366341538638, 0.0683080273440099, -0.02377051491717134, 0.0025293918156939696,
        0.0018886903449991718, -0.0007798322696543306, -0.00010515971958448065, 0.0001250993424583729,
        4.949196649968345e-06, -2.0100542268525612e-05, -7.308281468783614e-07, 3.472370944977168e-06,
        3.5576086684080595e-07, -6.166011460398726e-07, -1.4047654315428462e-07, 1.0183620603842736e-07,
        4.1064013667940355e-08, -1.3312919661038687e-08, -8.217595058711455e-09, 9.862533510345587e-10,
        8.393734858690877e-10};

    // Constant vectors as static finals (C2 folds them): a broadcast at the use site costs C2 dozens
    // of parse nodes, and past 18000 nodes (NodeCountInliningCutoff) it stops inlining our helpers,
    // which then box a vector per call.
    private static final DoubleVector EX0 = bc(ERFCX_FULL[0]);
    private static final DoubleVector EX1 = bc(ERFCX_FULL[1]);
    private static final DoubleVector EX2 = bc(ERFCX_FULL[2]);
    private static final DoubleVector EX3 = bc(ERFCX_FULL[3]);
    private static final DoubleVector EX4 = bc(ERFCX_FULL[4]);
    private static final DoubleVector EX5 = bc(ERFCX_FULL[5]);
    private static final DoubleVector EX6 = bc(ERFCX_FULL[6]);
    private static final DoubleVector EX7 = bc(ERFCX_FULL[7]);
    private static final DoubleVector EX8 = bc(ERFCX_FULL[8]);
    private static final DoubleVector EX9 = bc(ERFCX_FULL[9]);
    private static final DoubleVector EX10 = bc(ERFCX_FULL[10]);
    private static final DoubleVector EX11 = bc(ERFCX_FULL[11]);
    private static final DoubleVector EX12 = bc(ERFCX_FULL[12]);
    private static final DoubleVector EX13 = bc(ERFCX_FULL[13]);
    private static final DoubleVector EX14 = bc(ERFCX_FULL[14]);
    private static final DoubleVector EX15 = bc(ERFCX_FULL[15]);
    private static final DoubleVector EX16 = bc(ERFCX_FULL[16]);
    private static final DoubleVector EX17 = bc(ERFCX_FULL[17]);
    private static final DoubleVector EX18 = bc(ERFCX_FULL[18]);
    private static final DoubleVector EX19 = bc(ERFCX_FULL[19]);
    private static final DoubleVector EX20 = bc(ERFCX_FULL[20]);
    private static final DoubleVector EX21 = bc(ERFCX_FULL[21]);
    private static final DoubleVector EX22 = bc(ERFCX_FULL[22]);
    private static final DoubleVector EX23 = bc(ERFCX_FULL[23]);
    private static final DoubleVector EX24 = bc(ERFCX_FULL[24]);
    private static final DoubleVector IF0 = bc(INV_FACT[0]);
    private static final DoubleVector IF1 = bc(INV_FACT[1]);
    private static final DoubleVector IF2 = bc(INV_FACT[2]);
    private static final DoubleVector IF3 = bc(INV_FACT[3]);
    private static final DoubleVector IF4 = bc(INV_FACT[4]);
    private static final DoubleVector IF5 = bc(INV_FACT[5]);
    private static final DoubleVector IF6 = bc(INV_FACT[6]);
    private static final DoubleVector IF7 = bc(INV_FACT[7]);
    private static final DoubleVector IF8 = bc(INV_FACT[8]);
    private static final DoubleVector IF9 = bc(INV_FACT[9]);
    private static final DoubleVector IF10 = bc(INV_FACT[10]);
    private static final DoubleVector IF11 = bc(INV_FACT[11]);
    private static final DoubleVector IF12 = bc(INV_FACT[12]);
    private static final DoubleVector IF13 = bc(INV_FACT[13]);
    private static final DoubleVector INV3 = bc(1.0 / 3);
    private static final DoubleVector INV5 = bc(1.0 / 5);
    private static final DoubleVector INV7 = bc(1.0 / 7);
    private static final DoubleVector INV9 = bc(1.0 / 9);
    private static final DoubleVector INV11 = bc(1.0 / 11);
    private static final DoubleVector INV13 = bc(1.0 / 13);
    private static final DoubleVector INV15 = bc(1.0 / 15);
    private static final DoubleVector INV17 = bc(1.0 / 17);
    private static final DoubleVector INV19 = bc(1.0 / 19);
    private static final DoubleVector INV21 = bc(1.0 / 21);
    private static final DoubleVector INV23 = bc(1.0 / 23);
    private static final DoubleVector INV25 = bc(1.0 / 25);
    private static final DoubleVector INV27 = bc(1.0 / 27);
    private static final DoubleVector INV29 = bc(1.0 / 29);
    private static final DoubleVector INV31 = bc(1.0 / 31);
    private static final DoubleVector INV33 = bc(1.0 / 33);
    private static final DoubleVector INV35 = bc(1.0 / 35);

    /** A constant in every lane. */
    private static DoubleVector bc(double c) {
        return DoubleVector.broadcast(Lanes.D, c);
    }

    // Polynomials are written out term by term, never as a loop: a loop would carry the vector
    // through a loop phi, which C2 may box (an allocation per term) instead of keeping in a register.

    /** exp(r) on |r| <= ln2/2: Taylor to degree 13 (error 5e-18), or 10 (2e-13) when lite. */
    private static DoubleVector expPoly(DoubleVector r, boolean lite) {
        return lite ? expPolyLite(r) : expPolyFull(r);
    }

    private static DoubleVector expPolyLite(DoubleVector r) {
        DoubleVector p = IF10;
        p = p.fma(r, IF9);
        p = p.fma(r, IF8);
        p = p.fma(r, IF7);
        p = p.fma(r, IF6);
        p = p.fma(r, IF5);
        p = p.fma(r, IF4);
        p = p.fma(r, IF3);
        p = p.fma(r, IF2);
        p = p.fma(r, IF1);
        p = p.fma(r, IF0);
        return p;
    }

    /** expm1's Horner chain carried on by two more terms: the same operations, so the same bits. */
    private static DoubleVector expPolyFull(DoubleVector r) {
        return expm1PolyFull(r).fma(r, IF1).fma(r, IF0);
    }

    /** (expm1(r) - r) / r^2 = 1/2 + r/6 + ...: to r^11 (full) or r^9 (lite). */
    private static DoubleVector expm1Poly(DoubleVector r, boolean lite) {
        return lite ? expm1PolyLite(r) : expm1PolyFull(r);
    }

    private static DoubleVector expm1PolyLite(DoubleVector r) {
        DoubleVector p = IF11;
        p = p.fma(r, IF10);
        p = p.fma(r, IF9);
        p = p.fma(r, IF8);
        p = p.fma(r, IF7);
        p = p.fma(r, IF6);
        p = p.fma(r, IF5);
        p = p.fma(r, IF4);
        p = p.fma(r, IF3);
        p = p.fma(r, IF2);
        return p;
    }

    private static DoubleVector expm1PolyFull(DoubleVector r) {
        DoubleVector p = IF13;
        p = p.fma(r, IF12);
        p = p.fma(r, IF11);
        p = p.fma(r, IF10);
        p = p.fma(r, IF9);
        p = p.fma(r, IF8);
        p = p.fma(r, IF7);
        p = p.fma(r, IF6);
        p = p.fma(r, IF5);
        p = p.fma(r, IF4);
        p = p.fma(r, IF3);
        p = p.fma(r, IF2);
        return p;
    }

    // ---- exponential family -------------------------------------------------------------------

    /** e^x; overflows to +inf above 709.78, flushes through subnormals to 0 below -745. */
    static DoubleVector exp(DoubleVector x, boolean lite) {
        return SVML ? x.lanewise(VectorOperators.EXP) : expPolynomial(x, lite);
    }

    static DoubleVector expm1(DoubleVector x, boolean lite) {
        return SVML ? x.lanewise(VectorOperators.EXPM1) : expm1Polynomial(x, lite);
    }

    static DoubleVector expPolynomial(DoubleVector x, boolean lite) {
        // Clamps as compare + masked move: Java-semantics min/max cost C2 a longer sequence each
        // (NaN fails both compares and passes through; the same bits as max/min).
        DoubleVector xc = x.blend(-746.0, x.compare(LT, -746.0)).blend(710.0, x.compare(GT, 710.0));
        DoubleVector k = xc.fma(LOG2E, SHIFTER);
        DoubleVector n = k.sub(SHIFTER);
        DoubleVector r = n.fma(bc(-LN2_HI), xc);
        r = n.fma(bc(-LN2_LO), r);
        DoubleVector p = expPoly(r, lite);
        LongVector ni = k.reinterpretAsLongs().sub(SHIFTER_BITS);
        LongVector n1 = ni.lanewise(ASHR, 1);
        // Two factors so that neither 2^1024 nor subnormal powers of two need to be formed.
        return p.mul(n1.add(1023L).lanewise(LSHL, 52).reinterpretAsDoubles())
                .mul(ni.sub(n1).add(1023L).lanewise(LSHL, 52).reinterpretAsDoubles());
    }

    /** e^x - 1 with full relative accuracy near 0 (never exp(x) - 1). */
    static DoubleVector expm1Polynomial(DoubleVector x, boolean lite) {
        // Below -60, expm1 is -1 in double; above 710 it overflows (inf survives the clamp).
        DoubleVector xc = x.blend(-60.0, x.compare(LT, -60.0)).blend(710.0, x.compare(GT, 710.0));
        DoubleVector k = xc.fma(LOG2E, SHIFTER);
        DoubleVector n = k.sub(SHIFTER);
        DoubleVector r = n.fma(bc(-LN2_HI), xc);
        r = n.fma(bc(-LN2_LO), r);
        // q = expm1(r) = r + r^2 * (1/2 + r/6 + ...)
        DoubleVector p = expm1Poly(r, lite);
        DoubleVector q = r.mul(r).fma(p, r);
        // expm1(x) = 2^n q + (2^n - 1) = 2 (s q + (s - 1/2)) with s = 2^(n-1): exact for n = 0, +-1
        // and 2^1024 is never formed.
        DoubleVector s = k.reinterpretAsLongs().sub(SHIFTER_BITS + 1).add(1023L).lanewise(LSHL, 52).reinterpretAsDoubles();
        return s.fma(q, s.sub(0.5)).mul(2.0);
    }

    // ---- sigmoid and tanh ---------------------------------------------------------------------

    static DoubleVector sigmoid(DoubleVector x, boolean lite) {
        DoubleVector e = exp(x.abs().neg(), lite);
        DoubleVector num = DoubleVector.broadcast(Lanes.D, 1.0).blend(e, x.compare(LT, 0.0));
        return num.div(e.add(1.0));
    }

    /** sigmoid(x) * sigmoid(-x) = e / (1 + e)^2 with e = exp(-|x|): no cancellation at either tail. */
    static DoubleVector sigmoidDerivative(DoubleVector x, boolean lite) {
        DoubleVector e = exp(x.abs().neg(), lite);
        DoubleVector d = e.add(1.0);
        return e.div(d.mul(d));
    }

    static DoubleVector tanh(DoubleVector x, boolean lite) {
        DoubleVector m = expm1(x.abs().mul(-2.0), lite);
        DoubleVector t = m.neg().div(m.add(2.0));
        return t.blend(t.neg(), x.compare(LT, 0.0));
    }

    /** sech^2 x = 4e / (1 + e)^2 with e = exp(-2|x|) (never 1 - tanh^2). */
    static DoubleVector tanhDerivative(DoubleVector x, boolean lite) {
        DoubleVector e = exp(x.abs().mul(-2.0), lite);
        DoubleVector d = e.add(1.0);
        return e.mul(4.0).div(d.mul(d));
    }

    // ---- ELU family ----------------------------------------------------------------------------

    static DoubleVector elu(DoubleVector x, double alpha, boolean lite) {
        return expm1(x, lite).mul(alpha).blend(x, x.compare(GT, 0.0));
    }

    /** elu'(0) = alpha: the exponential branch is taken at 0 (PyTorch). */
    static DoubleVector eluDerivative(DoubleVector x, double alpha, boolean lite) {
        return exp(x, lite).mul(alpha).blend(1.0, x.compare(GT, 0.0));
    }

    static DoubleVector celu(DoubleVector x, double alpha, boolean lite) {
        return expm1(x.div(alpha), lite).mul(alpha).blend(x, x.compare(GT, 0.0));
    }

    static DoubleVector celuDerivative(DoubleVector x, double alpha, boolean lite) {
        return exp(x.div(alpha), lite).blend(1.0, x.compare(GT, 0.0));
    }

    /** dy celu'(x) (the float version needs the product inside: see FMath.celuGradient). */
    static DoubleVector celuGradient(DoubleVector x, DoubleVector g, double alpha, boolean lite) {
        return celuDerivative(x, alpha, lite).mul(g);
    }

    static DoubleVector selu(DoubleVector x, boolean lite) {
        return expm1(x, lite).mul(Op.SELU_ALPHA).blend(x, x.compare(GT, 0.0)).mul(Op.SELU_SCALE);
    }

    static DoubleVector seluDerivative(DoubleVector x, boolean lite) {
        return exp(x, lite).mul(SELU_SCALE_ALPHA).blend(Op.SELU_SCALE, x.compare(GT, 0.0));
    }

    // ---- GELU ----------------------------------------------------------------------------------

    // gelu and gelu' are split into helpers of under 325 bytecodes each: C2 does not inline a hot
    // method larger than that (FreqInlineSize, "hot method too big"), and a method left out of line
    // boxes the vectors it takes and returns (an allocation per vector; gelu' in one 369-byte
    // method allocated 36 bytes per float32 element and ran at half speed). Constants are static
    // final vectors: a call to bc() late in a big compilation hit NodeCountInliningCutoff and
    // allocated its vector on every iteration.

    /**
     * x Phi(x). Phi from erfc of |x| (accurate in both tails): erfc(a) = e^(-x^2/2) h(t) / (1 + 2a),
     * a = |x|/sqrt 2, h the erfcx fit in t = (a - 3)/(a + 3); e^(-x^2/2) with x^2 split exactly into
     * hi + lo, so large |x| loses nothing to rounding. Below -40, Phi underflows to 0; clamping keeps
     * -inf * 0 from making NaN.
     */
    static DoubleVector gelu(DoubleVector x, boolean lite) {
        DoubleVector xa = x.abs().min(FORTY);
        // Our helpers first, then only the Vector API's own calls (see erfcxFit).
        DoubleVector h = erfcxFit(xa);
        DoubleVector g = gaussian(xa, lite);
        // Phi(-|x|) = erfc(a)/2 = g h / (2 (1 + 2a)), a = |x|/sqrt 2.
        DoubleVector half = g.mul(h).div(xa.mul(INV_SQRT2_V).fma(TWO, ONE)).mul(HALF);
        DoubleVector p = half.neg().add(ONE).blend(half, x.compare(LE, ZERO));
        return x.max(MINUS_FORTY).mul(p);
    }

    /** Phi(x) + x phi(x), the same steps as {@link #gelu}. */
    static DoubleVector geluDerivative(DoubleVector x, boolean lite) {
        DoubleVector xa = x.abs().min(FORTY);
        DoubleVector h = erfcxFit(xa);
        DoubleVector g = gaussian(xa, lite);
        DoubleVector half = g.mul(h).div(xa.mul(INV_SQRT2_V).fma(TWO, ONE)).mul(HALF);
        DoubleVector p = half.neg().add(ONE).blend(half, x.compare(LE, ZERO));
        return x.max(MINUS_FORTY).min(FORTY).mul(g).fma(INV_SQRT_2PI_V, p);
    }

    /** e^(-x^2/2) for xa = |x| (clamped), with x^2 split exactly into hi + lo. */
    private static DoubleVector gaussian(DoubleVector xa, boolean lite) {
        DoubleVector hi = xa.mul(xa);
        DoubleVector lo = xa.fma(xa, hi.neg());
        DoubleVector h = hi.mul(MINUS_HALF);
        DoubleVector e = expBounded(h, lite);
        return e.mul(lo.mul(MINUS_HALF)).add(e);
    }

    /** x clamped to [-limit, limit] by compares and masked moves (Java-semantics min/max cost more; NaN passes). */
    private static DoubleVector clamp(DoubleVector x, double limit) {
        return x.blend(-limit, x.compare(LT, -limit)).blend(limit, x.compare(GT, limit));
    }

    /**
     * e^x for x <= 709 (the caller clamps) or NaN: {@link #expLite} for float32 data, {@link #expFull}
     * for float64 (both flush to 0 below -708, an absolute error under 3e-308).
     */
    static DoubleVector expBounded(DoubleVector x, boolean lite) {
        return SVML ? exp(x, lite) : lite ? expLite(x) : expFull(x);
    }

    /**
     * e^x for x <= 709 (or NaN) with the lite polynomial, for float32 data only: one scale factor
     * 2^n (a normal double for every n from -1021 to 1023), flush to 0 below x = -708 (absolute
     * error under 3e-308), every constant a static final vector. Cheaper than {@link #expPolynomial}
     * (no upper clamp, one scale factor), and fewer parse nodes: gelu' in float32 otherwise passes
     * C2's NodeCountInliningCutoff and leaves its erfc step out of line (boxed vectors, an
     * allocation per iteration).
     */
    /**
     * {@link #expLite} with the full polynomial, for float64 data: one scale factor and static
     * final constants keep the compilations of gelu, gelu' and softplus under C2's node cutoff, so
     * no helper is left out of line (each would box its vectors). Flushes to 0 below -708 (an
     * absolute error under 3e-308, far under rule 5's).
     */
    private static DoubleVector expFull(DoubleVector x) {
        VectorMask<Double> under = x.compare(LT, MINUS_708);
        DoubleVector xc = x.blend(MINUS_708, under);
        DoubleVector k = xc.fma(LOG2E_V, SHIFTER_V);
        DoubleVector n = k.sub(SHIFTER_V);
        DoubleVector r = n.fma(MINUS_LN2_LO_V, n.fma(MINUS_LN2_HI_V, xc));
        DoubleVector p = r.fma(IF13, IF12).fma(r, IF11).fma(r, IF10).fma(r, IF9).fma(r, IF8).fma(r, IF7)
                .fma(r, IF6).fma(r, IF5).fma(r, IF4).fma(r, IF3).fma(r, IF2).fma(r, IF1).fma(r, IF0);
        DoubleVector s = k.reinterpretAsLongs().add(EXP_BIAS_V).lanewise(LSHL, 52).reinterpretAsDoubles();
        return p.mul(s).blend(ZERO, under);
    }

    private static DoubleVector expLite(DoubleVector x) {
        VectorMask<Double> under = x.compare(LT, MINUS_708);
        DoubleVector xc = x.blend(MINUS_708, under);
        DoubleVector k = xc.fma(LOG2E_V, SHIFTER_V);
        DoubleVector n = k.sub(SHIFTER_V);
        DoubleVector r = n.fma(MINUS_LN2_LO_V, n.fma(MINUS_LN2_HI_V, xc));
        DoubleVector p = r.fma(IF10, IF9).fma(r, IF8).fma(r, IF7).fma(r, IF6).fma(r, IF5).fma(r, IF4)
                .fma(r, IF3).fma(r, IF2).fma(r, IF1).fma(r, IF0);
        // k's low mantissa bits hold n + 1.5 * 2^52; n + 1023 shifted into the exponent field.
        DoubleVector s = k.reinterpretAsLongs().add(EXP_BIAS_V).lanewise(LSHL, 52).reinterpretAsDoubles();
        return p.mul(s).blend(ZERO, under);
    }

    /**
     * h(t), t = (a - 3)/(a + 3), a = |x|/sqrt 2: the erfcx fit of {@link #gelu}. Computed before the
     * Gaussian, and the product g h / (2 (1 + 2a)) written out in gelu and gelu', because C2 stops
     * inlining our own methods once a compilation has parsed about 18000 nodes (the JDK's
     * @ForceInline ones it inlines later), and gelu's loop passes that in its last steps: the
     * helper that took g and h there stayed out of line and boxed its vectors (float64 gelu and
     * float32 gelu' allocated 48 bytes per element in a process that had run the other kernels;
     * NoBoxingAfterEveryKernelTest).
     */
    private static DoubleVector erfcxFit(DoubleVector xa) {
        DoubleVector a = xa.mul(INV_SQRT2_V);
        DoubleVector t = a.sub(THREE).div(a.add(THREE));
        return t.fma(EX24, EX23).fma(t, EX22).fma(t, EX21).fma(t, EX20).fma(t, EX19).fma(t, EX18)
                .fma(t, EX17).fma(t, EX16).fma(t, EX15).fma(t, EX14).fma(t, EX13).fma(t, EX12).fma(t, EX11)
                .fma(t, EX10).fma(t, EX9).fma(t, EX8).fma(t, EX7).fma(t, EX6).fma(t, EX5).fma(t, EX4)
                .fma(t, EX3).fma(t, EX2).fma(t, EX1).fma(t, EX0);
    }

    private static final DoubleVector ZERO = bc(0.0);
    private static final DoubleVector HALF = bc(0.5);
    private static final DoubleVector MINUS_708 = bc(-708.0);
    private static final DoubleVector LOG2E_V = bc(LOG2E);
    private static final DoubleVector SHIFTER_V = bc(SHIFTER);
    private static final DoubleVector MINUS_LN2_HI_V = bc(-LN2_HI);
    private static final DoubleVector MINUS_LN2_LO_V = bc(-LN2_LO);
    private static final LongVector EXP_BIAS_V = LongVector.broadcast(Lanes.D.withLanes(long.class), 1023L - SHIFTER_BITS);
    private static final DoubleVector INV_SQRT2_V = bc(INV_SQRT2);
    private static final DoubleVector ONE = bc(1.0);
    private static final DoubleVector TWO = bc(2.0);
    private static final DoubleVector THREE = bc(3.0);
    private static final DoubleVector FORTY = bc(40.0);
    private static final DoubleVector MINUS_FORTY = bc(-40.0);
    private static final DoubleVector MINUS_HALF = bc(-0.5);
    private static final DoubleVector INV_SQRT_2PI_V = bc(INV_SQRT_2PI);

    /** x/2 (1 + tanh u) = x sigmoid(2u): no cancellation for negative x. Steps written out (see gelu). */
    static DoubleVector geluTanh(DoubleVector x, boolean lite) {
        // Only the argument is clamped above: x > 1e5 gives e = 0 and a ratio of exactly 1, so the
        // product is x itself (+inf at +inf); below, -1e5 keeps -inf * 0 from making NaN.
        DoubleVector xl = x.blend(-1e5, x.compare(LT, -1e5));
        DoubleVector xc = xl.blend(1e5, xl.compare(GT, 1e5));
        // 2u = 2 sqrt(2/pi) (x + 0.044715 x^3)
        DoubleVector v = xc.mul(xc).fma(GELU_TANH_C, 1.0).mul(xc).mul(2 * SQRT_2_OVER_PI);
        DoubleVector e = expBounded(v.abs().neg(), lite);
        DoubleVector num = e.blend(ONE, v.compare(GE, ZERO));
        return xl.mul(num.div(e.add(ONE)));
    }

    static DoubleVector geluTanhDerivative(DoubleVector x, boolean lite) {
        DoubleVector xc = clamp(x, 1e5);
        DoubleVector v = xc.mul(xc).fma(GELU_TANH_C, 1.0).mul(xc).mul(2 * SQRT_2_OVER_PI);
        DoubleVector e = expBounded(v.abs().neg(), lite);
        // One division, as in siluDerivative.
        DoubleVector r = ONE.div(e.add(ONE));
        DoubleVector s = r.blend(e.mul(r), v.compare(LT, ZERO));
        DoubleVector sp = e.mul(r).mul(r);
        // d(2u)/dx = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        DoubleVector du2 = xc.mul(xc).fma(3 * GELU_TANH_C, 1.0).mul(2 * SQRT_2_OVER_PI);
        return xc.mul(sp).fma(du2, s);
    }

    // ---- SiLU, softplus, mish -----------------------------------------------------------------

    static DoubleVector silu(DoubleVector x, boolean lite) {
        return x.max(-1000.0).mul(sigmoid(x, lite));
    }

    /** sigmoid(x) + x sigmoid(x) sigmoid(-x). */
    static DoubleVector siluDerivative(DoubleVector x, boolean lite) {
        DoubleVector e = expBounded(x.abs().neg(), lite);
        // One division (a reciprocal) instead of two: a double division of 8 lanes costs more than
        // the rest of this function, and two more roundings (1e-16) are far below float32's needs.
        DoubleVector r = ONE.div(e.add(ONE));
        DoubleVector s = r.blend(e.mul(r), x.compare(LT, ZERO));
        DoubleVector sp = e.mul(r).mul(r);
        return clamp(x, 1000.0).fma(sp, s);
    }

    /** (1/beta) log(1 + e^(beta x)) = (max(bx, 0) + log1p(e^-|bx|)) / beta; x where beta x > threshold. */
    static DoubleVector softplus(DoubleVector x, double beta, double threshold, boolean lite) {
        DoubleVector bx = x.mul(beta);
        // log1p(u), u = e^-|bx| in [0, 1]: 2 atanh(s), s = u / (2 + u).
        DoubleVector u = expBounded(bx.abs().neg(), lite);
        DoubleVector s = u.div(u.add(2.0));
        DoubleVector z = s.mul(s);
        DoubleVector s2 = s.add(s);
        // (atanh(s)/s - 1) / s^2 = 1/3 + z/5 + ... in z = s^2, 12 terms (lite) or 16 (full), written
        // out: as a helper called here, past C2's node cutoff, it stayed out of line and boxed its
        // vectors (float64 softplus allocated 48 bytes per element in a process that had run the other
        // kernels; NoBoxingAfterEveryKernelTest). softplus is then over C2's FreqInlineSize, so
        // JitDirectives forces it in.
        DoubleVector q = lite
                ? INV27.fma(z, INV25).fma(z, INV23).fma(z, INV21).fma(z, INV19).fma(z, INV17)
                    .fma(z, INV15).fma(z, INV13).fma(z, INV11).fma(z, INV9).fma(z, INV7).fma(z, INV5)
                    .fma(z, INV3)
                : INV35.fma(z, INV33).fma(z, INV31).fma(z, INV29).fma(z, INV27).fma(z, INV25)
                    .fma(z, INV23).fma(z, INV21).fma(z, INV19).fma(z, INV17).fma(z, INV15).fma(z, INV13)
                    .fma(z, INV11).fma(z, INV9).fma(z, INV7).fma(z, INV5).fma(z, INV3);
        DoubleVector l = s2.mul(z).fma(q, s2);
        return bx.max(0.0).add(l).div(beta).blend(x, bx.compare(GT, threshold));
    }

    static DoubleVector softplusDerivative(DoubleVector x, double beta, double threshold, boolean lite) {
        DoubleVector bx = x.mul(beta);
        return sigmoid(bx, lite).blend(1.0, bx.compare(GT, threshold));
    }

    /** x tanh(softplus x) with tanh(log(1 + e)) = n / (n + 2), n = e (e + 2), e = e^x. */
    static DoubleVector mish(DoubleVector x, boolean lite) {
        DoubleVector e = exp(x.min(40.0), lite);
        DoubleVector n = e.add(2.0).mul(e);
        return x.max(-1000.0).mul(n.div(n.add(2.0)));
    }

    /** tanh(sp) + x sech^2(sp) sigmoid(x), sech^2(sp) = 4(n + 1)/(n + 2)^2; 1 above x = 40. */
    static DoubleVector mishDerivative(DoubleVector x, boolean lite) {
        DoubleVector e = expBounded(x.blend(40.0, x.compare(GT, 40.0)), lite);
        DoubleVector n = e.add(2.0).mul(e);
        DoubleVector n2 = n.add(2.0);
        DoubleVector e1 = e.add(1.0);
        // One division for the three quotients (n2 e1 <= 1.3e52 at x = 40, no overflow): a double
        // division of 8 lanes costs more than the rest of this function.
        DoubleVector q = ONE.div(n2.mul(e1));
        DoubleVector inv2 = e1.mul(q);
        DoubleVector t = n.mul(inv2);
        DoubleVector sech2 = n.add(1.0).mul(4.0).mul(inv2).mul(inv2);
        DoubleVector sig = e.mul(n2).mul(q);
        DoubleVector grad = x.blend(-1000.0, x.compare(LT, -1000.0)).blend(40.0, x.compare(GT, 40.0)).mul(sech2).fma(sig, t);
        return grad.blend(1.0, x.compare(GT, 40.0));
    }

    // ---- piecewise-linear ops in double lanes (float64 data) ----------------------------------

    /** Makes a derivative NaN wherever x is NaN (rule 1, also where PyTorch passes the gradient). */
    static DoubleVector nanFrom(DoubleVector x, DoubleVector d) {
        VectorMask<Double> nan = x.compare(VectorOperators.NE, x);
        return d.blend(x, nan);
    }

    static DoubleVector relu(DoubleVector x) {
        return x.max(0.0);
    }

    static DoubleVector reluDerivative(DoubleVector x) {
        return nanFrom(x, DoubleVector.zero(Lanes.D).blend(1.0, x.compare(GT, 0.0)));
    }

    static DoubleVector leakyRelu(DoubleVector x, double alpha) {
        return scaleNegative(x, alpha).blend(x, x.compare(GT, 0.0));
    }

    /** alpha x, except that a zero slope gives 0 at x = -inf (the limit), not 0 * inf = NaN. */
    static DoubleVector scaleNegative(DoubleVector x, double alpha) {
        DoubleVector y = x.mul(alpha);
        return alpha == 0.0 ? y.blend(0.0, x.compare(EQ, Double.NEGATIVE_INFINITY)) : y;
    }

    static DoubleVector leakyReluDerivative(DoubleVector x, double alpha) {
        return nanFrom(x, DoubleVector.broadcast(Lanes.D, alpha).blend(1.0, x.compare(GT, 0.0)));
    }

    static DoubleVector relu6(DoubleVector x) {
        return x.max(0.0).min(6.0);
    }

    static DoubleVector relu6Derivative(DoubleVector x) {
        return nanFrom(x, DoubleVector.zero(Lanes.D).blend(1.0, x.compare(GT, 0.0).and(x.compare(LT, 6.0))));
    }

    static DoubleVector hardsigmoid(DoubleVector x) {
        return x.add(3.0).max(0.0).min(6.0).div(6.0);
    }

    static DoubleVector hardsigmoidDerivative(DoubleVector x) {
        return nanFrom(x, DoubleVector.zero(Lanes.D).blend(1.0 / 6, x.compare(GT, -3.0).and(x.compare(LT, 3.0))));
    }

    /**
     * x (x + 3) / 6 inside (-3, 3): x + 3 is exact near -3, so no cancellation there. x itself at
     * and above 3 (x * 6 / 6 would overflow for huge x), 0 at and below -3 (also at -inf).
     */
    static DoubleVector hardswish(DoubleVector x) {
        DoubleVector y = x.add(3.0).mul(x).div(6.0);
        return y.blend(x, x.compare(GE, 3.0)).blend(0.0, x.compare(LE, -3.0));
    }

    /** PyTorch: 0 below -3, (2x + 3)/6 on [-3, 3], 1 above. */
    static DoubleVector hardswishDerivative(DoubleVector x) {
        DoubleVector mid = x.fma(2.0, 3.0).div(6.0);
        DoubleVector d = mid.blend(0.0, x.compare(LT, -3.0)).blend(1.0, x.compare(GT, 3.0));
        return nanFrom(x, d);
    }
}
