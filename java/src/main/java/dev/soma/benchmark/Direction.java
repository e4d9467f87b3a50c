package dev.soma.benchmark;

import java.util.Locale;

/** Which pass of an op a benchmark times, and how many bytes per element that pass must move. */
public enum Direction {
    /** {@code y = f(x)}: reads x, writes y. */
    FORWARD(2),
    /** {@code dx = f'(x) * dy}: reads x and dy, writes dx. */
    BACKWARD(3);

    private final int accessesPerElement;

    Direction(int accessesPerElement) {
        this.accessesPerElement = accessesPerElement;
    }

    /** "forward" or "backward", as on the command line and in the CSV. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Element-sized memory accesses per element at the least: the napkin-math traffic the roofline
     * counts (a kernel that reads its input twice still gets credit for one read).
     */
    public int accessesPerElement() {
        return accessesPerElement;
    }

    /** Parses "forward"/"backward" (or "fwd"/"bwd"), case-insensitively. */
    public static Direction parse(String s) {
        String k = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "forward", "fwd" -> FORWARD;
            case "backward", "bwd" -> BACKWARD;
            default -> throw new IllegalArgumentException("unknown direction '" + s + "'; use forward or backward");
        };
    }
}
