package dev.soma.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code soma} command line. With no arguments it runs the main job (every op on every device
 * here, checked and timed); subcommands list devices, apply an op or its backward pass to .npy
 * files, verify backends against the reference, and benchmark them. Every error is one line on stderr, exit code 2
 * for usage errors and 1 for failures; {@code --debug} adds the stack trace.
 */
@Command(name = "soma", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        subcommands = {DevicesCommand.class, ApplyCommand.class, BackwardCommand.class, VerifyCommand.class, BenchCommand.class,
            CommandLine.HelpCommand.class},
        description = {"Neural-network activation functions for .npy arrays, on the GPU (CUDA, OpenCL) or the CPU.",
            "With no command: every op on every device here, checked against the float64 reference and timed."},
        footer = {"", "Exit codes: 0 success; 1 failure (missing or corrupt file, backend unavailable, verification "
                + "failed); 2 usage error (unknown option, bad op or parameter value)."})
public final class SomaCli implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print the stack trace of an error.")
    boolean debug;

    @Override
    public Integer call() {
        return new MainJob(spec.commandLine().getOut()).run();
    }

    public static void main(String[] args) {
        quietLogging(Arrays.asList(args).contains("--debug"));
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line with the given streams; returns the exit code. Never throws. */
    public static int run(String[] args, PrintStream stdout, PrintStream stderr) {
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(stdout, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(stderr, StandardCharsets.UTF_8), true);
        boolean debug = debugRequested(args);
        CommandLine cl = new CommandLine(new SomaCli());
        String[] footer = cl.getCommandSpec().usageMessage().footer();
        String[] withOps = Arrays.copyOf(footer, footer.length + 1);
        withOps[footer.length] = "Ops: " + dev.soma.op.Op.names() + ".";
        cl.getCommandSpec().usageMessage().footer(withOps);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> usageError(ex, err, debug));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) ->
                ErrorReport.report(ex, cmd.getCommandSpec().qualifiedName(), err, debug));
        try {
            return cl.execute(args);
        } catch (RuntimeException | Error e) {
            // Errors (out of memory) are not handed to the execution handler; report them the same way.
            return ErrorReport.report(e, "soma", err, debug);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static boolean debugRequested(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("--debug")) {
                return true;
            }
        }
        return false;
    }

    /** One line for a command line picocli could not parse: the problem, then where help is. */
    private static int usageError(CommandLine.ParameterException ex, PrintWriter err, boolean debug) {
        String command = ex.getCommandLine().getCommandSpec().qualifiedName();
        String message = ex.getMessage();
        // picocli reports missing required options before unknown ones; the unknown one is the real mistake.
        List<String> stray = ex.getCommandLine().getUnmatchedArguments();
        if (!(ex instanceof CommandLine.UnmatchedArgumentException) && !stray.isEmpty()) {
            ex = new CommandLine.UnmatchedArgumentException(ex.getCommandLine(), stray);
        }
        if (ex instanceof CommandLine.UnmatchedArgumentException u) {
            List<String> unmatched = u.getUnmatched();
            List<String> suggestions = u.getSuggestions();
            String first = unmatched.isEmpty() ? "" : unmatched.get(0);
            message = (first.startsWith("-") ? "unknown option '" : "unexpected argument '") + first + "'"
                    + (suggestions.isEmpty() ? "" : "; did you mean " + String.join(" or ", suggestions) + "?");
            if (command.equals("soma") && !first.startsWith("-")) {
                message = "unknown command '" + first + "'; the commands are devices, apply, backward, verify"
                        + (suggestions.isEmpty() ? "" : " (did you mean " + String.join(" or ", suggestions) + "?)");
            }
        }
        err.println("soma: " + ErrorReport.oneLine(message) + " (see '" + command + " --help')");
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return CommandLine.ExitCode.USAGE;
    }

    /** Library log lines (e.g. why the SIMD path is off) as one line each; warnings only unless --debug. */
    private static void quietLogging(boolean debug) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "soma: %4$s: %5$s%6$s%n");
        }
        Logger root = Logger.getLogger("");
        root.setLevel(debug ? Level.FINE : Level.WARNING);
        for (var h : root.getHandlers()) {
            h.setLevel(debug ? Level.FINE : Level.WARNING);
        }
    }
}
