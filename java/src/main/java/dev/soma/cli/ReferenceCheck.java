package dev.soma.cli;

import dev.soma.op.DType;
import dev.soma.verify.ErrorMetric;
import dev.soma.verify.Verifier;
import java.io.PrintWriter;
import java.util.Locale;

/** {@code --verify}: prints the comparison with the reference and fails the run above tolerance. */
final class ReferenceCheck {
    private ReferenceCheck() {
    }

    /** A fresh verifier over the scalar reference (inputs come from the user, so the seed is unused). */
    static Verifier verifier() {
        return new Verifier(0);
    }

    /**
     * Prints one line; throws {@link VerificationFailedException} (before the output is committed,
     * so nothing is written) when the error is over tolerance.
     */
    static void report(Verifier.Finding f, DType t, String what, PrintWriter out) {
        double tol = ErrorMetric.tolerance(t);
        boolean ok = f.error() <= tol;
        out.println(String.format(Locale.ROOT, "verify: %s: max error %.3g against the float64 reference (tolerance %.0e): %s",
                what, f.error(), tol, ok ? "ok" : "FAILED"));
        out.flush();
        if (!ok) {
            throw new VerificationFailedException(String.format(Locale.ROOT,
                    "verification failed: %s has max error %.3g over the tolerance %.0e (worst: %s); output not written",
                    what, f.error(), tol, f.where()));
        }
    }
}
