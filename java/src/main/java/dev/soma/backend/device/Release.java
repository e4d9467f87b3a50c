package dev.soma.backend.device;

import java.util.ArrayList;
import java.util.List;

/**
 * Closes every one of a set of device resources even when some closes fail (on a lost device a
 * free may fail too): a failed close never keeps the rest from being released, and never hides the
 * error that caused the unwinding.
 */
final class Release {
    private final List<RuntimeException> failures = new ArrayList<>();

    /** Closes {@code r} (null is skipped), remembering a failure instead of throwing it. */
    Release close(AutoCloseable r) {
        if (r == null) {
            return this;
        }
        try {
            r.close();
        } catch (RuntimeException e) {
            failures.add(e);
        } catch (Exception e) {
            failures.add(new IllegalStateException(e.getMessage(), e));
        }
        return this;
    }

    /**
     * Ends the release: with a {@code primary} error in flight the failures are attached to it as
     * suppressed; otherwise the first one is thrown (with the others suppressed).
     */
    void done(Throwable primary) {
        if (failures.isEmpty()) {
            return;
        }
        if (primary != null) {
            failures.forEach(primary::addSuppressed);
            return;
        }
        RuntimeException first = failures.get(0);
        for (int i = 1; i < failures.size(); i++) {
            first.addSuppressed(failures.get(i));
        }
        throw first;
    }
}
