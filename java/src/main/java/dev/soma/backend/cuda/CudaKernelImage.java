package dev.soma.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The compiled kernels: the fatbin resource {@code dev/soma/cuda/soma.fatbin} that the cuda module's
 * build (cuda/build-fatbin.sh) packages, and its marker {@code build.properties}, which says whether
 * nvcc ran and, when it did not, why. Read once.
 */
public final class CudaKernelImage {
    /** Where the build puts the fatbin on the class path. */
    public static final String FATBIN_RESOURCE = "dev/soma/cuda/soma.fatbin";
    /** The build's marker: status=built|not-built, reason, archs. */
    public static final String MARKER_RESOURCE = "dev/soma/cuda/build.properties";

    private final Properties marker;
    private final boolean fatbinPresent;

    private CudaKernelImage(Properties marker, boolean fatbinPresent) {
        this.marker = marker;
        this.fatbinPresent = fatbinPresent;
    }

    private static final class Holder {
        static final CudaKernelImage INSTANCE = load();
    }

    /** The image on this class path. */
    public static CudaKernelImage get() {
        return Holder.INSTANCE;
    }

    private static CudaKernelImage load() {
        Properties p = new Properties();
        ClassLoader cl = CudaKernelImage.class.getClassLoader();
        try (InputStream in = cl.getResourceAsStream(MARKER_RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            p.setProperty("status", "unreadable");
            p.setProperty("reason", "its build marker could not be read: " + e.getMessage());
        }
        return new CudaKernelImage(p, cl.getResource(FATBIN_RESOURCE) != null);
    }

    /** An image described by a given marker (tests of the reasons). */
    static CudaKernelImage of(Properties marker, boolean fatbinPresent) {
        return new CudaKernelImage(marker, fatbinPresent);
    }

    /** True when the fatbin is on the class path and the build says it compiled it. */
    public boolean isBuilt() {
        return fatbinPresent && "built".equals(marker.getProperty("status"));
    }

    /**
     * Why the kernels are missing, phrased for {@code soma devices}: "kernels not built (nvcc was not
     * found at build time)"; empty when they are built.
     */
    public String unavailableReason() {
        if (isBuilt()) {
            return "";
        }
        String why = marker.getProperty("reason");
        if (why == null || why.isBlank()) {
            why = fatbinPresent ? "the build marker is missing" : "soma.fatbin is not on the class path";
        }
        return "kernels not built (" + why + ")";
    }

    /** SASS architectures compiled in, as the build recorded them ("75 80 86 89 90 100 120"). */
    public String archs() {
        return marker.getProperty("archs", "");
    }

    /** The build's note ("compiled by release 13.0, V13.0.88 in 43s"). */
    public String buildNote() {
        return marker.getProperty("reason", "");
    }

    /** The fatbin's bytes, for cuModuleLoadData. */
    public byte[] fatbin() {
        try (InputStream in = CudaKernelImage.class.getClassLoader().getResourceAsStream(FATBIN_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("CUDA " + unavailableReason());
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + FATBIN_RESOURCE + " from the class path failed", e);
        }
    }
}
