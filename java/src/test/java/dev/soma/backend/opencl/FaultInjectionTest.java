package dev.soma.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.soma.DeviceTensor;
import dev.soma.Engine;
import dev.soma.PreluGradients;
import dev.soma.Tensor;
import dev.soma.backend.ChainStep;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.backend.device.DeviceLostException;
import dev.soma.backend.device.DeviceOutOfMemoryException;
import dev.soma.backend.opencl.FaultyRuntime.Site;
import dev.soma.fallback.Samples;
import dev.soma.op.DType;
import dev.soma.op.Op;
import dev.soma.op.OpArgs;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.jocl.CL;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Device faults in the middle of real work on PoCL: for each workload (in-memory and streamed
 * paths, softmax rows longer than the budget, PReLU's dw, many tensors in one launch, device-resident
 * tensors), the Nth allocation, kernel launch, transfer or wait fails with the exception the real
 * runtime throws for an out-of-memory ({@code CL_MEM_OBJECT_ALLOCATION_FAILURE}) or a lost device
 * ({@code CL_OUT_OF_RESOURCES}), for N from the first call to the last. Every fault must:
 * reach the caller as that exception with a one-line message; leave no device buffer, pinned block
 * or queue behind (before the engine is closed); and leave the engine either working (after an
 * out-of-memory, the same call then gives the fault-free result bit for bit) or refusing every call
 * with a {@link DeviceLostException} (after a lost device), and closing cleanly.
 */
class FaultInjectionTest extends OpenClDeviceTest {
    /** Small enough to force dozens of chunks (and multi-pass softmax rows) on the tensors below. */
    static final long BUDGET = 64 << 10;
    /** Where in the sequence of calls of one kind a fault goes, at most this many places per kind. */
    static final int PLACES = 6;

    record Workload(String name, long budget, Function<Engine, List<Tensor>> run) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Tensor input(OpArgs args, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return Tensor.wrap(Samples.input(args, DType.F32, n, seed), DType.F32, shape);
    }

    static Tensor gradient(Tensor like, long seed) {
        return Tensor.wrap(Samples.gradient(DType.F32, like.elementCount(), seed), DType.F32, like.shape());
    }

    static Stream<Workload> workloads() {
        OpArgs gelu = OpArgs.of(Op.GELU);
        OpArgs softmax = OpArgs.of(Op.SOFTMAX);
        OpArgs tanh = OpArgs.of(Op.TANH);
        OpArgs silu = OpArgs.of(Op.SILU);
        Tensor x1 = input(gelu, 1, 1000, 37);
        Tensor x2 = input(softmax, 2, 100, 257);
        Tensor dy2 = gradient(x2, 3);
        Tensor x3 = input(OpArgs.of(Op.PRELU), 4, 8, 16, 33);
        Tensor w3 = Tensor.wrap(Samples.preluWeights(DType.F32, 16, 5), DType.F32, 16);
        Tensor dy3 = gradient(x3, 6);
        Tensor x4 = input(softmax, 7, 400, 300);
        Tensor x5 = input(tanh, 8, 100_003);
        Tensor dy5 = gradient(x5, 9);
        Tensor x6 = input(OpArgs.of(Op.PRELU), 10, 40, 8, 300);
        Tensor w6 = Tensor.wrap(Samples.preluWeights(DType.F32, 8, 11), DType.F32, 8);
        Tensor dy6 = gradient(x6, 12);
        Tensor x7 = input(softmax, 13, 3, 40_000);
        Tensor dy7 = gradient(x7, 14);
        List<Tensor> xs8 = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            xs8.add(input(silu, 20 + i, 1 + 97L * i));
        }
        Tensor x9 = input(gelu, 15, 64, 300);
        Tensor dy9 = gradient(x9, 16);
        return Stream.of(
                new Workload("forward in memory", 0, e -> List.of(e.forward(gelu, x1))),
                new Workload("softmax backward in memory", 0, e -> List.of(e.backward(softmax, x2, dy2))),
                new Workload("prelu backward in memory", 0, e -> both(e.preluBackward(x3, w3, dy3))),
                new Workload("streamed chain", BUDGET, e -> List.of(e.forwardChain(
                        List.of(ChainStep.of(gelu), ChainStep.of(softmax)), x4))),
                new Workload("streamed backward", BUDGET, e -> List.of(e.backward(tanh, x5, dy5))),
                new Workload("streamed prelu backward", BUDGET, e -> both(e.preluBackward(x6, w6, dy6))),
                new Workload("softmax rows longer than the budget", BUDGET, e -> List.of(
                        e.forward(softmax, x7), e.backward(softmax, x7, dy7))),
                new Workload("many tensors in one launch", 0, e -> e.forwardMany(silu, xs8)),
                new Workload("device-resident tensors", 0, e -> {
                    try (DeviceTensor dx = e.upload(x9); DeviceTensor ddy = e.upload(dy9);
                         DeviceTensor h = e.forward(gelu, dx); DeviceTensor g = e.backward(gelu, dx, ddy)) {
                        return List.of(e.download(h), e.download(g));
                    }
                }));
    }

    static List<Tensor> both(PreluGradients g) {
        return List.of(g.dx(), g.dw());
    }

    /**
     * The results' bits, every NaN made the canonical NaN: the sign of a NaN in PReLU's streamed dw
     * varies between fault-free runs on PoCL (a determinism question, not a fault's doing).
     */
    static int[] bits(List<Tensor> ts) {
        int n = 0;
        for (Tensor t : ts) {
            n += Math.toIntExact(t.elementCount());
        }
        int[] out = new int[n];
        int i = 0;
        for (Tensor t : ts) {
            for (long k = 0; k < t.elementCount(); k++) {
                out[i++] = Float.floatToIntBits(t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, k));
            }
        }
        return out;
    }

    Engine engine(FaultyRuntime f, Workload w) {
        Engine e = Engine.over(new DeviceBackend(f));
        if (w.budget() > 0) {
            e.setDeviceMemory(w.budget());
        }
        return e;
    }

    /** The fault places for {@code calls} calls: the first three, the last two, and some between. */
    static TreeSet<Integer> places(int calls) {
        TreeSet<Integer> at = new TreeSet<>();
        for (int n : new int[] {1, 2, 3, calls / 3, calls / 2, calls - 1, calls}) {
            if (n >= 1 && n <= calls && at.size() < PLACES) {
                at.add(n);
            }
        }
        at.add(calls);
        return at;
    }

    static int injected;
    static int survived;

    @ParameterizedTest
    @MethodSource("workloads")
    void everyFaultIsReportedFreedAndSurvived(Workload w) {
        FaultyRuntime clean = new FaultyRuntime(rt);
        int[] expected;
        // Calls counted before close: the engine's close drains the queue (a WAIT of its own), and a
        // fault there is logged, not thrown, since close must free everything whatever happened.
        java.util.Map<Site, Integer> calls = new java.util.EnumMap<>(Site.class);
        try (Engine e = engine(clean, w)) {
            expected = bits(w.run().apply(e));
            for (Site site : Site.values()) {
                calls.put(site, clean.calls(site));
            }
        }
        assertNothingLive(clean, "fault-free run");
        List<String> problems = new ArrayList<>();
        int here = 0;
        for (Site site : Site.values()) {
            int count = calls.get(site);
            for (int code : new int[] {CL.CL_MEM_OBJECT_ALLOCATION_FAILURE, CL.CL_OUT_OF_RESOURCES}) {
                for (int n : count == 0 ? new TreeSet<Integer>() : places(count)) {
                    here++;
                    String c = w + ": " + CL.stringFor_errorCode(code) + " at " + site + " call " + n + " of " + count;
                    String p = inject(w, site, n, code, expected);
                    if (p != null) {
                        problems.add(c + ": " + p);
                    }
                }
            }
        }
        synchronized (FaultInjectionTest.class) {
            injected += here;
            survived += here - problems.size();
            System.out.println("fault injection: " + w + ": " + (here - problems.size()) + " of " + here
                    + " faults survived (running total " + survived + " of " + injected + ")");
        }
        assertTrue(here >= 8, w + ": too few faults injected (" + here + ")");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** One fault; returns what went wrong, or null when it was survived with nothing lost. */
    private String inject(Workload w, Site site, int n, int code, int[] expected) {
        FaultyRuntime f = new FaultyRuntime(rt).failing(site, n, code);
        try (Engine e = engine(f, w)) {
            RuntimeException thrown = null;
            try {
                w.run().apply(e);
            } catch (RuntimeException ex) {
                thrown = ex;
            }
            if (f.injected() == null) {
                return "the fault was never reached";
            }
            if (thrown != f.injected()) {
                return "the caller got " + thrown + " instead of the fault " + f.injected();
            }
            Class<?> want = code == CL.CL_OUT_OF_RESOURCES ? DeviceLostException.class : DeviceOutOfMemoryException.class;
            if (!want.isInstance(thrown)) {
                return "wrong exception type " + thrown;
            }
            if (thrown.getMessage().contains("\n") || !thrown.getMessage().contains(CL.stringFor_errorCode(code))) {
                return "message is not one line naming the code: " + thrown.getMessage();
            }
            String leak = live(f);
            if (leak != null) {
                return "after the fault, before close: " + leak;
            }
            if (thrown instanceof DeviceOutOfMemoryException) {
                int[] again = bits(w.run().apply(e));
                if (!java.util.Arrays.equals(expected, again)) {
                    return "the next call after an out-of-memory gave a different result";
                }
            } else {
                try {
                    w.run().apply(e);
                    return "the next call on a lost device succeeded";
                } catch (DeviceLostException again) {
                    if (!again.getMessage().startsWith("the device failed earlier")) {
                        return "the next call's message does not say the device failed earlier: " + again.getMessage();
                    }
                }
            }
        } catch (RuntimeException unexpected) {
            return "unexpected " + unexpected;
        }
        String leak = live(f);
        return leak == null ? null : "after close: " + leak;
    }

    private static String live(FaultyRuntime f) {
        DeviceAllocator a = f.allocator();
        if (a.liveBuffers() != 0 || a.liveBytes() != 0) {
            return a.liveBuffers() + " device buffers live: " + a.describeLive();
        }
        if (a.livePinned() != 0) {
            return a.livePinned() + " pinned blocks live";
        }
        if (f.openQueues() != 0) {
            return f.openQueues() + " queues open";
        }
        return null;
    }

    private static void assertNothingLive(FaultyRuntime f, String when) {
        String leak = live(f);
        assertEquals(null, leak, when);
    }
}
