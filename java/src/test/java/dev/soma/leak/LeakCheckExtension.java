package dev.soma.leak;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class of this module (ServiceLoader, with
 * {@code junit.jupiter.extensions.autodetection.enabled} in junit-platform.properties): after each
 * test, nothing the test opened is still open; after each class, nothing at all is open and, once
 * the garbage collector and the leak reporter's Cleaner have run, no leak was reported. It runs
 * after the class's own {@code @AfterEach} and {@code @AfterAll} methods, so fixtures closed there
 * count as closed. The suite runs with {@code -Dsoma.leaks=strict} (see the pom), so failures
 * carry the allocation sites.
 */
public final class LeakCheckExtension implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LeakCheckExtension.class);
    private static final String SINCE = "sequence before the test";

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put(SINCE, Leaks.lastSequence());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Long since = context.getStore(NS).get(SINCE, Long.class);
        if (since != null) {
            LeakCheck.assertNoneOpenSince(since, "test " + context.getDisplayName() + " of "
                    + context.getRequiredTestClass().getSimpleName());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (context.getRequiredTestClass().isAnnotationPresent(Nested.class)) {
            return; // the enclosing class may still hold fixtures; it is checked when it ends
        }
        String scope = "test class " + context.getRequiredTestClass().getSimpleName();
        AssertionError open = null;
        try {
            LeakCheck.assertNoneOpen(scope);
        } catch (AssertionError e) {
            open = e;
        }
        try {
            LeakCheck.assertNoLeaksReported(scope);
        } catch (AssertionError e) {
            if (open == null) {
                throw e;
            }
            open.addSuppressed(e);
        }
        if (open != null) {
            throw open;
        }
    }
}
