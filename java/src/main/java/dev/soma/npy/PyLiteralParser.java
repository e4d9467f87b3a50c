package dev.soma.npy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict parser for the subset of Python literal syntax a .npy header uses: dicts, tuples,
 * lists, quoted strings, integers, True, False and None. It builds plain Java values and never
 * evaluates anything: there are no names, calls, operators or attribute lookups in this grammar,
 * so a hostile header can at worst be refused. Nesting depth is bounded.
 *
 * <p>Values: {@code String}, {@code Boolean}, {@code BigInteger}, {@link #NONE}, {@link Tuple},
 * {@link PyList}, and {@code Map<String, Object>} (insertion ordered; duplicate keys refused).
 */
final class PyLiteralParser {
    /** Python's None. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    /** A Python tuple. */
    record Tuple(List<Object> items) {
        @Override
        public String toString() {
            return "(" + String.join(", ", items.stream().map(PyLiteralParser::repr).toList())
                    + (items.size() == 1 ? ",)" : ")");
        }
    }

    /** A Python list (NumPy writes structured dtypes' descr as one). */
    record PyList(List<Object> items) {
        @Override
        public String toString() {
            return "[" + String.join(", ", items.stream().map(PyLiteralParser::repr).toList()) + "]";
        }
    }

    private static final int MAX_DEPTH = 16;

    private final String text;
    private int pos;

    private PyLiteralParser(String text) {
        this.text = text;
    }

    /**
     * Parses one literal that fills all of {@code text} (whitespace around it allowed).
     *
     * @throws IllegalArgumentException saying what was expected where
     */
    static Object parse(String text) {
        PyLiteralParser p = new PyLiteralParser(text);
        Object v = p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the end of the literal");
        }
        return v;
    }

    /**
     * Python's repr of a parsed value, for messages: invisible characters escaped and long values
     * cut (see {@link HeaderText}), since the value comes from a file.
     */
    static String repr(Object v) {
        if (v instanceof String s) {
            return "'" + HeaderText.printable(s) + "'";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        return HeaderText.printable(String.valueOf(v));
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH + " levels");
        }
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end of header, expected a value");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> dict(depth);
            case '(' -> tupleOrGroup(depth);
            case '[' -> new PyList(sequence(depth, ']'));
            case '\'', '"' -> string();
            default -> {
                if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
                    yield integer();
                }
                if (Character.isLetter(c)) {
                    yield keyword();
                }
                throw error("unexpected character '" + HeaderText.printable(String.valueOf(c)) + "'");
            }
        };
    }

    private Map<String, Object> dict(int depth) {
        expect('{');
        Map<String, Object> map = new LinkedHashMap<>();
        while (true) {
            skipSpace();
            if (peek('}')) {
                pos++;
                return map;
            }
            int keyAt = pos;
            if (!(peek('\'') || peek('"'))) {
                throw error("expected a quoted key or '}'");
            }
            String key = string();
            if (map.containsKey(key)) {
                pos = keyAt;
                throw error("duplicate key " + repr(key));
            }
            skipSpace();
            expect(':');
            map.put(key, value(depth + 1));
            skipSpace();
            if (peek(',')) {
                pos++;
            } else if (!peek('}')) {
                throw error("expected ',' or '}'");
            }
        }
    }

    private Object tupleOrGroup(int depth) {
        expect('(');
        List<Object> items = new ArrayList<>();
        boolean sawComma = false;
        while (true) {
            skipSpace();
            if (peek(')')) {
                pos++;
                // "(x)" is x in Python; only "()" and a comma make a tuple.
                return items.size() == 1 && !sawComma ? items.get(0) : new Tuple(List.copyOf(items));
            }
            items.add(value(depth + 1));
            skipSpace();
            if (peek(',')) {
                pos++;
                sawComma = true;
            } else if (!peek(')')) {
                throw error("expected ',' or ')'");
            }
        }
    }

    private List<Object> sequence(int depth, char close) {
        pos++;
        List<Object> items = new ArrayList<>();
        while (true) {
            skipSpace();
            if (peek(close)) {
                pos++;
                return List.copyOf(items);
            }
            items.add(value(depth + 1));
            skipSpace();
            if (peek(',')) {
                pos++;
            } else if (!peek(close)) {
                throw error("expected ',' or '" + close + "'");
            }
        }
    }

    private String string() {
        char quote = text.charAt(pos++);
        StringBuilder b = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == quote) {
                return b.toString();
            }
            if (c == '\n') {
                break;
            }
            if (c == '\\') {
                if (pos >= text.length()) {
                    break;
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case '\\', '\'', '"' -> b.append(e);
                    default -> {
                        pos -= 2;
                        throw error("unsupported escape '\\" + HeaderText.printable(String.valueOf(e))
                                + "' in a string");
                    }
                }
            } else {
                b.append(c);
            }
        }
        throw error("unterminated string");
    }

    private BigInteger integer() {
        int start = pos;
        if (peek('-') || peek('+')) {
            pos++;
        }
        int digits = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
            pos++;
        }
        if (pos == digits) {
            pos = start;
            throw error("expected digits");
        }
        if (pos - digits > 40) {
            pos = start;
            throw error("integer with more than 40 digits");
        }
        BigInteger v = new BigInteger(text.substring(start, pos));
        // Python 2 wrote long integers with an L suffix; old NumPy files still carry it.
        if (peek('L') || peek('l')) {
            pos++;
        }
        if (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || peek('.'))) {
            throw error("malformed number");
        }
        return v;
    }

    private Object keyword() {
        int start = pos;
        while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
            pos++;
        }
        String word = text.substring(start, pos);
        return switch (word) {
            case "True" -> Boolean.TRUE;
            case "False" -> Boolean.FALSE;
            case "None" -> NONE;
            default -> {
                pos = start;
                throw error("unexpected name " + repr(word) + " (only True, False and None are literals)");
            }
        };
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private boolean peek(char c) {
        return pos < text.length() && text.charAt(pos) == c;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at character " + pos);
    }
}
