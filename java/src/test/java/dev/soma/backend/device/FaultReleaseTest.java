package dev.soma.backend.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Release on a lost device, where a free can fail too: every resource is still closed, the error
 * that stopped the work stays the one reported (the free failures ride along as suppressed), and
 * with no error in flight the first free failure is thrown.
 */
class FaultReleaseTest {
    private final List<String> closed = new ArrayList<>();

    private AutoCloseable ok(String name) {
        return () -> closed.add(name);
    }

    private AutoCloseable failing(String name) {
        return () -> {
            closed.add(name);
            throw new DeviceLostException("GPU", "freeing " + name, "CL_OUT_OF_RESOURCES", null);
        };
    }

    @Test
    void everyResourceIsClosedAndTheFirstErrorStaysPrimary() {
        RuntimeException primary = new DeviceLostException("GPU", "a kernel launch", "CL_OUT_OF_RESOURCES", null);
        new Release().close(ok("a")).close(failing("b")).close(null).close(failing("c")).close(ok("d")).done(primary);
        assertEquals(List.of("a", "b", "c", "d"), closed);
        assertEquals(2, primary.getSuppressed().length);
    }

    @Test
    void withoutAnErrorInFlightTheFirstFreeFailureIsThrown() {
        Release r = new Release().close(failing("a")).close(ok("b")).close(failing("c"));
        DeviceLostException e = assertThrows(DeviceLostException.class, () -> r.done(null));
        assertEquals(List.of("a", "b", "c"), closed);
        assertEquals(1, e.getSuppressed().length);
        new Release().close(ok("e")).done(null);  // nothing failed: nothing thrown
        assertSame("e", closed.get(3));
    }
}
