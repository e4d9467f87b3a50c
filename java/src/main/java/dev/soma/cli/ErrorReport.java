package dev.soma.cli;

import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import picocli.CommandLine;

/**
 * Turns any failure into one line on stderr ({@code soma: ...}, what was wrong and what to do) and an
 * exit code: 2 for usage errors, 1 for everything else. The stack trace only with {@code --debug}.
 */
final class ErrorReport {
    private ErrorReport() {
    }

    static int report(Throwable e, String command, PrintWriter err, boolean debug) {
        int code = e instanceof UsageException ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
        String line = "soma: " + oneLine(describe(e));
        if (e instanceof UsageException) {
            line += " (see '" + command + " --help')";
        }
        err.println(line);
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /**
     * {@code text} on one line: line breaks (a file name, a corrupt header or an argument may hold
     * them) become spaces and other control characters '?', so a refusal is always exactly one line
     * and cannot drive the terminal.
     */
    static String oneLine(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                continue;
            }
            b.append(c == '\n' || c == '\r' || c == '\t' ? ' ' : Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }

    static String describe(Throwable e) {
        if (e instanceof FileSystemException f) {
            String reason = f.getReason();
            if (reason == null) {
                reason = switch (f) {
                    case NoSuchFileException n -> "no such file or directory";
                    case AccessDeniedException a -> "permission denied";
                    case FileAlreadyExistsException a -> "already exists";
                    case NotDirectoryException n -> "not a directory";
                    default -> f.getClass().getSimpleName();
                };
            }
            return f.getFile() + ": " + reason;
        }
        if (e instanceof BackendUnavailableException) {
            return e.getMessage() + " ('soma devices' lists what this machine has)";
        }
        if (e instanceof DeviceOutOfMemoryException || e instanceof DeviceLostException) {
            return e.getMessage();
        }
        if (e instanceof InternalError && e.getMessage() != null && e.getMessage().contains("unsafe memory access")) {
            // SIGBUS on a memory-mapped file: the output could not get disk blocks, or a file changed under us.
            return "a memory-mapped file could not be read or written (the disk is full, or another program truncated"
                    + " the file); the output was not written";
        }
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + e.getMessage() + "); give Java more with SOMA_JAVA_OPTS=-Xmx16g, or use smaller inputs";
        }
        if (e instanceof UsageException || e instanceof VerificationFailedException || e instanceof java.io.IOException
                || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof UnsupportedOperationException) {
            return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        }
        return "internal error: " + e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                + " (rerun with --debug for the stack trace, and report it)";
    }
}
