package dev.soma.npy;

import java.io.IOException;

/**
 * A file is not a .npy array Soma can read: bad magic, unknown version, malformed or oversized
 * header, unsupported dtype, or a data section of the wrong size. The message starts with the
 * file's name and says what is wrong and what to do. It is always one line: any invisible character
 * that reached it from the file (or its name) is shown as an escape.
 */
public class NpyFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public NpyFormatException(String message) {
        super(HeaderText.printable(message, Integer.MAX_VALUE));
    }
}
