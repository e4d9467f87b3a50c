package dev.soma.fallback;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Chooses the CPU kernels at start-up, as Lucene's VectorizationProvider does: the Vector API path
 * when the {@code jdk.incubator.vector} module is present and the hardware has SIMD, else the scalar
 * path, logging one line with the reason and how to enable the fast path.
 * The system property {@code soma.cpu.kernels} ({@code vector} or {@code scalar}) forces a path.
 */
public final class CpuKernelsProvider {
    /** System property that forces a path: {@code vector} or {@code scalar}. */
    public static final String FORCE_PROPERTY = "soma.cpu.kernels";
    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String VECTOR_CLASS = "dev.soma.fallback.vector.VectorKernels";
    private static final System.Logger LOG = System.getLogger(CpuKernelsProvider.class.getName());

    private CpuKernelsProvider() {
    }

    /** The scalar double-precision reference: the truth for every test. */
    public static CpuKernels reference() {
        return new dev.soma.fallback.scalar.ScalarKernels(); // stateless: a fresh one costs nothing
    }

    /** float32 SIMD lanes the fast path uses (1 on the scalar path). */
    public static int floatLanes() {
        return Choice.LANES;
    }

    /** The fastest available CPU kernels (chosen once, cached). */
    public static CpuKernels fastest() {
        return Choice.KERNELS;
    }

    /** Lazily initialised once, on first use (class initialisation is thread-safe). */
    private static final class Choice {
        static final CpuKernels KERNELS;
        static final int LANES;

        static {
            CpuKernels chosen = choose();
            KERNELS = chosen;
            LANES = chosen.name().equals("vector") ? vectorLanes() : 1;
        }
    }

    private static CpuKernels choose() {
        String forced = System.getProperty(FORCE_PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        if (!forced.isEmpty() && !forced.equals("vector") && !forced.equals("scalar")) {
            throw new IllegalArgumentException("-D" + FORCE_PROPERTY + "=" + forced
                    + " is not a CPU kernel path; use vector or scalar (or leave it unset to choose automatically)");
        }
        if (forced.equals("scalar")) {
            LOG.log(Level.INFO, "Soma CPU kernels: scalar (forced by -D" + FORCE_PROPERTY + "=scalar)");
            return reference();
        }
        String reason = whyNoVector();
        if (reason == null) {
            return newVectorKernels();
        }
        if (forced.equals("vector")) {
            throw new IllegalStateException("-D" + FORCE_PROPERTY + "=vector was requested but " + reason);
        }
        LOG.log(Level.WARNING, "Soma CPU kernels: scalar, " + reason);
        return reference();
    }

    /** Null when the vector path can run, else the reason it cannot and how to fix it. */
    private static String whyNoVector() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return "the " + VECTOR_MODULE + " module is not loaded; start the JVM with --add-modules "
                    + VECTOR_MODULE + " for the SIMD path (several times faster)";
        }
        int lanes;
        try {
            lanes = vectorLanes();
        } catch (RuntimeException | LinkageError e) {
            return "the SIMD path failed to load (" + e + "); check that the JDK is 25 or newer";
        }
        if (lanes < 2) {
            return "this CPU or JVM offers no SIMD float lanes (preferred vector species has " + lanes
                    + " lane); nothing to gain from the vector path";
        }
        return null;
    }

    // The vector classes are touched only by reflection, after the module check, so this class
    // loads (and the scalar path works) on a JVM started without --add-modules.
    private static int vectorLanes() {
        try {
            return (int) Class.forName(VECTOR_CLASS).getMethod("preferredFloatLanes").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot query " + VECTOR_CLASS + ": " + e, e);
        }
    }

    private static CpuKernels newVectorKernels() {
        try {
            return (CpuKernels) Class.forName(VECTOR_CLASS).getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot create " + VECTOR_CLASS + ": " + e, e);
        }
    }
}
