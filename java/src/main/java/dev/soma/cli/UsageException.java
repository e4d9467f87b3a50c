package dev.soma.cli;

/**
 * A command line that parses but asks for something impossible: a parameter the op does not take,
 * a value out of range, a missing companion option. Reported as one line, exit code 2.
 */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
