package dev.soma.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.cli.BenchCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad options: exit status 2 and one line on stderr that names the option, before anything runs. */
class BenchCommandUsageTest {

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--dtype=f16               | --dtype: unknown type 'f16'",
        "--format=xml              | --format: unknown format 'xml'",
        "--sizes=0                 | --sizes: '0' is not a size",
        "--sizes=12,,13            | --sizes: '' is not a size",
        "--rows=abc                | --rows: 'abc' is not a size",
        "--ops=nosuch              | unknown op 'nosuch'",
        "--ops=prelu               | does not time prelu",
        "--ops=relu,               | --ops: empty entry",
        "--repeats=0               | --repeats: '0' is not an integer >= 1",
        "--warmup=-1               | --warmup: '-1' is not an integer >= 0",
        "--sample-ms=x             | --sample-ms: 'x' is not an integer >= 1",
        "--backend=gpu             | unknown backend 'gpu'",
        "--backend=auto            | --backend: name the backends",
        "--direction=sideways      | unknown direction 'sideways'",
        "--seed=x                  | --seed: 'x' is not an integer",
    })
    void badValuesExitTwoWithOneLine(String arg, String expected) {
        Run r = arg.startsWith("--backend") ? run(arg) : run("--backend=cpu", arg);
        assertEquals(2, r.exit(), r.err());
        assertEquals("", r.out());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line expected, got: " + r.err());
        assertTrue(lines[0].startsWith("soma bench: "), lines[0]);
        assertTrue(lines[0].contains(expected.strip()), lines[0]);
    }

    @Test
    void unknownOptionIsAUsageError() {
        Run r = run("--bogus");
        assertEquals(2, r.exit());
        assertTrue(r.err().lines().findFirst().orElse("").contains("--bogus"), r.err());
    }

    @Test
    void helpListsEveryOptionOfTheIssue() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        for (String o : new String[] {"--backend", "--ops", "--sizes", "--rows", "--dtype", "--direction", "--format",
            "--report", "--repeats", "--warmup", "--device"}) {
            assertTrue(r.out().contains(o), o + " missing from help:\n" + r.out());
        }
    }
}
