package dev.soma.fallback.vector;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Tells HotSpot's C2 which of our methods to inline and which to compile on their own (Compiler
 * Control, JEP 165), through the DiagnosticCommand MBean's {@code compilerDirectivesAdd}, once,
 * before the first vector kernel runs.
 *
 * <p>Why: C2 parses a method and inlines its callees until about 18000 nodes, and a Vector API
 * operation costs it a few hundred. When it stops inside a loop's body, the helper it left out of
 * line receives and returns vectors as heap objects: every vector is allocated, 3 to 25 times
 * slower. Which compilation stops where depended on the order in which methods became hot, so the
 * same kernel was fast in one JVM and slow in the next (float32 softmax backward: 0.35 or 0.9 to 4
 * ns per element in cache in about one fresh JVM in three). The rule: the loop methods of the
 * elementwise and softmax classes, which take only segments, arrays and scalars, are never inlined
 * into their callers (dispatchers, row drivers), so each is compiled with the whole budget; a call
 * per chunk or row costs nothing measurable. The few helpers in those classes that take or return
 * vectors are exempted (forced in: out of line they would box). FMath, DMath and Lanes are left to
 * C2: forcing them in too raised other compilations past the cutoff (float64 softmax backward then
 * allocated 400-1300 bytes per element). A few op bodies in DMath and FMath are forced in by name
 * (see INLINE).
 * Forcing does not lift the cutoff itself: past it, C2 inlines only the JDK's @ForceInline methods,
 * so a kernel's own helpers must all be called before its vector math has used the budget up
 * (NoBoxingAfterEveryKernelTest checks every kernel in a process that has run all of them).
 * The directives match our package only. Where the MBean is missing (another JVM, a runtime
 * without jdk.management) or {@code -Dsoma.cpu.jitDirectives=false}, nothing is added and one line
 * is logged; results are the same bits either way, only speed differs.
 */
final class JitDirectives {
    /** System property: {@code false} leaves C2's own inlining decisions alone. */
    static final String PROPERTY = "soma.cpu.jitDirectives";
    private static final String PKG = "dev/soma/fallback/vector/";
    private static final System.Logger LOG = System.getLogger(JitDirectives.class.getName());

    /**
     * Inline rules, first match wins: loop methods out, except the few helpers in their classes
     * that take or return vectors (those must be inlined: out of line they box).
     */
    static final List<String> INLINE = List.of(
            "+" + PKG + "SoftmaxF32.lo", "+" + PKG + "SoftmaxF32.hi", "+" + PKG + "SoftmaxF32.expShifted",
            // Op bodies that C2 otherwise compiled on their own once hot, then refused to inline into
            // their loops ("already compiled into a big method"), or that are over its FreqInlineSize.
            "+" + PKG + "DMath.gelu", "+" + PKG + "DMath.geluDerivative", "+" + PKG + "DMath.gaussian",
            "+" + PKG + "DMath.erfcxFit", "+" + PKG + "DMath.softplus", "+" + PKG + "FMath.geluTanhDerivative",
            "+" + PKG + "FMath.mishDerivative",
            // A segment read: out of line, a call per PReLU row or window row.
            "+" + PKG + "Prelu.weight",
            // Called through expBounded(x, lite): where one element type's ops ran most, the other
            // branch's call looked cold to C2, which then refused that exponential's own compiled code
            // ("already compiled into a medium method"): float32 gelu', gelu_tanh', silu' and mish',
            // and float64 strided softmax, boxed their vectors.
            "+" + PKG + "DMath.expLite", "+" + PKG + "DMath.expFull",
            "-" + PKG + "Elementwise*.*", "-" + PKG + "SoftmaxF32.*", "-" + PKG + "SoftmaxF32Arrays.*",
            "-" + PKG + "Softmax.*", "-" + PKG + "SoftmaxPipelineF32.*", "-" + PKG + "SoftmaxPipelineF32Arrays.*",
            "-" + PKG + "Prelu.*", "-" + PKG + "StridedColumns*.*");

    private static final String OUTCOME = apply();

    private JitDirectives() {
    }

    /** Adds the directives once (class initialisation); returns what happened, for tests and logs. */
    static String outcome() {
        return OUTCOME;
    }

    static String json() {
        StringBuilder b = new StringBuilder("[{ match: [\"" + PKG + "*.*\"], inline: [");
        for (int i = 0; i < INLINE.size(); i++) {
            b.append(i == 0 ? "" : ", ").append('"').append(INLINE.get(i)).append('"');
        }
        return b.append("] }]\n").toString();
    }

    private static String apply() {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
            return "off (-D" + PROPERTY + "=false)";
        }
        Path file = null;
        try {
            file = Files.createTempFile("soma-jit-", ".json");
            Files.writeString(file, json(), StandardCharsets.UTF_8);
            Object reply = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            String text = String.valueOf(reply).trim();
            if (!text.startsWith("1 compiler directives added")) {
                return note("not added: the JVM replied \"" + text + "\"");
            }
            LOG.log(Level.DEBUG, "Soma: C2 inlining directives added");
            return "added";
        } catch (IOException | JMException | RuntimeException | LinkageError e) {
            return note("not added (" + e + ")");
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a leftover temp file of a few hundred bytes; nothing to do
                }
            }
        }
    }

    private static String note(String what) {
        LOG.log(Level.INFO, "Soma: C2 inlining directives " + what
                + "; the CPU kernels are correct but may be slower in some JVMs (see JitDirectives)");
        return what;
    }
}
