package dev.soma.benchmark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses size lists from the command line: "4096", "2^12", "64K" (x1024), "1M" (x2^20), "1G" (x2^30),
 * separated by commas.
 */
public final class Sizes {
    private Sizes() {
    }

    /**
     * @throws IllegalArgumentException naming the bad entry and the accepted forms
     */
    public static List<Long> parseList(String option, String text) {
        List<Long> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            out.add(parse(option, part));
        }
        return out;
    }

    public static long parse(String option, String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        try {
            long v;
            if (s.contains("^")) {
                String[] p = s.split("\\^", -1);
                if (p.length != 2 || !p[0].equals("2")) {
                    throw new NumberFormatException();
                }
                int e = Integer.parseInt(p[1]);
                if (e < 0 || e > 40) {
                    throw new NumberFormatException();
                }
                v = 1L << e;
            } else if (s.endsWith("k") || s.endsWith("m") || s.endsWith("g")) {
                int shift = s.endsWith("k") ? 10 : s.endsWith("m") ? 20 : 30;
                v = Math.multiplyExact(Long.parseLong(s.substring(0, s.length() - 1)), 1L << shift);
            } else {
                v = Long.parseLong(s);
            }
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(option + ": '" + text + "' is not a size; use positive counts like 4096, 2^12,"
                    + " 64K or 1M, separated by commas");
        }
    }
}
