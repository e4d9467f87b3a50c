package dev.soma.npy;

/**
 * Makes text taken from a file safe to quote in an error message: control and other invisible
 * characters become escapes ({@code \n}, {@code \x9c}, {@code \u2028}), so a message stays one
 * line whatever the file holds, and long text is cut with "..." so it stays short.
 */
final class HeaderText {
    /** Longest quotation of file text in a message. */
    static final int MAX_QUOTE = 80;

    private HeaderText() {
    }

    /** {@code s} with every character that is not plainly printable escaped, cut to {@code max} characters. */
    static String printable(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 8);
        for (int i = 0; i < s.length(); i++) {
            String piece = escape(s.charAt(i));
            boolean last = i == s.length() - 1;
            // Cut between escapes, never inside one, leaving room for "...".
            if (b.length() + piece.length() > (last ? max : max - 3)) {
                return b.append("...").toString();
            }
            b.append(piece);
        }
        return b.toString();
    }

    private static String escape(char c) {
        return switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> isPlain(c) ? String.valueOf(c)
                    : c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c);
        };
    }

    /** {@link #printable(String, int)} with the usual limit. */
    static String printable(String s) {
        return printable(s, MAX_QUOTE);
    }

    private static boolean isPlain(char c) {
        if (Character.isISOControl(c) || Character.isSurrogate(c)) {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.FORMAT,
                 Character.UNASSIGNED, Character.PRIVATE_USE -> false;
            default -> true;
        };
    }
}
