package dev.soma.backend.opencl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * Warns, once per process, when an OpenCL context is about to be opened in a JVM that was started
 * without the JDK's signal-chaining library (libjsig).
 *
 * <p>Why: drivers such as PoCL install their own SIGSEGV, SIGBUS and SIGFPE handlers over the JVM's.
 * HotSpot uses those signals itself (implicit null checks, safepoint polls), so without libjsig to
 * chain the handlers such a JVM can later die with a bare "Segmentation fault" and no hs_err file,
 * long after the OpenCL call that caused it. A warning at the moment of risk names the fix; the
 * crash itself would not. Detection reads {@code /proc/self/maps}, so it only speaks on Linux.
 */
final class SignalChaining {
    private static final System.Logger LOG = System.getLogger("dev.soma");
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private SignalChaining() {
    }

    /** Logs the warning the first time it is called in a Linux JVM that has no libjsig mapped. */
    static void warnOnceIfMissing() {
        if (loaded(Path.of("/proc/self/maps")) == Boolean.FALSE && WARNED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "OpenCL in a JVM started without libjsig: drivers such as "
                    + "PoCL replace the JVM's signal handlers and the JVM may crash later; start it with "
                    + "LD_PRELOAD=$JAVA_HOME/lib/libjsig.so (bin/soma does this)");
        }
    }

    /**
     * Whether a process memory map lists libjsig: {@code null} when the map cannot be read (not
     * Linux), so that callers stay silent where they cannot know.
     */
    static Boolean loaded(Path maps) {
        if (!Files.isReadable(maps)) {
            return null;
        }
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.anyMatch(SignalChaining::mapsLibjsig);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** A maps line whose path's file name is libjsig.so (any directory: the JDK's lib folder). */
    static boolean mapsLibjsig(String mapsLine) {
        return mapsLine.endsWith("/libjsig.so");
    }
}
