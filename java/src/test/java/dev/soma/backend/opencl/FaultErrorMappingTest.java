package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceBuffer;
import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.util.Map;
import org.jocl.CL;
import org.jocl.CLException;
import org.junit.jupiter.api.Test;

/**
 * What each OpenCL error becomes ({@link OpenClErrors}), and what the real runtime on PoCL does with
 * it: an out-of-memory leaves it usable, a lost device makes every later call but close fail with
 * the first failure's reason, and close still frees every buffer. Also the real out-of-memory
 * refusals (a buffer beyond the device's memory, a --device-memory budget too small to stream one
 * unit) and that the engine works again afterwards.
 */
class FaultErrorMappingTest extends OpenClDeviceTest {

    @Test
    void everyOpenClErrorBecomesOneExceptionWithAOneLineMessage() {
        Map<Integer, Class<? extends RuntimeException>> expected = Map.of(
                CL.CL_MEM_OBJECT_ALLOCATION_FAILURE, DeviceOutOfMemoryException.class,
                CL.CL_OUT_OF_HOST_MEMORY, DeviceOutOfMemoryException.class,
                CL.CL_INVALID_BUFFER_SIZE, DeviceOutOfMemoryException.class,
                CL.CL_OUT_OF_RESOURCES, DeviceLostException.class,
                CL.CL_DEVICE_NOT_AVAILABLE, DeviceLostException.class,
                CL.CL_DEVICE_NOT_FOUND, DeviceLostException.class,
                CL.CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, DeviceLostException.class,
                CL.CL_INVALID_KERNEL_ARGS, IllegalStateException.class,
                CL.CL_INVALID_MEM_OBJECT, IllegalStateException.class);
        expected.forEach((code, type) -> {
            RuntimeException e = OpenClErrors.translate(new CLException("driver text", code), "an upload of 64 bytes",
                    "Some GPU (OpenCL GPU)");
            String name = CL.stringFor_errorCode(code);
            assertInstanceOf(type, e, name);
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains("Some GPU")
                    && e.getMessage().contains("an upload of 64 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("--backend cpu") || e.getMessage().contains("smaller"), e.getMessage());
        });
        assertTrue(OpenClErrors.translate(new CLException("x", CL.CL_OUT_OF_RESOURCES), "a kernel launch", "D")
                .getMessage().contains("close this engine and create a new one"));
    }

    @Test
    void aLostDeviceRefusesEveryLaterCallButCloseFreesItsBuffers() {
        OpenClRuntime own = OpenClTestDevice.open();
        try {
            DeviceBuffer held = own.allocate(4096);
            RuntimeException first = own.failed(new CLException("lost", CL.CL_OUT_OF_RESOURCES), "a kernel launch");
            assertInstanceOf(DeviceLostException.class, first);
            DeviceLostException again = assertThrows(DeviceLostException.class, () -> own.allocate(16));
            assertTrue(again.getMessage().startsWith("the device failed earlier") && again.getMessage().contains(
                    "CL_OUT_OF_RESOURCES"), again.getMessage());
            assertThrows(DeviceLostException.class, own::synchronize);
            assertThrows(DeviceLostException.class, own::openQueue);
            assertEquals(1, own.allocator().liveBuffers());
            held.close();  // freeing works on a lost device
            assertEquals(0, own.allocator().liveBuffers());
        } finally {
            own.close();
        }
        assertEquals(0, own.allocator().liveBytes());
    }

    @Test
    void aBufferLargerThanTheDeviceIsRefusedAndTheDeviceStaysUsable() {
        long tooMuch = rt.allocator().budgetBytes() + 1;
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> rt.allocate(tooMuch));
        assertTrue(e.getMessage().contains("asked for " + tooMuch + " bytes"), e.getMessage());
        assertEquals(0, rt.allocator().liveBuffers());
        assertEquals(0, rt.allocator().liveBytes(), "the refused reservation was given back");
        try (DeviceBuffer b = rt.allocate(1024)) {
            assertEquals(1024, b.byteSize());
        }
    }

    @Test
    void aBudgetTooSmallToStreamOneUnitIsRefusedAndTheEngineWorksWithAnother() {
        OpArgs prelu = OpArgs.of(Op.PRELU);
        Tensor x = Tensor.wrap(Samples.input(prelu, DType.F32, 2 * 3 * 50_000, 1), DType.F32, 2, 3, 50_000);
        Tensor w = Tensor.wrap(Samples.preluWeights(DType.F32, 3, 2), DType.F32, 3);
        Tensor softIn = Tensor.wrap(Samples.input(OpArgs.of(Op.SOFTMAX), DType.F32, 70_000, 3), DType.F32, 70_000);
        Tensor want;
        try (Engine cpu = Engine.create("cpu")) {
            want = cpu.prelu(x, w);
        }
        try (Engine e = Engine.over(new DeviceBackend(new FaultyRuntime(rt)))) {
            e.setDeviceMemory(64 << 10);  // one channel of 50,000 floats needs more than this to stream
            DeviceOutOfMemoryException oom = assertThrows(DeviceOutOfMemoryException.class, () -> e.prelu(x, w));
            assertTrue(oom.getMessage().contains("raise --device-memory") && !oom.getMessage().contains("\n"),
                    oom.getMessage());
            e.setDeviceMemory(8);  // not even one piece of a softmax row
            oom = assertThrows(DeviceOutOfMemoryException.class, () -> e.forward(Op.SOFTMAX, softIn));
            assertTrue(oom.getMessage().contains("raise --device-memory"), oom.getMessage());
            assertEquals(0, rt.allocator().liveBuffers());
            e.setDeviceMemory(4 << 20);
            Tensor got = e.prelu(x, w);
            for (long i = 0; i < x.elementCount(); i++) {
                assertEquals(Float.floatToIntBits((float) want.get(i)), Float.floatToIntBits((float) got.get(i)),
                        "element " + i);
            }
        }
    }
}
