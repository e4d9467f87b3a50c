package dev.soma.cli;

import dev.soma.Checks;
import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.backend.ChainStep;
import dev.soma.npy.NpyArray;
import dev.soma.npy.NpyOutput;
import dev.soma.npy.NpyReader;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import dev.soma.verify.Verifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code soma apply}: one op's forward pass, or a chain of them, over a .npy file, into a .npy
 * file. Input and output are memory-mapped, so files larger than the heap (and than the device:
 * they are streamed) work. Ctrl-C stops the run between chunks and leaves no output file.
 */
@Command(name = "apply", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Computes Y = OP(X) for a float32 or float64 .npy array X and writes Y (same dtype and shape).",
            "Several --op run as a chain, Y = OPn(...OP1(X)), each chunk crossing to the device once.",
            "Y is written to a temporary file and renamed into place only when complete."},
        footer = {"", "Examples:",
            "  soma apply --op gelu --in x.npy --out y.npy",
            "  soma apply --op leaky_relu --alpha 0.2 --in x.npy --out y.npy --verify",
            "  soma apply --op softmax --axis 1 --in logits.npy --out p.npy --backend cpu",
            "  soma apply --op prelu --weight w.npy --in x.npy --out y.npy",
            "  soma apply --op gelu --op softmax --in big.npy --out y.npy --device-memory 512M"})
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

    @Option(names = "--verify", description = "Recompute on the float64 scalar reference and fail (exit 1, no output) above tolerance (one --op only).")
    boolean verify;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar (it shows only when stderr is a terminal anyway).")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        List<OpArgs> chain = op.toChain();
        if (verify && chain.size() > 1) {
            throw new UsageException("--verify checks one op; run the chain without it, or one --op at a time");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        try (NpyArray x = NpyReader.read(in); NpyArray w = op.weight == null ? null : NpyReader.read(op.weight)) {
            Tensor xt = x.tensor();
            for (OpArgs a : chain) {
                OpOptions.checkAxis(a, xt.rank(), in.toString());
            }
            Tensor wt = w == null ? null : w.tensor();
            if (wt != null) {
                // Before any output file exists or any device starts (the engine checks it again).
                Checks.preluWeight("weight", wt, xt);
            }
            List<ChainStep> steps = new ArrayList<>();
            for (OpArgs a : chain) {
                steps.add(new ChainStep(a, a.op() == Op.PRELU ? wt : null));
            }
            // The output first: a bad output path fails before any device starts.
            // Closed in reverse: the bar, the engine, the output (deleted unless committed), then the
            // cancellation, whose shutdown hook waits for all of them on Ctrl-C.
            try (Cancellation cancel = Cancellation.onShutdown();
                 NpyOutput y = NpyOutput.create(out, xt.dtype(), xt.shape()); Engine engine = backend.open();
                 ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), xt.byteSize(), ProgressBar.wanted(quiet))) {
                long t0 = System.nanoTime();
                try {
                    engine.forwardChain(steps, xt, y.tensor(), bar);
                } catch (CancellationException e) {
                    throw new IllegalStateException("cancelled; " + out + " was not written");
                }
                long t1 = System.nanoTime();
                bar.close();
                if (verify) {
                    try (Verifier v = ReferenceCheck.verifier()) {
                        OpArgs args = chain.get(0);
                        ReferenceCheck.report(v.compareForward(in.toString(), args, xt, wt, y.tensor()), xt.dtype(),
                                args.op() + " forward", stdout);
                    }
                }
                cancel.checkNotCancelled(out.toString());
                y.commit();
                String ops = chain.stream().map(a -> a.op().toString()).collect(Collectors.joining(" then "));
                stdout.println(String.format(Locale.ROOT, "wrote %s: %s of %s %s on %s in %.1f ms", out, ops,
                        xt.shapeString(), xt.dtype().numpyName(), engine.description(), (t1 - t0) / 1e6));
            }
        }
        return 0;
    }
}
