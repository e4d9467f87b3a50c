package dev.soma.leak;

/**
 * One native resource as the leak reporter knows it: what it is, how big, and (in strict mode)
 * where it was allocated. Used both for resources still open ({@link Leaks#open()}) and for leaks
 * ({@link Leaks#reports()}).
 *
 * @param sequence       registration order, increasing (lets a test ask what it opened itself)
 * @param kind           what sort of resource: "OpenCL buffer", "engine", "off-heap tensor", ...
 * @param bytes          native bytes it holds (0 for handles such as contexts and queues)
 * @param description    the resource in words, with its device
 * @param allocationSite the stack at allocation, or null when strict mode was off
 * @param leak           null while open; for a leak, how it was found
 */
public record NativeResource(long sequence, String kind, long bytes, String description, Throwable allocationSite,
                             String leak) {

    /** The same resource, marked as leaked and how that was found. */
    NativeResource leaked(String how) {
        return new NativeResource(sequence, kind, bytes, description, allocationSite, how);
    }

    /** One line: kind, size, description, and the first allocating frame outside Soma in strict mode. */
    public String summary() {
        String where = allocationSite == null ? "" : ", allocated at " + AllocationSite.callerFrame(allocationSite);
        String how = leak == null ? "" : ": " + leak;
        return kind + " (" + bytes + " bytes, " + description + where + ")" + how;
    }

    /** {@link #summary()} followed by the whole allocation stack when there is one, for test failures. */
    public String details() {
        if (allocationSite == null) {
            return summary() + "\n    (no allocation site: run with -D" + Leaks.PROPERTY + "=strict to record it)";
        }
        StringBuilder sb = new StringBuilder(summary());
        for (StackTraceElement e : allocationSite.getStackTrace()) {
            sb.append("\n    at ").append(e);
        }
        return sb.toString();
    }
}
