package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.Engine;
import dev.soma.backend.BackendKind;
import dev.soma.backend.cpu.CpuBackend;
import dev.soma.op.DType;
import dev.soma.op.Op;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner validates before it times: wrong or lazy kernels produce failures, never figures. */
class BenchRunnerTest {
    private static final TimingPlan QUICK = new TimingPlan(1, 1_000_000, 2_000_000, 3, 200_000);

    private static BenchConfig reluConfig(List<Direction> directions, List<DType> dtypes) {
        return new BenchConfig(List.of(BackendKind.CPU), null, List.of(Op.RELU), List.of(1L, 7L, 4097L),
                List.of(), 1, dtypes, directions, QUICK, 7);
    }

    private static BenchReport runWith(FakeKernels.Fault fault, BenchConfig cfg) {
        try (BenchTarget t = new EngineTarget(Engine.over(new CpuBackend(new FakeKernels(fault))))) {
            return new BenchRunner(cfg, new FakeKernels(FakeKernels.Fault.NONE), null).run(List.of(t));
        }
    }

    @Test
    void correctKernelsGiveOneValidatedRowPerCase() {
        BenchConfig cfg = reluConfig(List.of(Direction.FORWARD, Direction.BACKWARD), List.of(DType.F32, DType.F64));
        BenchReport r = runWith(FakeKernels.Fault.NONE, cfg);
        assertEquals(List.of(), r.failures());
        assertEquals(cfg.cases().size(), r.results().size());
        for (BenchResult row : r.results()) {
            assertEquals(0.0, row.maxError(), "relu is exact: " + row.benchCase());
            assertTrue(row.medianSeconds() > 0 && Double.isFinite(row.medianSeconds()));
            assertTrue(row.copyGbPerSecond() > 0 && Double.isFinite(row.copyGbPerSecond()));
            long bytesPerElement = (long) row.benchCase().dtype().byteSize()
                    * (row.benchCase().direction() == Direction.FORWARD ? 2 : 3);
            assertEquals(row.elements() * bytesPerElement / row.medianSeconds() / 1e9, row.gbPerSecond(), 1e-9);
        }
    }

    @Test
    void aWrongValueIsCaughtAndNotTimed() {
        BenchReport r = runWith(FakeKernels.Fault.WRONG_VALUE,
                reluConfig(List.of(Direction.FORWARD, Direction.BACKWARD), List.of(DType.F32)));
        // Sizes 7 and 4097 are corrupted in both directions; size 1 has no element to corrupt.
        assertEquals(4, r.failures().size(), r.failures().toString());
        assertEquals(2, r.results().size());
        for (String f : r.failures()) {
            assertTrue(f.contains("max error") && f.contains("out of tolerance"), f);
        }
        for (BenchResult row : r.results()) {
            assertEquals(1, row.elements());
        }
    }

    @Test
    void anUnwrittenElementIsCaughtByThePoison() {
        BenchReport r = runWith(FakeKernels.Fault.SKIPS_LAST,
                reluConfig(List.of(Direction.FORWARD), List.of(DType.F32)));
        assertEquals(3, r.failures().size(), r.failures().toString());
        assertTrue(r.failures().get(0).contains("got NaN"), r.failures().get(0));
        assertEquals(List.of(), r.results());
    }

    @Test
    void aKernelThatThrowsIsReportedAsAFailureAndTheRunGoesOn() {
        BenchReport r = runWith(FakeKernels.Fault.THROWS, reluConfig(List.of(Direction.FORWARD), List.of(DType.F32)));
        assertEquals(3, r.failures().size());
        assertTrue(r.failures().get(0).startsWith("cpu relu forward float32 1: kernel launch failed"), r.failures().get(0));
    }

    @Test
    void aBrokenReferenceStopsTheRun() {
        BenchConfig cfg = new BenchConfig(List.of(BackendKind.CPU), null, List.of(Op.SIGMOID), List.of(8L),
                List.of(), 1, List.of(DType.F32), List.of(Direction.FORWARD), QUICK, 7);
        // Without a trustworthy answer nothing can be validated: the error surfaces, it is not swallowed.
        assertThrows(UnsupportedOperationException.class, () -> runWith(FakeKernels.Fault.NONE, cfg));
    }
}
