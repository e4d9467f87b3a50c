package dev.soma.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.DeviceTensor;
import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.BackendKind;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.npy.NpyOutput;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leak reporter on resources every machine has (off-heap tensors, CPU engines, device tensors):
 * a resource dropped without close() is reported with its kind, size and allocation site, its
 * memory is not freed by the Cleaner, and the suite's check fails on it. The device-memory variant
 * is OpenClLeakTest.
 */
class LeakReporterTest {

    @Test
    void theSuiteRunsStrict() {
        assertTrue(Leaks.strict(), "the build runs tests with -D" + Leaks.PROPERTY + "=strict (java/pom.xml)");
    }

    @Test
    void theCheckIsRegisteredForEveryTestClass() throws IOException {
        assertTrue(ServiceLoader.load(Extension.class).stream().anyMatch(p -> p.type() == LeakCheckExtension.class),
                "META-INF/services/org.junit.jupiter.api.extension.Extension names LeakCheckExtension");
        Properties p = new Properties();
        try (InputStream in = LeakReporterTest.class.getResourceAsStream("/junit-platform.properties")) {
            assertNotNull(in, "junit-platform.properties is on the test class path");
            p.load(in);
        }
        assertEquals("true", p.getProperty("junit.jupiter.extensions.autodetection.enabled"));
    }

    @Test
    void droppedOffHeapTensorIsReportedWithItsSiteAndItsMemoryIsKept() {
        Dropped d = dropOffHeapTensor(16);
        NativeResource r = LeakCheck.awaitReport(d.sequence);
        assertEquals("off-heap tensor", r.kind());
        assertEquals(64, r.bytes());
        assertTrue(r.leak().contains("unreachable without close(); the reporter freed nothing"), r.leak());
        assertNotNull(r.allocationSite(), "strict mode records the allocation site");
        assertTrue(r.summary().contains("LeakReporterTest.dropOffHeapTensor"), r.summary());
        // The Cleaner reported and freed nothing: the memory is still there and still holds its data.
        assertTrue(d.memory.scope().isAlive(), "the Cleaner must not free native memory");
        for (int i = 0; i < 16; i++) {
            assertEquals(i + 0.5f, d.memory.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
    }

    @Test
    void theSuiteCheckFailsOnAReportedLeakAndNamesTheSite() {
        long seq = dropOffHeapTensor(3).sequence;
        AssertionError e = assertThrows(AssertionError.class, () -> LeakCheck.assertNoLeaksReported("this test"));
        assertTrue(e.getMessage().contains("off-heap tensor (12 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("LeakReporterTest.dropOffHeapTensor"), e.getMessage());
        assertNull(LeakCheck.takeReport(seq), "the check takes the reports it failed on");
    }

    @Test
    void theSuiteCheckFailsOnAResourceATestLeftOpen() {
        long before = Leaks.lastSequence();
        try (Tensor t = Tensor.allocateNative(DType.F64, 5)) {
            AssertionError e = assertThrows(AssertionError.class, () -> LeakCheck.assertNoneOpenSince(before, "this test"));
            assertTrue(e.getMessage().contains("1 native resource(s) opened by this test are still open"), e.getMessage());
            assertTrue(e.getMessage().contains("off-heap tensor (40 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("LeakReporterTest.theSuiteCheckFailsOnAResourceATestLeftOpen"), e.getMessage());
            assertTrue(t.segment().scope().isAlive());
        }
        LeakCheck.assertNoneOpenSince(before, "this test");
    }

    @Test
    void droppedEngineIsReported() {
        long seq = dropEngine();
        NativeResource r = LeakCheck.awaitReport(seq);
        assertEquals("engine", r.kind());
        assertTrue(r.description().startsWith("engine on "), r.description());
    }

    @Test
    void deviceTensorLeftOpenIsFreedByTheEngineAndReported() {
        long seq;
        try (Engine e = Engine.create(BackendKind.CPU)) {
            DeviceTensor d = e.upload(Tensor.of(new float[] {1f, -2f}));
            seq = Leaks.lastSequence();
            assertEquals(1, e.liveDeviceTensors());
            assertTrue(!d.isClosed());
        }
        NativeResource r = LeakCheck.takeReport(seq);
        assertNotNull(r, "a device tensor the engine had to free is reported");
        assertEquals("device tensor", r.kind());
        assertEquals(8, r.bytes());
        assertTrue(r.leak().startsWith("not closed; freed by the close of engine on "), r.leak());
    }

    @Test
    void doubleCloseIsCountedOnceAndUseAfterCloseIsAClearError() {
        long closedBefore = Leaks.closedCount();
        int openBefore = Leaks.openCount();
        Tensor t = Tensor.allocateNative(DType.F32, 8);
        assertEquals(openBefore + 1, Leaks.openCount());
        t.close();
        t.close();
        assertEquals(closedBefore + 1, Leaks.closedCount(), "two closes, one free");
        assertEquals(openBefore, Leaks.openCount());
        assertTrue(t.isClosed());
        IllegalStateException closedHost = assertThrows(IllegalStateException.class, () -> t.get(0));
        assertTrue(closedHost.getMessage().contains("is closed (its memory was freed)"), closedHost.getMessage());
        assertThrows(IllegalStateException.class, t::segment);

        Engine e = Engine.create(BackendKind.CPU);
        DeviceTensor d = e.upload(Tensor.of(new float[] {3f}));
        d.close();
        d.close();
        assertEquals(0, e.liveDeviceTensors());
        IllegalStateException closedTensor = assertThrows(IllegalStateException.class,
                () -> e.forward(OpArgs.of(Op.RELU), d));
        assertTrue(closedTensor.getMessage().contains("is closed; keep it open"), closedTensor.getMessage());
        e.close();
        e.close();
        IllegalStateException closedEngine = assertThrows(IllegalStateException.class,
                () -> e.forward(Op.RELU, Tensor.of(new float[] {1f})));
        assertTrue(closedEngine.getMessage().contains("engine is closed"), closedEngine.getMessage());
        assertEquals(closedBefore + 1 + 2, Leaks.closedCount(), "tensor, device tensor and engine, once each");
    }

    @Test
    void withoutStrictModeNoSiteIsRecordedAndTheReportSaysHowToGetOne() {
        String before = System.getProperty(Leaks.PROPERTY);
        long seq;
        System.setProperty(Leaks.PROPERTY, "");
        try {
            seq = dropOffHeapTensor(1).sequence;
        } finally {
            System.setProperty(Leaks.PROPERTY, before == null ? "" : before);
        }
        NativeResource r = LeakCheck.awaitReport(seq);
        assertNull(r.allocationSite());
        assertTrue(r.details().contains("-Dsoma.leaks=strict"), r.details());
    }

    @Test
    void droppedNpyOutputIsReportedAndItsTemporaryFileStays(@TempDir Path dir) throws IOException {
        long seq = dropNpyOutput(dir.resolve("out.npy"));
        NativeResource r = LeakCheck.awaitReport(seq);
        assertEquals(".npy output", r.kind());
        assertEquals(40, r.bytes());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().endsWith(".soma-tmp")).count(),
                    "the reporter deletes nothing: the temporary file is left for the owner's close");
        }
    }

    private static long dropNpyOutput(Path target) throws IOException {
        NpyOutput out = NpyOutput.create(target, DType.F32, 10);
        long seq = Leaks.lastSequence();
        out.tensor().set(0, 1.0);
        return seq;
    }

    @Test
    void aProgramLeakingInALoopKeepsOnlyTheLatestReports() {
        assertEquals(java.util.List.of(), Leaks.reports(), "precondition: nothing else pending");
        long before = Leaks.leakCount();
        int n = Leaks.MAX_KEPT_REPORTS + 100;
        for (int i = 0; i < n; i++) {
            Leaks.track(new Object(), "test handle", i, "handle " + i).closeAsLeak("this test");
        }
        assertEquals(before + n, Leaks.leakCount(), "every leak is counted");
        java.util.List<NativeResource> kept = Leaks.takeReports();
        assertEquals(Leaks.MAX_KEPT_REPORTS, kept.size());
        assertEquals(n - 1, kept.get(kept.size() - 1).bytes(), "the latest are kept");
        assertEquals(0, Leaks.reports().size());
    }

    /** What a dropped tensor leaves behind: its memory (the segment, not the tensor) and its registration. */
    private record Dropped(MemorySegment memory, long sequence) {
    }

    /** Allocates an off-heap tensor, fills it, and lets it become unreachable without closing it (its memory leaks for good: the test proves the Cleaner does not free it). */
    private static Dropped dropOffHeapTensor(int floats) {
        Tensor t = Tensor.allocateNative(DType.F32, floats);
        long seq = Leaks.lastSequence();
        for (int i = 0; i < floats; i++) {
            t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, i + 0.5f);
        }
        return new Dropped(t.segment(), seq);
    }

    private static long dropEngine() {
        Engine e = Engine.create(BackendKind.CPU);
        long seq = Leaks.lastSequence();
        e.forward(Op.RELU, Tensor.of(new float[] {-1f}));
        return seq;
    }
}
