package dev.soma.leak;

import java.net.URL;
import java.security.CodeSource;

/**
 * The stack where a native resource was allocated, captured in strict mode only (a stack trace
 * costs microseconds; allocations in the offload pipeline happen per call, not per element).
 */
final class AllocationSite extends Throwable {
    private static final long serialVersionUID = 1L;
    /** Where Soma's own classes were loaded from: frames from elsewhere are the caller's. */
    private static final URL SOMA = location(AllocationSite.class);

    AllocationSite(String kind) {
        super(kind + " allocated here", null, false, true);
    }

    /**
     * The first frame of a class that is not Soma's own (the user's code, or a test), else the first
     * frame outside the reporter itself: the line that should have closed what it opened.
     */
    static String callerFrame(Throwable site) {
        StackTraceElement firstOutside = null;
        for (StackTraceElement f : site.getStackTrace()) {
            String cls = f.getClassName();
            if (cls.equals(Leaks.class.getName()) || cls.equals(AllocationSite.class.getName())) {
                continue;
            }
            if (firstOutside == null) {
                firstOutside = f;
            }
            if (!cls.startsWith("java.") && !cls.startsWith("jdk.") && !isSoma(cls)) {
                return f.toString();
            }
        }
        return firstOutside == null ? "(unknown)" : firstOutside.toString();
    }

    private static boolean isSoma(String className) {
        if (!className.startsWith("dev.soma.") || SOMA == null) {
            return className.startsWith("dev.soma.");
        }
        try {
            Class<?> c = Class.forName(className, false, AllocationSite.class.getClassLoader());
            return SOMA.equals(location(c));
        } catch (ClassNotFoundException | LinkageError e) {
            return true;
        }
    }

    private static URL location(Class<?> c) {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        return cs == null ? null : cs.getLocation();
    }
}
