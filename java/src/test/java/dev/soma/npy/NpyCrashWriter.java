package dev.soma.npy;

import dev.soma.Tensor;
import dev.soma.op.DType;
import java.nio.file.Path;

/**
 * Child process for {@link NpyAtomicWriteTest}: starts writing a large output, fills half of it,
 * says so on stdout, then waits to be killed. Never commits.
 */
public final class NpyCrashWriter {
    private NpyCrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path target = Path.of(args[0]);
        long n = Long.parseLong(args[1]);
        NpyOutput out = NpyOutput.create(target, DType.F32, n);
        Tensor t = out.tensor();
        for (long i = 0; i < n / 2; i++) {
            t.set(i, 1.5);
        }
        System.out.println("HALFWAY " + out.temp());
        System.out.flush();
        Thread.sleep(120_000);
        System.exit(3);
    }
}
