#!/usr/bin/env python3
"""Writes Elementwise32.java and Elementwise64.java: one explicit loop per op, direction and type.

Why generated: the JIT must inline each op's vector math into its own loop. A shared loop taking a
lambda gets compiled once, megamorphic, and then boxes every vector; 64 hand-written copies of the same
twelve lines would drift. Run from the repository root after changing an op's entry below:
    python3 fallback/tools/gen_elementwise_loops.py
With --check it only compares (the test suite runs that: GeneratedSourcesTest).
"""
import pathlib
import re

from gen_common import ROOT, emit


# op: (forward, derivative), float32 on float lanes with FMath, float64 with DMath. {M} becomes the
# class, {A} alpha; {LF} is DMath's lite argument (float64 only; FMath takes none). (The derivatives that
# cross zero, gelu', gelu_tanh', silu' and mish', once widened float32 to double lanes; FMath now
# keeps their cancelling factor apart, and the widening went with them.)
OPS = {
    "SIGMOID": ("{M}.sigmoid(v{LF})", "{M}.sigmoidDerivative(v{LF})"),
    "TANH": ("{M}.tanh(v{LF})", "{M}.tanhDerivative(v{LF})"),
    "RELU": ("{M}.relu(v)", "{M}.reluDerivative(v)"),
    "LEAKY_RELU": ("{M}.leakyRelu(v, {A})", "{M}.leakyReluDerivative(v, {A})"),
    "ELU": ("{M}.elu(v, {A}{LF})", "{M}.eluDerivative(v, {A}{LF})"),
    "CELU": ("{M}.celu(v, {A}{LF})", "{M}.celuGradient(v, g, {A}{LF})"),
    "SELU": ("{M}.selu(v{LF})", "{M}.seluDerivative(v{LF})"),
    "GELU": ("{M}.gelu(v{LF})", "{M}.geluDerivative(v{LF})"),
    "GELU_TANH": ("{M}.geluTanh(v{LF})", "{M}.geluTanhDerivative(v{LF})"),
    "SILU": ("{M}.silu(v{LF})", "{M}.siluDerivative(v{LF})"),
    "SOFTPLUS": ("{M}.softplus(v, b, c{LF})", "{M}.softplusDerivative(v, b, c{LF})"),
    "MISH": ("{M}.mish(v{LF})", "{M}.mishDerivative(v{LF})"),
    "RELU6": ("{M}.relu6(v)", "{M}.relu6Derivative(v)"),
    "HARDSIGMOID": ("{M}.hardsigmoid(v)", "{M}.hardsigmoidDerivative(v)"),
    "HARDSWISH": ("{M}.hardswish(v)", "{M}.hardswishDerivative(v)"),
}


# (op, direction, float32?): (condition, loop name, expression): a second loop chosen once per call
# when the condition holds. softplus with a power-of-two beta (the default 1) needs no compensation;
# with both forms in one loop C2 compiled both into a latency-bound, un-unrolled loop.
# celu and celu' with alpha > 0 a power of two (the default 1): where other alphas had run too, the
# general loop merged vectors from both sides of its alpha branches and allocated one per iteration.
SPLIT = {
    ("SOFTPLUS", "forward", True): ("FMath.isPowerOfTwo(b)", "SOFTPLUS_POWER_OF_TWO",
                                    "FMath.softplusPowerOfTwo(v, (float) b, (float) c)"),
    ("SOFTPLUS", "backward", True): ("FMath.isPowerOfTwo(b)", "SOFTPLUS_POWER_OF_TWO",
                                     "FMath.softplusPowerOfTwoDerivative(v, (float) b, (float) c)"),
    ("CELU", "forward", True): ("a > 0 && FMath.isPowerOfTwo(a)", "CELU_POSITIVE_POWER_OF_TWO",
                                "FMath.celuPositivePowerOfTwo(v, (float) a)"),
    ("CELU", "backward", True): ("a > 0 && FMath.isPowerOfTwo(a)", "CELU_POSITIVE_POWER_OF_TWO",
                                 "FMath.celuPositivePowerOfTwoDerivative(v, (float) a)"),
}


# (loop, float32?): (first stage, second stage): float32 forwards run in two passes over blocks
# of Lanes.STAGE_BLOCK elements (see Lanes.STAGE_BLOCK for why). The first stage's vector (an
# exponential) goes to a scratch array in L1, the second reads it back as s. The composition is
# the op's FMath method itself, so the bits are the same as a one-pass loop's (and the tail's).
# Left out: ops that did not gain in cache on one core (sigmoid 0.18 -> 0.19 ns per element and silu
# 0.20 -> 0.22: too little after the exponential; gelu and gelu_tanh: their exponential is not the
# long part of the chain; tanh has no exponential; elu, selu and celu little after their expm1).
# The third field puts each pass in a method of its own: softplus with any beta has too much
# vector math for one compilation (past C2's node cutoff it called softplusFrom out of line,
# boxing every vector: 1.3 ns per element against 0.27 for beta 1).
STAGED = {
    ("MISH", True): ("FMath.mishExp(v)", "FMath.mishFrom(v, s)", False),
    ("SOFTPLUS", True): ("FMath.softplusExp(v, b)", "FMath.softplusFrom(v, s, b, c)", True),
    ("SOFTPLUS_POWER_OF_TWO", True): ("FMath.softplusPowerOfTwoExp(v, (float) b)",
                                      "FMath.softplusPowerOfTwoFrom(v, s, (float) b, (float) c)", False),
}


def camel(name):
    parts = name.lower().split("_")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def accessors(f32, arrays):
    """(species, lanes, mask type, vector type, load, store, byte-lane cast for full stores) of a loop."""
    if arrays:
        # Element index = the operand's offset into its array + i.
        at, load_f, store_f = "{s}o + i{m}", "fromArray({sp}, {s}, {at})", "intoArray(y, yo + i{m});"
    else:
        size = "Float" if f32 else "Double"
        at = "i * " + size + ".BYTES, Lanes.NO{m}"
        load_f, store_f = "fromMemorySegment({sp}, {s}, {at})", "intoMemorySegment(y, i * " + size + ".BYTES, Lanes.NO{m});"
    if f32:
        load = "FloatVector." + load_f.format(sp="Lanes.F", s="{s}", at=at)
        return "Lanes.F", "Lanes.F.length()", "Float", "FloatVector", load, "{e}{b}." + store_f, ".reinterpretShape(Lanes.B, 0)"
    load = "DoubleVector." + load_f.format(sp="Lanes.D", s="{s}", at=at)
    return "Lanes.D", "Lanes.D.length()", "Double", "DoubleVector", load, "{e}{b}." + store_f, ".reinterpretShape(Lanes.BD, 0)"


def loop(method, expr, backward, f32, arrays=False, staged=None):
    """One loop over full vectors, then one masked vector for the tail (same math, so same results).

    With arrays, the same loop over Java arrays: fromArray / intoArray, which C2 compiles to vector
    instructions, where loads and stores on a heap MemorySegment take the per-lane fallback (see
    Staging)."""
    species, lanes, mask_t, vt, load, store, bytes_ = accessors(f32, arrays)
    arr = "float[]" if f32 else "double[]"
    if arrays:
        x_p, y_p, dy_p = f"{arr} x, int xo, ", f"{arr} y, int yo, ", f"{arr} dy, int dyo, "
        x_a, y_a, dy_a, idx = "x, xo, ", "y, yo, ", "dy, dyo, ", "int"
    else:
        x_p, y_p, dy_p = "MemorySegment x, ", "MemorySegment y, ", "MemorySegment dy, "
        x_a, y_a, dy_a, idx = "x, ", "y, ", "dy, ", "long"
    if not backward:
        dy_p = dy_a = ""
    # A backward expression that names g is the whole gradient (dy f'(x)); others are f'(x) times g.
    body_expr = f"{expr}.mul(g)" if backward and not re.search(r"\bg\b", expr) else expr
    nan = "Double.NaN" if vt == "DoubleVector" else "Float.NaN"
    def body(m):
        lines = [f"{vt} v = {load.format(s='x', m=m)};"]
        if backward:
            lines.append(f"{vt} g = {load.format(s='dy', m=m)};")
        # Every NaN leaves as the canonical quiet NaN: which NaN payload (and sign) an operation
        # returns when two NaNs meet depends on operand order, which C2 may change (commuted adds,
        # its own min/max sequences), so without this NaN bits differed between JIT tiers (issue #8).
        lines.append(f"{vt} r = {body_expr};")
        # A forward is NaN exactly where x is (rule 1; the tests hold every op to it), so its mask is
        # taken from x, off the end of the op's dependency chain; a backward can also get NaN from
        # dy or from inf * 0, so its mask is taken from the result.
        # NaN lanes as src != src (one unordered compare; test(IS_NAN) is an integer mask test with
        # two broadcast constants). Full-vector stores to segments go through byte lanes: see
        # Lanes.store for why (the Vector API's own fallback pollutes FloatVector/DoubleVector
        # stores' profiles); array stores are not affected.
        src = "r" if backward else "v"
        lines.append(store.format(e=f"r.blend({nan}, {src}.compare(VectorOperators.NE, {src}))", m=m,
                                  b="" if m or arrays else bytes_))
        return lines
    fa = ["        float fa = (float) a;"] if f32 else []
    out = [f"    static void {method}({x_p}{dy_p}{y_p}{idx} from, {idx} to,",
           f"            double a, double b, double c) {{"]
    out += fa
    out += [f"        {idx} i = from;"]
    if staged:
        # Blocks of whole vectors, each in two passes through s (see Lanes.STAGE_BLOCK); the
        # same passes take the last, shorter block, so the loop body is parsed once per stage.
        cast = "" if arrays else "(int) "
        first, second, own_methods = staged
        at = (lambda s_: f"{s_}o + i + j") if arrays else (lambda s_: f"(i + j) * Float.BYTES, Lanes.NO")
        load_j = (lambda s_: f"FloatVector.fromArray(Lanes.F, {s_}, {at(s_)})") if arrays else \
            (lambda s_: f"FloatVector.fromMemorySegment(Lanes.F, {s_}, {at(s_)})")
        store_j = "intoArray(y, yo + i + j);" if arrays else \
            "reinterpretShape(Lanes.B, 0).intoMemorySegment(y, (i + j) * Float.BYTES, Lanes.NO);"
        first_loop = [f"for (int j = 0; j < m; j += {lanes}) {{",
                      f"    FloatVector v = {load_j('x')};",
                      f"    {first}.intoArray(s, j);",
                      f"}}"]
        second_loop = [f"for (int j = 0; j < m; j += {lanes}) {{",
                       f"    FloatVector v = {load_j('x')};",
                       f"    FloatVector r = {second.replace('(v, s', '(v, FloatVector.fromArray(Lanes.F, s, j)')};",
                       f"    r.blend(Float.NaN, v.compare(VectorOperators.NE, v)).{store_j}",
                       f"}}"]
        if own_methods:
            passes = [f"{method}First({x_a}s, i, m, a, b, c);", f"{method}Second({x_a}s, {y_a}i, m, a, b, c);"]
        else:
            passes = first_loop + second_loop
        out += [f"        {idx} end = from + {species}.loopBound(to - from);",
                f"        if (i < end) {{",
                f"            float[] s = new float[{cast}Math.min(Lanes.STAGE_BLOCK, end - from)];",
                f"            while (i < end) {{",
                f"                int m = {cast}Math.min(s.length, end - i);"]
        out += ["                " + l for l in passes]
        out += [f"                i += m;",
                f"            }}",
                f"        }}"]
    else:
        out += [f"        for ({idx} end = from + {species}.loopBound(to - from); i < end; i += {lanes}) {{"]
        out += ["            " + l for l in body("")]
        out += [f"        }}"]
    out += [f"        if (i < to) {{",
            f"            {method}Tail({x_a}{dy_a}{y_a}i, to, a, b, c);",
            "        }", "    }", ""]
    if staged and own_methods:
        # Each pass a method of its own, so that each is compiled with C2's whole node budget
        # (see STAGED); JitDirectives keeps C2 from inlining them into the block loop.
        out += [f"    private static void {method}First({x_p}float[] s, {idx} i, int m, double a, double b, double c) {{"]
        out += fa + ["        " + l for l in first_loop] + ["    }", ""]
        out += [f"    private static void {method}Second({x_p}float[] s, {y_p}{idx} i, int m, double a, double b, double c) {{"]
        out += fa + ["        " + l for l in second_loop] + ["    }", ""]
    # The tail is its own method so that the loop's compilation parses the op's vector math once:
    # C2 stops inlining our (not force-inlined) helpers past a node count, and a helper left out of
    # line boxes every vector that crosses it (an allocation per vector, 2-3x slower).
    out += [f"    private static void {method}Tail({x_p}{dy_p}{y_p}{idx} i, {idx} to,",
            f"            double a, double b, double c) {{"]
    out += fa
    out += [f"        VectorMask<{mask_t}> m = {species}.indexInRange(i, to);"]
    out += ["        " + l for l in body(", m")]
    out += ["    }", ""]
    return out


def generate(f32, arrays=False):
    cls = ("Elementwise32" if f32 else "Elementwise64") + ("Arrays" if arrays else "")
    kind = "float32" if f32 else "float64"
    arr = "float[]" if f32 else "double[]"
    over = "over elements [from, to)"
    if arrays:
        over = ("over Java\n"
                " * arrays, elements [from, to) from each array's offset: for heap tensors, which C2\n"
                " * vectorizes through fromArray/intoArray but not through MemorySegment.ofArray (see Staging)")
    out = [
        "package dev.soma.fallback.vector;",
        "",
        "import dev.soma.op.Op;",
        None if arrays else "import java.lang.foreign.MemorySegment;",
        "import jdk.incubator.vector.DoubleVector;",
        "import jdk.incubator.vector.FloatVector;" if f32 else None,
        "import jdk.incubator.vector.VectorMask;",
        "import jdk.incubator.vector.VectorOperators;",
        "",
        "/**",
        f" * Elementwise {kind} loops, one per op and direction, {over}.",
        " * GENERATED by fallback/tools/gen_elementwise_loops.py: edit the script, not this file.",
        " * Parameters: a = alpha, b = beta, c = threshold (each op reads only its own).",
        " */",
        f"final class {cls} {{",
        f"    private {cls}() {{",
        "    }",
        "",
    ]
    out = [l for l in out if l is not None]
    for direction in ("forward", "backward"):
        bwd = direction == "backward"
        if arrays:
            dy = "dy, dyo, " if bwd else ""
            dyp = f"{arr} dy, int dyo, " if bwd else ""
            out += [f"    static void {direction}(Op op, {arr} x, int xo, {dyp}{arr} y, int yo, int from, int to,",
                    "            double a, double b, double c) {",
                    "        switch (op) {"]
            xs, ys = "x, xo, ", "y, yo, "
        else:
            dy = "dy, " if bwd else ""
            dyp = "MemorySegment dy, " if bwd else ""
            out += [f"    static void {direction}(Op op, MemorySegment x, {dyp}MemorySegment y, long from, long to,",
                    "            double a, double b, double c) {",
                    "        switch (op) {"]
            xs, ys = "x, ", "y, "
        for op in OPS:
            if (op, direction, f32) in SPLIT:
                alt = SPLIT[(op, direction, f32)]
                out += [f"            case {op} -> {{",
                        f"                if ({alt[0]}) {{",
                        f"                    {camel(alt[1])}{direction.capitalize()}({xs}{dy}{ys}from, to, a, b, c);",
                        "                } else {",
                        f"                    {camel(op)}{direction.capitalize()}({xs}{dy}{ys}from, to, a, b, c);",
                        "                }",
                        "            }"]
                continue
            out.append(f"            case {op} -> {camel(op)}{direction.capitalize()}({xs}{dy}{ys}from, to, a, b, c);")
        out += [f"            default -> throw new IllegalArgumentException(op + \" is not elementwise\");",
                "        }", "    }", ""]
    for op, (fwd, der) in OPS.items():
        subst = dict(M="FMath" if f32 else "DMath", A="fa" if f32 else "a",
                     LF="" if f32 else ", false")
        for direction, expr in (("Forward", fwd), ("Backward", der)):
            fwd32 = direction == "Forward" and f32
            out += loop(camel(op) + direction, expr.format(**subst), direction == "Backward", f32, arrays,
                        STAGED.get((op, True)) if fwd32 else None)
            alt = SPLIT.get((op, direction.lower(), f32))
            if alt:
                out += loop(camel(alt[1]) + direction, alt[2], direction == "Backward", f32, arrays,
                            STAGED.get((alt[1], True)) if fwd32 else None)
    out[-1:] = ["}"]
    return "\n".join(out) + "\n"


root = ROOT
for f32 in (True, False):
    for arrays in (False, True):
        name = ("Elementwise32" if f32 else "Elementwise64") + ("Arrays" if arrays else "") + ".java"
        emit(root / name, generate(f32, arrays), pathlib.Path(__file__).name)
