package dev.soma;

import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.backend.BackendKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The OpenCL backend gives the same bits on every run: each {@link DeterminismCases} case (every
 * op, forward and backward, float32 and float64 where the device has it, PReLU's dw on finite data,
 * softmax along rows of 200,003 with the split reduction) runs twice on one engine and once on a
 * second engine of the same device, and all three results must be equal bit for bit (NaN payloads
 * aside, see {@link Bits}). The kernels' reductions have a fixed shape (work-group trees and
 * partial sums combined in a fixed order, never atomics), so nothing depends on scheduling.
 */
class OpenClDeterminismTest {

    @Test
    void sameBitsAcrossRunsAndEngines() {
        Engine first = EngineConcurrencyTest.openClOrNull();
        Assumptions.assumeTrue(first != null, "no OpenCL device (the reason is printed above)");
        try (Engine a = first; Engine b = Engine.create(BackendKind.OPENCL)) {
            List<DeterminismCases.Case> cases = DeterminismCases.all(EngineConcurrencyTest.supportsF64(a), 1.0);
            List<String> failures = new ArrayList<>();
            TreeSet<String> ops = new TreeSet<>();
            long t0 = System.nanoTime();
            for (DeterminismCases.Case c : cases) {
                List<Tensor> once = c.call().run(a);
                List<Tensor> again = c.call().run(a);
                List<Tensor> other = c.call().run(b);
                ops.add(c.call().args().op().id());
                for (int k = 0; k < once.size(); k++) {
                    String d1 = Bits.firstDifference(once.get(k), again.get(k));
                    String d2 = Bits.firstDifference(once.get(k), other.get(k));
                    if (d1 != null) {
                        failures.add(c.name() + " output " + k + ", second run: " + d1);
                    }
                    if (d2 != null) {
                        failures.add(c.name() + " output " + k + ", second engine: " + d2);
                    }
                }
            }
            System.out.printf(Locale.ROOT, "OpenCL determinism: %d cases x 3 runs (two engines) in %.1f s on %s, ops %s%n",
                    cases.size(), (System.nanoTime() - t0) / 1e9, a.description(), ops);
            if (!failures.isEmpty()) {
                fail(failures.size() + " outputs differ between runs on " + a.description() + ":\n"
                        + String.join("\n", failures));
            }
            EngineConcurrencyTest.assertNothingLeft(a);
            EngineConcurrencyTest.assertNothingLeft(b);
        }
    }
}
