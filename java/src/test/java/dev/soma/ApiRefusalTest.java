package dev.soma;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.backend.BackendKind;
import dev.soma.backend.BackendUnavailableException;
import dev.soma.backend.Backends;
import dev.soma.backend.ChainStep;
import dev.soma.npy.NpyOutput;
import dev.soma.npy.NpyReader;
import dev.soma.npy.NpyWriter;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad argument of the public API, one call each, from a table: each must throw the
 * exception Java's conventions name (NullPointerException for a null, IllegalStateException for
 * something closed, IllegalArgumentException for a bad value, IndexOutOfBoundsException for an
 * index), with a one-line message that names the argument and says what to do ("; ..."), and must
 * do so before any work: every tensor of the call is left exactly as it was (they are filled with
 * a pattern no op produces) and no device tensor is left behind. The README's guarantees quote the
 * count this test prints.
 */
class ApiRefusalTest {
    @TempDir
    static Path dir;

    /** One bad call: what it tries, the exception it must throw, and the argument its message must name. */
    record Bad(String what, Class<? extends RuntimeException> type, String names, Call call) {
    }

    @FunctionalInterface
    interface Call {
        void run(Fixture f) throws Exception;
    }

    /** An engine, a foreign engine, and tensors filled with a pattern that are checked untouched afterwards. */
    static final class Fixture implements AutoCloseable {
        final Engine engine;
        private Engine foreign;
        private final List<Tensor> watched = new ArrayList<>();
        private final List<double[]> before = new ArrayList<>();
        private final List<DeviceTensor> uploaded = new ArrayList<>();
        private int expectedLive;

        Fixture(Engine engine) {
            this.engine = engine;
        }

        Tensor f32(long... shape) {
            return watch(Tensor.allocate(DType.F32, shape));
        }

        Tensor f64(long... shape) {
            return watch(Tensor.allocate(DType.F64, shape));
        }

        /** A float32 tensor over {@code count} floats of {@code base}, starting at element {@code from}. */
        Tensor view(Tensor base, long from, long... shape) {
            long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
            return Tensor.wrap(base.segment().asSlice(from * 4, n * 4), DType.F32, shape);
        }

        Tensor closed(long... shape) {
            Tensor t = Tensor.allocateNative(DType.F32, shape);
            t.close();
            return t;
        }

        Tensor readOnly(long... shape) {
            Tensor t = f32(shape);
            return Tensor.wrap(t.segment().asReadOnly(), DType.F32, shape);
        }

        DeviceTensor device(Tensor host) {
            expectedLive++;
            DeviceTensor d = engine.upload(host);
            uploaded.add(d);
            return d;
        }

        DeviceTensor closedDevice(long... shape) {
            DeviceTensor d = engine.upload(f32(shape));
            d.close();
            return d;
        }

        Engine foreign() {
            if (foreign == null) {
                foreign = Engine.create(BackendKind.CPU);
            }
            return foreign;
        }

        Engine closedEngine() {
            Engine e = Engine.create(BackendKind.CPU);
            e.close();
            return e;
        }

        private Tensor watch(Tensor t) {
            for (long i = 0; i < t.elementCount(); i++) {
                t.set(i, -3.25 + 0.5 * (i % 17));
            }
            watched.add(t);
            before.add(snapshot(t));
            return t;
        }

        private static double[] snapshot(Tensor t) {
            double[] v = new double[(int) t.elementCount()];
            for (int i = 0; i < v.length; i++) {
                v[i] = t.get(i);
            }
            return v;
        }

        void assertNothingDone() {
            for (int i = 0; i < watched.size(); i++) {
                assertTrue(Arrays.equals(before.get(i), snapshot(watched.get(i))), "tensor " + i + " was written");
            }
            assertEquals(expectedLive, engine.liveDeviceTensors(), "device tensors left behind");
        }

        /** Frees what the fixture made; the engine too unless it is shared. */
        void close(boolean engineToo) {
            uploaded.forEach(DeviceTensor::close);
            if (engineToo) {
                engine.close();
            }
            if (foreign != null) {
                foreign.close();
            }
        }

        @Override
        public void close() {
            close(true);
        }
    }

    private static Bad bad(String what, Class<? extends RuntimeException> type, String names, Call call) {
        return new Bad(what, type, names, call);
    }

    private static final Class<NullPointerException> NPE = NullPointerException.class;
    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;
    private static final Class<IndexOutOfBoundsException> IOOBE = IndexOutOfBoundsException.class;

    private static final OpArgs RELU = OpArgs.of(Op.RELU);
    private static final OpArgs SOFTMAX = OpArgs.of(Op.SOFTMAX);

    /** The bad calls that need only the CPU. */
    static List<Bad> table() {
        List<Bad> t = new ArrayList<>();
        // ---- Engine: creation and settings
        t.add(bad("create(null name)", NPE, "backend", f -> Engine.create((String) null)));
        t.add(bad("create(\"tpu\")", IAE, "backend", f -> Engine.create("tpu")));
        t.add(bad("create(null kind)", NPE, "kind", f -> Engine.create((BackendKind) null)));
        t.add(bad("create(null kind, device)", NPE, "kind", f -> Engine.create(null, "0")));
        t.add(bad("create(cpu, device 7)", BackendUnavailableException.class, "device", f -> Engine.create(BackendKind.CPU, "7")));
        t.add(bad("over(null)", NPE, "backend", f -> Engine.over(null)));
        t.add(bad("setDeviceMemory(0)", IAE, "bytes", f -> f.engine.setDeviceMemory(0)));
        t.add(bad("setDeviceMemory(-1)", IAE, "bytes", f -> f.engine.setDeviceMemory(-1)));
        t.add(bad("setDeviceMemory on a closed engine", ISE, "engine", f -> f.closedEngine().setDeviceMemory(1 << 20)));

        // ---- forward
        t.add(bad("forward(null op)", NPE, "op", f -> f.engine.forward((Op) null, f.f32(3))));
        t.add(bad("forward(null args)", NPE, "args", f -> f.engine.forward((OpArgs) null, f.f32(3))));
        t.add(bad("forward(null args, x, out)", NPE, "args", f -> f.engine.forward(null, f.f32(3), f.f32(3))));
        t.add(bad("forward(x null)", NPE, "x", f -> f.engine.forward(Op.RELU, null)));
        t.add(bad("forward(x closed)", ISE, "x", f -> f.engine.forward(Op.RELU, f.closed(3))));
        t.add(bad("forward out shape", IAE, "out", f -> f.engine.forward(RELU, f.f32(2, 3), f.f32(3, 2))));
        t.add(bad("forward out length", IAE, "out", f -> f.engine.forward(RELU, f.f32(6), f.f32(5))));
        t.add(bad("forward out rank", IAE, "out", f -> f.engine.forward(RELU, f.f32(6), f.f32(1, 6))));
        t.add(bad("forward out float64 for float32 x", IAE, "out", f -> f.engine.forward(RELU, f.f32(3), f.f64(3))));
        t.add(bad("forward out float32 for float64 x", IAE, "out", f -> f.engine.forward(RELU, f.f64(3), f.f32(3))));
        t.add(bad("forward out closed", ISE, "out", f -> f.engine.forward(RELU, f.f32(3), f.closed(3))));
        t.add(bad("forward out read-only", IAE, "out", f -> f.engine.forward(RELU, f.f32(3), f.readOnly(3))));
        t.add(bad("forward in place on a read-only x", IAE, "out", f -> {
            Tensor ro = f.readOnly(3);
            f.engine.forward(RELU, ro, ro);
        }));
        t.add(bad("forward out overlaps x by one element", IAE, "out", f -> {
            Tensor base = f.f32(9);
            f.engine.forward(RELU, f.view(base, 0, 8), f.view(base, 1, 8));
        }));
        t.add(bad("forward out overlaps x, shifted back", IAE, "out", f -> {
            Tensor base = f.f32(12);
            f.engine.forward(RELU, f.view(base, 4, 2, 4), f.view(base, 0, 2, 4));
        }));
        t.add(bad("forward of prelu without its weight", IAE, "weight", f -> f.engine.forward(Op.PRELU, f.f32(2, 3))));
        t.add(bad("softmax axis 2 of rank 2", IAE, "axis", f -> f.engine.forward(SOFTMAX.withAxis(2), f.f32(2, 3))));
        t.add(bad("softmax axis -3 of rank 2", IAE, "axis", f -> f.engine.forward(SOFTMAX.withAxis(-3), f.f32(2, 3))));
        t.add(bad("log_softmax axis 1 of a 0-d tensor", IAE, "axis",
                f -> f.engine.forward(OpArgs.of(Op.LOG_SOFTMAX).withAxis(1), f.f32())));
        t.add(bad("softmax axis Integer.MIN_VALUE", IAE, "axis",
                f -> f.engine.forward(SOFTMAX.withAxis(Integer.MIN_VALUE), f.f32(4))));
        t.add(bad("forward on a closed engine", ISE, "engine", f -> f.closedEngine().forward(Op.RELU, f.f32(3))));

        // ---- prelu
        t.add(bad("prelu(x null)", NPE, "x", f -> f.engine.prelu(null, f.f32(1))));
        t.add(bad("prelu(weight null)", NPE, "weight", f -> f.engine.prelu(f.f32(2, 3), null)));
        t.add(bad("prelu weight of 2 for 3 channels", IAE, "weight", f -> f.engine.prelu(f.f32(2, 3, 4), f.f32(2))));
        t.add(bad("prelu weight of 4 for 3 channels", IAE, "weight", f -> f.engine.prelu(f.f32(2, 3), f.f32(4))));
        t.add(bad("prelu weight of 0", IAE, "weight", f -> f.engine.prelu(f.f32(2, 3), f.f32(0))));
        t.add(bad("prelu weight of C on a rank-1 x", IAE, "weight", f -> f.engine.prelu(f.f32(3), f.f32(3))));
        t.add(bad("prelu weight of 3 on a 0-d x", IAE, "weight", f -> f.engine.prelu(f.f32(), f.f32(3))));
        t.add(bad("prelu weight 2-D", IAE, "weight", f -> f.engine.prelu(f.f32(2, 3), f.f32(1, 3))));
        t.add(bad("prelu weight 0-d", IAE, "weight", f -> f.engine.prelu(f.f32(2, 3), f.f32())));
        t.add(bad("prelu weight float64 for float32 x", IAE, "weight", f -> f.engine.prelu(f.f32(2, 3), f.f64(3))));
        t.add(bad("prelu weight float32 for float64 x", IAE, "weight", f -> f.engine.prelu(f.f64(2, 3), f.f32(3))));
        t.add(bad("prelu weight closed", ISE, "weight", f -> f.engine.prelu(f.f32(2, 3), f.closed(3))));
        t.add(bad("prelu out shape", IAE, "out", f -> f.engine.prelu(f.f32(2, 3), f.f32(3), f.f32(6))));
        t.add(bad("prelu out dtype", IAE, "out", f -> f.engine.prelu(f.f32(2, 3), f.f32(3), f.f64(2, 3))));
        t.add(bad("prelu out overlaps the weight", IAE, "out", f -> {
            Tensor base = f.f32(3);
            f.engine.prelu(f.f32(3), f.view(base, 0, 1), f.view(base, 0, 3));
        }));
        t.add(bad("prelu on a closed engine", ISE, "engine", f -> f.closedEngine().prelu(f.f32(3), f.f32(1))));

        // ---- backward
        t.add(bad("backward(null op)", NPE, "op", f -> f.engine.backward((Op) null, f.f32(3), f.f32(3))));
        t.add(bad("backward(null args)", NPE, "args", f -> f.engine.backward((OpArgs) null, f.f32(3), f.f32(3))));
        t.add(bad("backward(x null)", NPE, "x", f -> f.engine.backward(Op.GELU, null, f.f32(3))));
        t.add(bad("backward(dy null)", NPE, "dy", f -> f.engine.backward(Op.GELU, f.f32(3), null)));
        t.add(bad("backward dy shape", IAE, "dy", f -> f.engine.backward(Op.GELU, f.f32(2, 3), f.f32(3, 2))));
        t.add(bad("backward dy length", IAE, "dy", f -> f.engine.backward(Op.GELU, f.f32(5), f.f32(4))));
        t.add(bad("backward dy float64 for float32 x", IAE, "dy", f -> f.engine.backward(Op.GELU, f.f32(3), f.f64(3))));
        t.add(bad("backward dy closed", ISE, "dy", f -> f.engine.backward(Op.GELU, f.f32(3), f.closed(3))));
        t.add(bad("backward x closed", ISE, "x", f -> f.engine.backward(Op.GELU, f.closed(3), f.f32(3))));
        t.add(bad("backward dx shape", IAE, "dx",
                f -> f.engine.backward(OpArgs.of(Op.GELU), f.f32(2, 3), f.f32(2, 3), f.f32(6))));
        t.add(bad("backward dx dtype", IAE, "dx",
                f -> f.engine.backward(OpArgs.of(Op.GELU), f.f32(3), f.f32(3), f.f64(3))));
        t.add(bad("backward dx read-only", IAE, "dx",
                f -> f.engine.backward(OpArgs.of(Op.GELU), f.f32(3), f.f32(3), f.readOnly(3))));
        t.add(bad("backward dx overlaps dy", IAE, "dx", f -> {
            Tensor base = f.f32(10);
            f.engine.backward(OpArgs.of(Op.TANH), f.f32(8), f.view(base, 0, 8), f.view(base, 2, 8));
        }));
        t.add(bad("backward dx overlaps x", IAE, "dx", f -> {
            Tensor base = f.f32(10);
            f.engine.backward(OpArgs.of(Op.TANH), f.view(base, 2, 8), f.f32(8), f.view(base, 0, 8));
        }));
        t.add(bad("backward of prelu without its weight", IAE, "weight", f -> f.engine.backward(Op.PRELU, f.f32(3), f.f32(3))));
        t.add(bad("softmax backward axis 3 of rank 3", IAE, "axis",
                f -> f.engine.backward(SOFTMAX.withAxis(3), f.f32(2, 2, 2), f.f32(2, 2, 2))));
        t.add(bad("backward on a closed engine", ISE, "engine", f -> f.closedEngine().backward(Op.GELU, f.f32(3), f.f32(3))));

        // ---- preluBackward
        t.add(bad("preluBackward(x null)", NPE, "x", f -> f.engine.preluBackward(null, f.f32(3), f.f32(2, 3))));
        t.add(bad("preluBackward(weight null)", NPE, "weight", f -> f.engine.preluBackward(f.f32(2, 3), null, f.f32(2, 3))));
        t.add(bad("preluBackward(dy null)", NPE, "dy", f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), null)));
        t.add(bad("preluBackward weight length", IAE, "weight", f -> f.engine.preluBackward(f.f32(2, 3), f.f32(2), f.f32(2, 3))));
        t.add(bad("preluBackward dy shape", IAE, "dy", f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f32(3, 2))));
        t.add(bad("preluBackward dy dtype", IAE, "dy", f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f64(2, 3))));
        t.add(bad("preluBackward dx shape", IAE, "dx",
                f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f32(2, 3), f.f32(3), null)));
        t.add(bad("preluBackward dw shape", IAE, "dw",
                f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f32(2, 3), null, f.f32(2))));
        t.add(bad("preluBackward dw dtype", IAE, "dw",
                f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f32(2, 3), null, f.f64(3))));
        t.add(bad("preluBackward dw read-only", IAE, "dw",
                f -> f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f32(2, 3), null, f.readOnly(3))));
        t.add(bad("preluBackward dw is the weight", IAE, "dw", f -> {
            Tensor w = f.f32(3);
            f.engine.preluBackward(f.f32(2, 3), w, f.f32(2, 3), null, w);
        }));
        t.add(bad("preluBackward dw is x (one channel)", IAE, "dw", f -> {
            Tensor x = f.f32(1);
            f.engine.preluBackward(x, f.f32(1), f.f32(1), null, x);
        }));
        t.add(bad("preluBackward dw is dy (one channel)", IAE, "dw", f -> {
            Tensor dy = f.f32(1);
            f.engine.preluBackward(f.f32(1), f.f32(1), dy, null, dy);
        }));
        t.add(bad("preluBackward dw overlaps dx", IAE, "dw", f -> {
            Tensor base = f.f32(6);
            f.engine.preluBackward(f.f32(2, 3), f.f32(3), f.f32(2, 3), f.view(base, 0, 2, 3), f.view(base, 3, 3));
        }));
        t.add(bad("preluBackward dx overlaps the weight", IAE, "dx", f -> {
            Tensor base = f.f32(6);
            f.engine.preluBackward(f.f32(2, 2), f.view(base, 3, 2), f.f32(2, 2), f.view(base, 0, 2, 2), null);
        }));
        t.add(bad("preluBackward on a closed engine", ISE, "engine",
                f -> f.closedEngine().preluBackward(f.f32(3), f.f32(1), f.f32(3))));

        // ---- forwardChain and ChainStep
        t.add(bad("forwardChain(null steps)", NPE, "steps", f -> f.engine.forwardChain(null, f.f32(3))));
        t.add(bad("forwardChain(no steps)", IAE, "steps", f -> f.engine.forwardChain(List.of(), f.f32(3))));
        t.add(bad("forwardChain(a null step)", NPE, "steps[1]",
                f -> f.engine.forwardChain(Arrays.asList(ChainStep.of(RELU), null), f.f32(3))));
        t.add(bad("forwardChain(x null)", NPE, "x", f -> f.engine.forwardChain(List.of(ChainStep.of(RELU)), null)));
        t.add(bad("forwardChain prelu weight length", IAE, "steps[1].weight",
                f -> f.engine.forwardChain(List.of(ChainStep.of(RELU), new ChainStep(OpArgs.of(Op.PRELU), f.f32(2))), f.f32(2, 3))));
        t.add(bad("forwardChain prelu weight dtype", IAE, "steps[0].weight",
                f -> f.engine.forwardChain(List.of(new ChainStep(OpArgs.of(Op.PRELU), f.f64(3))), f.f32(2, 3))));
        t.add(bad("forwardChain softmax axis", IAE, "axis",
                f -> f.engine.forwardChain(List.of(ChainStep.of(RELU), ChainStep.of(SOFTMAX.withAxis(5))), f.f32(2, 3))));
        t.add(bad("forwardChain out shape", IAE, "out",
                f -> f.engine.forwardChain(List.of(ChainStep.of(RELU)), f.f32(2, 3), f.f32(3, 2), null)));
        t.add(bad("forwardChain out overlaps x", IAE, "out", f -> {
            Tensor base = f.f32(7);
            f.engine.forwardChain(List.of(ChainStep.of(RELU)), f.view(base, 0, 6), f.view(base, 1, 6), null);
        }));
        t.add(bad("forwardChain out overlaps a weight", IAE, "out", f -> {
            Tensor base = f.f32(4);
            f.engine.forwardChain(List.of(new ChainStep(OpArgs.of(Op.PRELU), f.view(base, 0, 1))), f.f32(3),
                    f.view(base, 0, 3), null);
        }));
        t.add(bad("forwardChain on a closed engine", ISE, "engine",
                f -> f.closedEngine().forwardChain(List.of(ChainStep.of(RELU)), f.f32(3))));
        t.add(bad("ChainStep(null args)", NPE, "args", f -> new ChainStep(null, null)));
        t.add(bad("ChainStep of prelu without a weight", IAE, "weight", f -> new ChainStep(OpArgs.of(Op.PRELU), null)));
        t.add(bad("ChainStep of relu with a weight", IAE, "weight", f -> new ChainStep(RELU, f.f32(1))));

        // ---- forwardMany and backwardMany
        t.add(bad("forwardMany(null args)", NPE, "args", f -> f.engine.forwardMany(null, List.of(f.f32(3)))));
        t.add(bad("forwardMany(null xs)", NPE, "xs", f -> f.engine.forwardMany(RELU, null)));
        t.add(bad("forwardMany(no xs)", IAE, "xs", f -> f.engine.forwardMany(RELU, List.of())));
        t.add(bad("forwardMany(xs[1] null)", NPE, "xs[1]", f -> f.engine.forwardMany(RELU, Arrays.asList(f.f32(3), null))));
        t.add(bad("forwardMany(xs[1] closed)", ISE, "xs[1]", f -> f.engine.forwardMany(RELU, List.of(f.f32(3), f.closed(2)))));
        t.add(bad("forwardMany mixed dtypes", IAE, "xs[1]", f -> f.engine.forwardMany(RELU, List.of(f.f32(3), f.f64(3)))));
        t.add(bad("forwardMany of softmax", IAE, "args", f -> f.engine.forwardMany(SOFTMAX, List.of(f.f32(3)))));
        t.add(bad("forwardMany of prelu", IAE, "args", f -> f.engine.forwardMany(OpArgs.of(Op.PRELU), List.of(f.f32(3)))));
        t.add(bad("forwardMany on a closed engine", ISE, "engine", f -> f.closedEngine().forwardMany(RELU, List.of(f.f32(3)))));
        t.add(bad("backwardMany(null dys)", NPE, "dys", f -> f.engine.backwardMany(RELU, List.of(f.f32(3)), null)));
        t.add(bad("backwardMany(dys shorter)", IAE, "dys",
                f -> f.engine.backwardMany(RELU, List.of(f.f32(3), f.f32(2)), List.of(f.f32(3)))));
        t.add(bad("backwardMany(dys[1] null)", NPE, "dys[1]",
                f -> f.engine.backwardMany(RELU, List.of(f.f32(3), f.f32(2)), Arrays.asList(f.f32(3), null))));
        t.add(bad("backwardMany(dys[0] shape)", IAE, "dys[0]",
                f -> f.engine.backwardMany(RELU, List.of(f.f32(3)), List.of(f.f32(4)))));
        t.add(bad("backwardMany(dys[0] dtype)", IAE, "dys[0]",
                f -> f.engine.backwardMany(RELU, List.of(f.f32(3)), List.of(f.f64(3)))));
        t.add(bad("backwardMany(null xs)", NPE, "xs", f -> f.engine.backwardMany(RELU, null, List.of(f.f32(3)))));

        // ---- device tensors
        t.add(bad("upload(null)", NPE, "x", f -> f.engine.upload(null)));
        t.add(bad("upload(closed)", ISE, "x", f -> f.engine.upload(f.closed(3))));
        t.add(bad("upload on a closed engine", ISE, "engine", f -> f.closedEngine().upload(f.f32(3))));
        t.add(bad("download(null)", NPE, "d", f -> f.engine.download(null)));
        t.add(bad("download(closed device tensor)", ISE, "d", f -> f.engine.download(f.closedDevice(3))));
        t.add(bad("download(another engine's tensor)", IAE, "d", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.engine.download(d);
            }
        }));
        t.add(bad("download on a closed engine", ISE, "engine", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.closedEngine().download(d);
            }
        }));
        t.add(bad("downloadAsync(null)", NPE, "d", f -> f.engine.downloadAsync(null)));
        t.add(bad("downloadAsync(closed device tensor)", ISE, "d", f -> f.engine.downloadAsync(f.closedDevice(3))));
        t.add(bad("downloadAsync on a closed engine", ISE, "engine", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.closedEngine().downloadAsync(d);
            }
        }));
        t.add(bad("device forward(null args)", NPE, "args", f -> f.engine.forward((OpArgs) null, f.device(f.f32(3)))));
        t.add(bad("device forward(x null)", NPE, "x", f -> f.engine.forward(RELU, (DeviceTensor) null)));
        t.add(bad("device forward(x closed)", ISE, "x", f -> f.engine.forward(RELU, f.closedDevice(3))));
        t.add(bad("device forward of another engine's x", IAE, "x", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.engine.forward(RELU, d);
            }
        }));
        t.add(bad("device forward of prelu", IAE, "prelu", f -> f.engine.forward(OpArgs.of(Op.PRELU), f.device(f.f32(3)))));
        t.add(bad("device softmax axis", IAE, "axis", f -> f.engine.forward(SOFTMAX.withAxis(1), f.device(f.f32(3)))));
        t.add(bad("device backward(dy null)", NPE, "dy", f -> f.engine.backward(RELU, f.device(f.f32(3)), null)));
        t.add(bad("device backward dy shape", IAE, "dy",
                f -> f.engine.backward(RELU, f.device(f.f32(2, 3)), f.device(f.f32(3, 2)))));
        t.add(bad("device backward dy dtype", IAE, "dy", f -> f.engine.backward(RELU, f.device(f.f32(3)), f.device(f.f64(3)))));
        t.add(bad("device backward dy of another engine", IAE, "dy", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.engine.backward(RELU, f.device(f.f32(3)), d);
            }
        }));
        t.add(bad("device backward dy closed", ISE, "dy", f -> f.engine.backward(RELU, f.device(f.f32(3)), f.closedDevice(3))));
        t.add(bad("forwardAsync(x null)", NPE, "x", f -> f.engine.forwardAsync(RELU, null)));
        t.add(bad("forwardAsync(null args)", NPE, "args", f -> f.engine.forwardAsync(null, f.device(f.f32(3)))));
        t.add(bad("forwardAsync softmax axis", IAE, "axis", f -> f.engine.forwardAsync(SOFTMAX.withAxis(-2), f.device(f.f32(3)))));
        t.add(bad("forwardAsync on a closed engine", ISE, "engine", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.closedEngine().forwardAsync(RELU, d);
            }
        }));
        t.add(bad("backwardAsync dy shape", IAE, "dy",
                f -> f.engine.backwardAsync(RELU, f.device(f.f32(3)), f.device(f.f32(4)))));
        t.add(bad("backwardAsync(x of another engine)", IAE, "x", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.engine.backwardAsync(RELU, d, f.device(f.f32(3)));
            }
        }));

        // ---- Tensor
        t.add(bad("Tensor.of(null float[])", NPE, "values", f -> Tensor.of((float[]) null)));
        t.add(bad("Tensor.of(null double[])", NPE, "values", f -> Tensor.of((double[]) null, 2)));
        t.add(bad("Tensor.of shape product differs", IAE, "shape", f -> Tensor.of(new float[6], 2, 2)));
        t.add(bad("Tensor.of negative dimension", IAE, "shape", f -> Tensor.of(new float[6], -2, -3)));
        t.add(bad("Tensor.of shape product overflows", IAE, "shape", f -> Tensor.of(new float[6], 1L << 32, 1L << 32)));
        t.add(bad("allocate(null dtype)", NPE, "dtype", f -> Tensor.allocate(null, 3)));
        t.add(bad("allocate(null shape)", NPE, "shape", f -> Tensor.allocate(DType.F32, (long[]) null)));
        t.add(bad("allocate negative dimension", IAE, "shape", f -> Tensor.allocate(DType.F32, 3, -1)));
        t.add(bad("allocate bytes beyond 2^63", IAE, "shape", f -> Tensor.allocate(DType.F64, Long.MAX_VALUE / 4)));
        t.add(bad("allocate product beyond Long.MAX_VALUE", IAE, "shape", f -> Tensor.allocate(DType.F32, Long.MAX_VALUE, 2)));
        t.add(bad("allocateNative(null dtype)", NPE, "dtype", f -> Tensor.allocateNative(null, 3)));
        t.add(bad("allocateNative negative dimension", IAE, "shape", f -> Tensor.allocateNative(DType.F32, -1)));
        t.add(bad("allocateNative overflow", IAE, "shape", f -> Tensor.allocateNative(DType.F32, 1L << 40, 1L << 40)));
        t.add(bad("wrap(null segment)", NPE, "segment", f -> Tensor.wrap(null, DType.F32, 3)));
        t.add(bad("wrap(null dtype)", NPE, "dtype", f -> Tensor.wrap(MemorySegment.ofArray(new float[3]), null, 3)));
        t.add(bad("wrap(null shape)", NPE, "shape", f -> Tensor.wrap(MemorySegment.ofArray(new float[3]), DType.F32, (long[]) null)));
        t.add(bad("wrap segment too small", IAE, "segment", f -> Tensor.wrap(MemorySegment.ofArray(new float[3]), DType.F32, 4)));
        t.add(bad("wrap float64 segment too small", IAE, "segment",
                f -> Tensor.wrap(MemorySegment.ofArray(new double[1]), DType.F64, 2)));
        t.add(bad("wrap a byte[] as float32 (misaligned)", IAE, "segment",
                f -> Tensor.wrap(MemorySegment.ofArray(new byte[16]), DType.F32, 4)));
        t.add(bad("wrap native memory at an odd address", IAE, "segment", f -> {
            try (Arena a = Arena.ofConfined()) {
                Tensor.wrap(a.allocate(64, 16).asSlice(1, 32), DType.F64, 4);
            }
        }));
        t.add(bad("wrap a segment of a closed arena", ISE, "segment", f -> {
            Arena a = Arena.ofShared();
            MemorySegment s = a.allocate(16, 8);
            a.close();
            Tensor.wrap(s, DType.F32, 4);
        }));
        t.add(bad("dim(2) of rank 2", IOOBE, "axis", f -> f.f32(2, 3).dim(2)));
        t.add(bad("dim(-3) of rank 2", IOOBE, "axis", f -> f.f32(2, 3).dim(-3)));
        t.add(bad("dim(0) of a 0-d tensor", IOOBE, "axis", f -> f.f32().dim(0)));
        t.add(bad("get(-1)", IOOBE, "index", f -> f.f32(3).get(-1)));
        t.add(bad("get(count)", IOOBE, "index", f -> f.f32(3).get(3)));
        t.add(bad("get beyond the tensor inside a larger segment", IOOBE, "index",
                f -> Tensor.wrap(MemorySegment.ofArray(new float[8]), DType.F32, 4).get(5)));
        t.add(bad("set(count)", IOOBE, "index", f -> f.f32(3).set(3, 1.0)));
        t.add(bad("set on an empty tensor", IOOBE, "index", f -> f.f32(0).set(0, 1.0)));
        t.add(bad("sameShape(null)", NPE, "other", f -> f.f32(3).sameShape(null)));
        t.add(bad("get on a closed tensor", ISE, "tensor", f -> f.closed(3).get(0)));
        t.add(bad("set on a closed tensor", ISE, "tensor", f -> f.closed(3).set(0, 1)));
        t.add(bad("fill on a closed tensor", ISE, "tensor", f -> f.closed(3).fill(1)));
        t.add(bad("copy of a closed tensor", ISE, "tensor", f -> f.closed(3).copy()));
        t.add(bad("toFloatArray of a closed tensor", ISE, "tensor", f -> f.closed(3).toFloatArray()));
        t.add(bad("toDoubleArray of a closed tensor", ISE, "tensor", f -> f.closed(3).toDoubleArray()));

        // ---- OpArgs, Op, PreluGradients
        t.add(bad("OpArgs.of(null)", NPE, "op", f -> OpArgs.of(null)));
        t.add(bad("new OpArgs(null op)", NPE, "op", f -> new OpArgs(null, 0, 1, 20, -1, false)));
        t.add(bad("leaky_relu alpha NaN", IAE, "alpha", f -> OpArgs.of(Op.LEAKY_RELU).withAlpha(Double.NaN)));
        t.add(bad("elu alpha +inf", IAE, "alpha", f -> OpArgs.of(Op.ELU).withAlpha(Double.POSITIVE_INFINITY)));
        t.add(bad("celu alpha -inf", IAE, "alpha", f -> OpArgs.of(Op.CELU).withAlpha(Double.NEGATIVE_INFINITY)));
        t.add(bad("celu alpha 0", IAE, "alpha", f -> OpArgs.of(Op.CELU).withAlpha(0.0)));
        t.add(bad("celu alpha -0", IAE, "alpha", f -> OpArgs.of(Op.CELU).withAlpha(-0.0)));
        t.add(bad("softplus beta 0", IAE, "beta", f -> OpArgs.of(Op.SOFTPLUS).withBeta(0)));
        t.add(bad("softplus beta -1", IAE, "beta", f -> OpArgs.of(Op.SOFTPLUS).withBeta(-1)));
        t.add(bad("softplus beta NaN", IAE, "beta", f -> OpArgs.of(Op.SOFTPLUS).withBeta(Double.NaN)));
        t.add(bad("softplus beta +inf", IAE, "beta", f -> OpArgs.of(Op.SOFTPLUS).withBeta(Double.POSITIVE_INFINITY)));
        t.add(bad("softplus threshold NaN", IAE, "threshold", f -> OpArgs.of(Op.SOFTPLUS).withThreshold(Double.NaN)));
        t.add(bad("softplus threshold -inf", IAE, "threshold",
                f -> OpArgs.of(Op.SOFTPLUS).withThreshold(Double.NEGATIVE_INFINITY)));
        t.add(bad("new OpArgs(elu, alpha NaN)", IAE, "alpha", f -> new OpArgs(Op.ELU, Double.NaN, 1, 20, -1, false)));
        t.add(bad("alpha for relu", IAE, "alpha", f -> OpArgs.of(Op.RELU).withAlpha(0.1)));
        t.add(bad("beta for leaky_relu", IAE, "beta", f -> OpArgs.of(Op.LEAKY_RELU).withBeta(2)));
        t.add(bad("threshold for gelu", IAE, "threshold", f -> OpArgs.of(Op.GELU).withThreshold(2)));
        t.add(bad("axis for sigmoid", IAE, "axis", f -> OpArgs.of(Op.SIGMOID).withAxis(0)));
        t.add(bad("safe for tanh", IAE, "safe", f -> OpArgs.of(Op.TANH).withSafe(true)));
        t.add(bad("alpha for prelu", IAE, "alpha", f -> OpArgs.of(Op.PRELU).withAlpha(0.25)));
        t.add(bad("Op.byId(null)", NPE, "op", f -> Op.byId(null)));
        t.add(bad("Op.byId(\"sigmod\")", IAE, "op", f -> Op.byId("sigmod")));
        t.add(bad("Op.byId(\"\")", IAE, "op", f -> Op.byId("")));
        t.add(bad("PreluGradients(null dx)", NPE, "dx", f -> new PreluGradients(null, f.f32(1))));
        t.add(bad("PreluGradients(null dw)", NPE, "dw", f -> new PreluGradients(f.f32(1), null)));

        // ---- backend registry
        t.add(bad("BackendKind.parse(null)", NPE, "backend", f -> BackendKind.parse(null)));
        t.add(bad("BackendKind.parse(\"gpu\")", IAE, "backend", f -> BackendKind.parse("gpu")));
        t.add(bad("Backends.provider(null)", NPE, "kind", f -> Backends.provider(null)));
        t.add(bad("Backends.provider(AUTO)", IAE, "kind", f -> Backends.provider(BackendKind.AUTO)));
        t.add(bad("Backends.open(null)", NPE, "kind", f -> Backends.open(null, null)));

        // ---- .npy files (the file contents themselves are the fuzzer's and NpyHeaderTest's)
        t.add(bad("NpyReader.read(null)", NPE, "file", f -> NpyReader.read(null)));
        t.add(bad("NpyWriter.write(null file)", NPE, "file", f -> NpyWriter.write(null, f.f32(3))));
        t.add(bad("NpyWriter.write(null tensor)", NPE, "t", f -> NpyWriter.write(dir.resolve("w.npy"), null)));
        t.add(bad("NpyOutput.create(null target)", NPE, "target", f -> NpyOutput.create(null, DType.F32, 3)));
        t.add(bad("NpyOutput.create(null dtype)", NPE, "dtype", f -> NpyOutput.create(dir.resolve("o.npy"), null, 3)));
        t.add(bad("NpyOutput.create(null shape)", NPE, "shape",
                f -> NpyOutput.create(dir.resolve("o.npy"), DType.F32, (long[]) null)));
        t.add(bad("NpyOutput.create negative dimension", IAE, "shape", f -> NpyOutput.create(dir.resolve("o.npy"), DType.F32, 2, -1)));
        t.add(bad("NpyOutput.create overflowing shape", IAE, "shape",
                f -> NpyOutput.create(dir.resolve("o.npy"), DType.F64, 1L << 31, 1L << 31)));
        return t;
    }

    /** Runs one bad call and checks how it was refused. */
    static void refuse(Bad b, Fixture f) {
        Throwable caught = null;
        try {
            b.call().run(f);
        } catch (Throwable e) {
            caught = e;
        }
        Throwable thrown = caught;
        assertNotNull(thrown, b.what() + ": accepted, should have thrown " + b.type().getSimpleName());
        assertEquals(b.type(), thrown.getClass(), () -> b.what() + ": wrong exception type: " + thrown);
        String m = thrown.getMessage();
        assertNotNull(m, b.what() + ": no message");
        assertFalse(m.contains("\n") || m.contains("\r"), b.what() + ": message is more than one line: " + m);
        assertTrue(Pattern.compile("(?<![\\w.\\[])" + Pattern.quote(b.names()) + "(?![\\w\\[])").matcher(m).find(),
                () -> b.what() + ": message does not name '" + b.names() + "': " + m);
        assertTrue(m.contains("; "), () -> b.what() + ": message does not say what to do (no '; ...'): " + m);
        f.assertNothingDone();
        if (b.what().startsWith("NpyOutput") || b.what().startsWith("NpyWriter")) {
            assertFalse(Files.exists(dir.resolve("o.npy")) || Files.exists(dir.resolve("w.npy")), "no output file");
        }
    }

    private static int runAll(List<Bad> table, java.util.function.Supplier<Engine> engines) {
        List<Executable> checks = new ArrayList<>();
        for (Bad b : table) {
            checks.add(() -> {
                try (Fixture f = new Fixture(engines.get())) {
                    refuse(b, f);
                }
            });
        }
        assertAll(checks.stream());
        return checks.size();
    }

    @Test
    void everyBadInputIsRefusedByNameBeforeAnyWork() {
        List<Bad> table = table();
        int refused = runAll(table, () -> Engine.create(BackendKind.CPU));
        System.out.println("ApiRefusalTest: " + refused + " bad API inputs tried, " + refused + " refused by name (CPU)");
        // The README's guarantees quote this figure; a shrinking table must be noticed.
        assertTrue(refused >= 200, "the table shrank to " + refused);
        ReadmeFigure.check("`ApiRefusalTest` tries (\\d+) bad calls", refused);
        assertEquals(table.size(), table.stream().map(Bad::what).distinct().count(), "row names are unique");
    }

    /** Rows that need a GPU runtime: PoCL here, with float64 switched off as on a device without cl_khr_fp64. */
    static List<Bad> deviceTable() {
        List<Bad> t = new ArrayList<>();
        t.add(bad("float64 forward on a device without float64", IAE, "x", f -> f.engine.forward(Op.RELU, f.f64(3))));
        t.add(bad("float64 backward on a device without float64", IAE, "x", f -> f.engine.backward(Op.RELU, f.f64(3), f.f64(3))));
        t.add(bad("float64 prelu on a device without float64", IAE, "x", f -> f.engine.prelu(f.f64(2, 3), f.f64(3))));
        t.add(bad("float64 chain on a device without float64", IAE, "x",
                f -> f.engine.forwardChain(List.of(ChainStep.of(RELU)), f.f64(3))));
        t.add(bad("float64 forwardMany on a device without float64", IAE, "xs[0]",
                f -> f.engine.forwardMany(RELU, List.of(f.f64(3)))));
        t.add(bad("float64 upload on a device without float64", IAE, "x", f -> f.engine.upload(f.f64(3))));
        t.add(bad("a CPU engine's device tensor on a GPU engine", IAE, "x", f -> {
            try (DeviceTensor d = f.foreign().upload(f.f32(3))) {
                f.engine.forward(RELU, d);
            }
        }));
        return t;
    }

    /** An OpenCL engine (PoCL here), optionally with float64 switched off; skips or fails as the OpenCL suites do. */
    private static Engine openCl(boolean noFp64) {
        var probe = Backends.provider(BackendKind.OPENCL).probe();
        if (!probe.isAvailable()) {
            String env = System.getenv("SOMA_REQUIRE_OPENCL");
            if (Boolean.getBoolean("soma.requireOpenCL")
                    || (env != null && !env.isBlank() && !env.trim().toLowerCase(Locale.ROOT).matches("0|false|no"))) {
                fail("OpenCL is required here (SOMA_REQUIRE_OPENCL) but unavailable: " + probe.reason());
            }
            Assumptions.abort("no OpenCL device, skipping the refusals on a device: " + probe.reason());
        }
        if (!noFp64) {
            return Engine.create(BackendKind.OPENCL);
        }
        System.setProperty("soma.opencl.simulateNoFp64", "true");
        try {
            return Engine.create(BackendKind.OPENCL);
        } finally {
            System.clearProperty("soma.opencl.simulateNoFp64");
        }
    }

    /**
     * Runs every row on one shared device engine (a fresh one per row would build the kernels again)
     * and checks that no refusal allocated a device buffer; closes the engine; returns the count.
     */
    private static int runOnDevice(List<Bad> table, Engine gpu) {
        try {
            var allocator = ((dev.soma.backend.device.DeviceBackend) gpu.backend()).runtime().allocator();
            List<Executable> checks = new ArrayList<>();
            for (Bad b : table) {
                checks.add(() -> {
                    Fixture f = new Fixture(gpu);
                    long buffers = allocator.liveBuffers();
                    try {
                        refuse(b, f);
                    } finally {
                        f.close(false);
                    }
                    // The row's own uploads are freed by now: whatever is left, the refused call allocated.
                    assertEquals(buffers, allocator.liveBuffers(), b.what() + ": device buffers left: "
                            + allocator.describeLive());
                });
            }
            assertAll(checks.stream());
            return checks.size();
        } finally {
            gpu.close();
        }
    }

    @Test
    void theSameRefusalsOnOpenCl() {
        Engine gpu = openCl(false);
        String where = gpu.description();
        int refused = runOnDevice(table(), gpu);
        System.out.println("ApiRefusalTest: " + refused + " bad API inputs tried on " + where + ", " + refused
                + " refused by name");
    }

    @Test
    void deviceOnlyRefusalsOnOpenCl() {
        Engine gpu = openCl(true);
        String where = gpu.description();
        int refused = runOnDevice(deviceTable(), gpu);
        System.out.println("ApiRefusalTest: " + refused + " device-only bad API inputs tried on " + where
                + " without float64, " + refused + " refused by name");
        ReadmeFigure.check("and (\\d+) more on an OpenCL device with float64 switched off", refused);
    }
}
