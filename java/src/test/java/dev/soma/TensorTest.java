package dev.soma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.op.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void wrapsArraysWithoutCopying() {
        float[] a = {1f, 2f, 3f, 4f, 5f, 6f};
        Tensor t = Tensor.of(a, 2, 3);
        a[4] = 42f;
        assertEquals(42.0, t.get(4));
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertEquals(6, t.elementCount());
        assertEquals(24, t.byteSize());
        assertTrue(t.isHeap());
        assertEquals("(2, 3)", t.shapeString());
    }

    @Test
    void noShapeMeansOneDimension() {
        Tensor t = Tensor.of(new double[5]);
        assertArrayEquals(new long[] {5}, t.shape());
        assertEquals(DType.F64, t.dtype());
        assertEquals("(5,)", t.shapeString());
    }

    @Test
    void shapeMustMatchTheArray() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("has 6 elements but the array has 5"), e.getMessage());
    }

    @Test
    void negativeAndOverflowingShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.F32, 2, -1));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.allocate(DType.F32, 1L << 40, 1L << 40));
        assertTrue(e.getMessage().contains("too many elements"), e.getMessage());
    }

    @Test
    void zeroDimensionalAndEmptyTensors() {
        Tensor scalar = Tensor.allocate(DType.F32);
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.elementCount());
        assertEquals("()", scalar.shapeString());
        Tensor empty = Tensor.allocate(DType.F64, 3, 0);
        assertEquals(0, empty.elementCount());
        assertEquals(0, empty.toDoubleArray().length);
    }

    @Test
    void nativeTensorsOwnAndFreeTheirMemoryOnce() {
        Tensor t = Tensor.allocateNative(DType.F32, 4);
        assertFalse(t.isHeap());
        t.set(3, 1.5);
        assertEquals(1.5, t.get(3));
        t.close();
        t.close();
        assertThrows(IllegalStateException.class, () -> t.get(0));
    }

    @Test
    void wrappedSegmentsAreNotFreedByTheTensor() {
        try (Arena arena = Arena.ofConfined()) {
            var seg = arena.allocate(ValueLayout.JAVA_DOUBLE, 3);
            Tensor t = Tensor.wrap(seg, DType.F64, 3);
            t.set(1, 7.0);
            t.close();
            assertEquals(7.0, seg.getAtIndex(ValueLayout.JAVA_DOUBLE, 1));
        }
    }

    @Test
    void wrapRefusesASegmentTooSmallForTheShape() {
        try (Arena arena = Arena.ofConfined()) {
            var seg = arena.allocate(8);
            var e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(seg, DType.F32, 3));
            assertTrue(e.getMessage().contains("segment holds 8 bytes"), e.getMessage());
        }
    }

    @Test
    void copyIsIndependentAndFillWritesEveryElement() {
        Tensor t = Tensor.of(new float[] {1f, 2f, 3f});
        Tensor c = t.copy();
        t.fill(-9);
        assertArrayEquals(new float[] {1f, 2f, 3f}, c.toFloatArray());
        assertArrayEquals(new float[] {-9f, -9f, -9f}, t.toFloatArray());
    }

    @Test
    void float32RoundsOnSet() {
        Tensor t = Tensor.allocate(DType.F32, 1);
        t.set(0, 0.1);
        assertEquals((double) 0.1f, t.get(0));
    }
}
