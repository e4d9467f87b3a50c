package dev.soma.cli;

/** A result did not match the reference within tolerance; the message says by how much. Exit code 1. */
public class VerificationFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VerificationFailedException(String message) {
        super(message);
    }
}
