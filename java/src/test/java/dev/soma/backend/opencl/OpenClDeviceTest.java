package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The lifecycle the OpenCL kernel suites share: one runtime per class on the test device (or a
 * skip, or a failure in CI, see {@link OpenClTestDevice}), tuning overrides reset after each test,
 * and nothing left allocated on the device after it.
 */
abstract class OpenClDeviceTest {
    static OpenClRuntime rt;

    @BeforeAll
    static void openDevice() {
        rt = OpenClTestDevice.open();
    }

    @AfterAll
    static void closeDevice() {
        if (rt != null) {
            rt.close();
            rt = null;
        }
    }

    @AfterEach
    void resetOverridesAndCheckForLeaks() {
        rt.setSoftmaxVariant(SoftmaxVariant.AUTO);
        rt.setLocalSizeOverride(0);
        assertEquals(0, rt.allocator().liveBuffers(), "live device buffers after the test: " + rt.allocator().describeLive());
        assertEquals(0, rt.allocator().liveBytes());
    }
}
