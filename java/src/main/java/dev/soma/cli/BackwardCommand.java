package dev.soma.cli;

import dev.soma.Checks;
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
import java.util.concurrent.CancellationException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code soma backward}: dL/dx of one op from X and dL/dY (and dL/dw for PReLU). */
@Command(name = "backward", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Computes DX = dL/dX of OP at X, given DY = dL/dY (same dtype and shape as X).",
            "For prelu, --weight-grad-out also writes dL/dw (summed over all but the channel axis)."},
        footer = {"", "Examples:",
            "  soma backward --op gelu --in x.npy --dy dy.npy --out dx.npy",
            "  soma backward --op prelu --weight w.npy --in x.npy --dy dy.npy --out dx.npy --weight-grad-out dw.npy"})
final class BackwardCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OpOptions op;

    @Mixin
    BackendOptions backend;

    @Option(names = "--in", required = true, paramLabel = "X.npy", description = "The forward pass's input.")
    Path in;

    @Option(names = "--dy", required = true, paramLabel = "DY.npy", description = "Gradient of the loss with respect to the output.")
    Path dy;

    @Option(names = "--out", required = true, paramLabel = "DX.npy", description = "Gradient with respect to the input (replaced atomically).")
    Path out;

    @Option(names = "--weight-grad-out", paramLabel = "DW.npy", description = "prelu only: gradient with respect to the weight.")
    Path weightGradOut;

    @Option(names = "--verify", description = "Recompute on the float64 scalar reference and fail (exit 1, no output) above tolerance.")
    boolean verify;

    @Override
    public Integer call() throws Exception {
        OpArgs args = op.toArgs();
        if (weightGradOut != null && args.op() != Op.PRELU) {
            throw new UsageException("--weight-grad-out applies only to prelu (the one op with a learned weight), not "
                    + args.op());
        }
        if (weightGradOut != null && weightGradOut.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new UsageException("--weight-grad-out and --out are the same file, " + out
                    + "; dL/dw would replace dL/dx: give them different names");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        try (NpyArray x = NpyReader.read(in); NpyArray g = NpyReader.read(dy);
             NpyArray w = op.weight == null ? null : NpyReader.read(op.weight)) {
            Tensor xt = x.tensor();
            OpOptions.checkAxis(args, xt.rank(), in.toString());
            Tensor wt = w == null ? null : w.tensor();
            // Before any output file exists or any device starts (the engine checks them again).
            Checks.like("dy", g.tensor(), "x", xt);
            if (wt != null) {
                Checks.preluWeight("weight", wt, xt);
            }
            // The outputs first: a bad output path fails before any device starts. Closed in reverse:
            // the engine, the outputs (deleted unless committed), then the Ctrl-C hook that waits for them.
            try (Cancellation cancel = Cancellation.onShutdown();
                 NpyOutput dx = NpyOutput.create(out, xt.dtype(), xt.shape());
                 NpyOutput dw = weightGradOut == null ? null : NpyOutput.create(weightGradOut, wt.dtype(), wt.shape());
                 Engine engine = backend.open()) {
                long t0 = System.nanoTime();
                Tensor dwt = null;
                try {
                    if (args.op() == Op.PRELU) {
                        // dL/dw is always computed; it goes to a scratch tensor when not asked for.
                        dwt = dw != null ? dw.tensor() : wt.newLike();
                        engine.preluBackward(xt, wt, g.tensor(), dx.tensor(), dwt);
                    } else {
                        engine.backward(args, xt, g.tensor(), dx.tensor());
                    }
                } catch (CancellationException e) {
                    throw new IllegalStateException("cancelled; " + out + " was not written");
                }
                long t1 = System.nanoTime();
                if (verify) {
                    try (Verifier v = ReferenceCheck.verifier()) {
                        ReferenceCheck.report(v.compareBackward(in.toString(), args, xt, wt, g.tensor(), dx.tensor(), dwt),
                                xt.dtype(), args.op() + " backward", stdout);
                    }
                }
                cancel.checkNotCancelled(out.toString());
                dx.commit();
                if (dw != null) {
                    dw.commit();
                }
                stdout.println(String.format(Locale.ROOT, "wrote %s%s: %s backward of %s %s on %s in %.1f ms", out,
                        dw == null ? "" : " and " + weightGradOut, args.op(), xt.shapeString(),
                        xt.dtype().numpyName(), engine.description(), (t1 - t0) / 1e6));
            }
        }
        return 0;
    }
}
