package dev.soma.backend.opencl;

import java.util.Locale;

/**
 * The OpenCL driver could not compile one of Soma's kernel programs. The message is one line: the
 * program, the device, the driver's code and the first error of the build log; the whole log is
 * {@link #buildLog()} and the message of the cause, so {@code --debug} prints it. The runtime stays
 * usable for programs that do build.
 */
public final class KernelBuildException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    /** Longest excerpt of the build log in the message. */
    private static final int EXCERPT_CHARS = 300;

    private final String buildLog;

    KernelBuildException(String file, String device, String errorName, String buildLog, Throwable clError) {
        super("OpenCL could not build " + file + " for " + device + " (" + errorName + "): " + firstError(buildLog)
                + "; this is a bug in Soma's kernels or the driver: use --backend cpu meanwhile (--debug shows the whole"
                + " build log)", new IllegalStateException("the driver's build log for " + file + ":\n" + buildLog, clError));
        this.buildLog = buildLog;
    }

    /** The driver's whole build log. */
    public String buildLog() {
        return buildLog;
    }

    /** The first line of the log that reports an error (else its first non-blank line), trimmed and shortened. */
    static String firstError(String log) {
        String first = null;
        for (String line : log.split("\\R")) {
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            if (first == null) {
                first = l;
            }
            if (l.toLowerCase(Locale.ROOT).contains("error")) {
                first = l;
                break;
            }
        }
        if (first == null) {
            return "the driver gave no build log";
        }
        return first.length() <= EXCERPT_CHARS ? first : first.substring(0, EXCERPT_CHARS) + "...";
    }
}
