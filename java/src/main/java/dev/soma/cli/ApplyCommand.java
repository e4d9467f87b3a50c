package dev.soma.cli;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.npy.NpyArray;
import dev.soma.npy.NpyOutput;
import dev.soma.npy.NpyReader;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.verify.Verifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code soma apply}: one op's forward pass over a .npy file, into a .npy file. */
@Command(name = "apply", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Computes Y = OP(X) for a float32 or float64 .npy array X and writes Y (same dtype and shape).",
            "Y is written to a temporary file and renamed into place only when complete."},
        footer = {"", "Examples:",
            "  soma apply --op gelu --in x.npy --out y.npy",
            "  soma apply --op leaky_relu --alpha 0.2 --in x.npy --out y.npy --verify",
            "  soma apply --op softmax --axis 1 --in logits.npy --out p.npy --backend cpu",
            "  soma apply --op prelu --weight w.npy --in x.npy --out y.npy"})
final class ApplyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OpOptions op;

    @Mixin
    BackendOptions backend;

    @Option(names = "--in", required = true, paramLabel = "X.npy", description = "Input array.")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "Y.npy", description = "Output array (replaced atomically).")
    Path out;

    @Option(names = "--verify", description = "Recompute on the float64 scalar reference and fail (exit 1, no output) above tolerance.")
    boolean verify;

    @Override
    public Integer call() throws Exception {
        OpArgs args = op.toArgs();
        PrintWriter stdout = spec.commandLine().getOut();
        try (NpyArray x = NpyReader.read(in); NpyArray w = op.weight == null ? null : NpyReader.read(op.weight)) {
            Tensor xt = x.tensor();
            OpOptions.checkAxis(args, xt.rank(), in.toString());
            Tensor wt = w == null ? null : w.tensor();
            // The output first: a bad output path fails before any device starts.
            try (NpyOutput y = NpyOutput.create(out, xt.dtype(), xt.shape()); Engine engine = backend.open()) {
                long t0 = System.nanoTime();
                if (args.op() == Op.PRELU) {
                    engine.prelu(xt, wt, y.tensor());
                } else {
                    engine.forward(args, xt, y.tensor());
                }
                long t1 = System.nanoTime();
                if (verify) {
                    try (Verifier v = ReferenceCheck.verifier()) {
                        ReferenceCheck.report(v.compareForward(in.toString(), args, xt, wt, y.tensor()), xt.dtype(),
                                args.op() + " forward", stdout);
                    }
                }
                y.commit();
                stdout.println(String.format(Locale.ROOT, "wrote %s: %s of %s %s on %s in %.1f ms", out, args.op(),
                        xt.shapeString(), xt.dtype().numpyName(), engine.description(), (t1 - t0) / 1e6));
            }
        }
        return 0;
    }
}
