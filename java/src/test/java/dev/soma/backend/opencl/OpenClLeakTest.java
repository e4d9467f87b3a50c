package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceQueue;
import dev.soma.backend.device.PinnedMemory;
import dev.soma.leak.LeakCheck;
import dev.soma.leak.Leaks;
import dev.soma.leak.NativeResource;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.MemorySegment;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_mem;
import org.junit.jupiter.api.Test;

/**
 * The leak reporter on real device memory (PoCL): a buffer dropped without close() is reported
 * with its size and allocation site while its {@code cl_mem} stays allocated (the Cleaner frees
 * nothing; the runtime's close does), a runtime closing over open buffers frees and reports them,
 * closes are counted once, and a use after close is an IllegalStateException, not a driver crash.
 */
class OpenClLeakTest {

    @Test
    void droppedBufferIsReportedAndOnlyTheRuntimeFreesIt() {
        OpenClRuntime rt = OpenClTestDevice.open();
        Dropped d;
        try {
            d = dropBuffer(rt, 4096);
            NativeResource r = LeakCheck.awaitReport(d.sequence);
            assertEquals("OpenCL buffer", r.kind());
            assertEquals(4096, r.bytes());
            assertTrue(r.summary().contains("OpenClLeakTest.dropBuffer"), r.summary());
            // Our own retain plus the buffer's: the Cleaner did not release the cl_mem.
            assertEquals(2, referenceCount(d.mem), "the Cleaner must never free device memory");
            DeviceAllocator a = rt.allocator();
            assertEquals(1, a.liveBuffers(), "a leaked buffer stays counted until its runtime frees it");
            assertEquals(4096, a.liveBytes());
        } catch (RuntimeException | Error e) {
            rt.close();
            throw e;
        }
        rt.close();
        try {
            assertEquals(0, rt.allocator().liveBuffers());
            assertEquals(1, referenceCount(d.mem), "the runtime's close released the buffer's reference");
            assertEquals(null, LeakCheck.takeReport(d.sequence), "reported once, not again when the runtime freed it");
        } finally {
            CL.clReleaseMemObject(d.mem);
        }
    }

    @Test
    void runtimeClosingOverOpenBuffersFreesAndReportsThem() {
        OpenClRuntime rt = OpenClTestDevice.open();
        DeviceBuffer b = rt.allocate(256);
        long seq = Leaks.lastSequence();
        rt.close();
        assertTrue(b.isClosed());
        assertEquals(0, rt.allocator().liveBuffers());
        assertEquals(0, rt.allocator().liveBytes());
        assertEquals(1, rt.allocator().totalFrees());
        NativeResource r = LeakCheck.takeReport(seq);
        assertNotNull(r, "a buffer freed by its runtime's close was never closed by its owner: a leak");
        assertTrue(r.leak().startsWith("not closed; freed by the close of "), r.leak());
        b.close(); // harmless after the runtime freed it
        assertEquals(1, rt.allocator().totalFrees());
    }

    @Test
    void everyResourceClosesOnceAndRefusesUseAfterClose() {
        long closedBefore = Leaks.closedCount();
        OpenClRuntime rt = OpenClTestDevice.open();
        DeviceAllocator a = rt.allocator();
        DeviceBuffer b = rt.allocate(64);
        PinnedMemory p = rt.allocatePinned(64);
        DeviceQueue q = rt.openQueue();
        assertEquals(1, a.liveBuffers());
        assertEquals(1, a.livePinned());
        for (int i = 0; i < 2; i++) {
            b.close();
            p.close();
            q.close();
        }
        assertEquals(0, a.liveBuffers());
        assertEquals(0, a.liveBytes());
        assertEquals(1, a.totalFrees(), "two closes, one free");
        assertEquals(0, a.livePinned(), "pinned memory freed once, not counted below zero");
        assertEquals(0, a.livePinnedBytes());
        IllegalStateException buffer = assertThrows(IllegalStateException.class,
                () -> rt.upload(MemorySegment.ofArray(new float[16]), b, 0, 64));
        assertTrue(buffer.getMessage().contains("was already closed"), buffer.getMessage());
        assertThrows(IllegalStateException.class, () -> rt.forward(OpArgs.of(Op.RELU), DType.F32, b, b, 16));
        IllegalStateException pinned = assertThrows(IllegalStateException.class, p::segment);
        assertTrue(pinned.getMessage().contains("was already closed"), pinned.getMessage());
        IllegalStateException queue = assertThrows(IllegalStateException.class, q::synchronize);
        assertTrue(queue.getMessage().contains("queue is closed"), queue.getMessage());
        rt.close();
        rt.close();
        IllegalStateException runtime = assertThrows(IllegalStateException.class, () -> rt.allocate(4));
        assertTrue(runtime.getMessage().contains("is closed"), runtime.getMessage());
        assertEquals(closedBefore + 4, Leaks.closedCount(), "buffer, pinned memory, queue and runtime, once each");
    }

    @Test
    void droppedQueueAndPinnedMemoryAreReported() {
        try (OpenClRuntime rt = OpenClTestDevice.open()) {
            long queue = dropQueue(rt);
            assertEquals("OpenCL command queue", LeakCheck.awaitReport(queue).kind());
            Dropped pinned = dropPinned(rt);
            NativeResource r = LeakCheck.awaitReport(pinned.sequence);
            assertEquals("OpenCL host staging memory", r.kind());
            assertEquals(64, r.bytes());
            assertEquals(1, rt.allocator().livePinned(), "the Cleaner did not free the pinned memory");
        }
    }

    /** A cl_mem kept alive by an extra reference of ours, and the registration of the dropped buffer that owned it. */
    private record Dropped(cl_mem mem, long sequence) {
    }

    /** Allocates a buffer, retains its cl_mem for the test, and lets the buffer become unreachable without closing it. */
    private static Dropped dropBuffer(OpenClRuntime rt, long bytes) {
        DeviceBuffer b = rt.allocate(bytes);
        long seq = Leaks.lastSequence();
        cl_mem m = ((OpenClBuffer) b).mem();
        CL.clRetainMemObject(m);
        return new Dropped(m, seq);
    }

    private static Dropped dropPinned(OpenClRuntime rt) {
        PinnedMemory p = rt.allocatePinned(64);
        assertEquals(64, p.segment().byteSize());
        return new Dropped(null, Leaks.lastSequence());
    }

    private static long dropQueue(OpenClRuntime rt) {
        DeviceQueue q = rt.openQueue();
        q.synchronize();
        return Leaks.lastSequence();
    }

    private static int referenceCount(cl_mem m) {
        int[] count = new int[1];
        CL.clGetMemObjectInfo(m, CL.CL_MEM_REFERENCE_COUNT, Sizeof.cl_uint, Pointer.to(count), null);
        return count[0];
    }
}
