package dev.soma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.soma.backend.Availability;
import dev.soma.backend.BackendKind;
import dev.soma.backend.Backends;
import dev.soma.backend.device.DeviceAllocator;
import dev.soma.backend.device.DeviceBackend;
import dev.soma.op.DType;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Many threads share one engine per backend (CPU and OpenCL) for a fixed time, each making random
 * calls (every op, forward and backward, every entry point: host tensors into new, given and
 * aliased outputs, device tensors synchronous and asynchronous, many tensors at once; float32 and
 * float64; ranks 1 to 4 with vector tails; small tensors and about a million elements) and
 * comparing every result bit for bit with a serial run of the same call on the same engine, made
 * before the threads start. At the end no device buffer, pinned block or device tensor is left.
 *
 * <p>A surefire test rather than a failsafe IT: it needs the engine in-process with OpenCL, and
 * the surefire fork is the JVM that preloads libjsig (PoCL replaces the JVM's signal handlers);
 * the failsafe JVM does not. {@code -Dsoma.concurrency.seconds} sets the threads' run (default 60 s:
 * with the serial runs about a minute in all, which CI can afford), {@code -Dsoma.concurrency.threads} the threads (16).
 */
class EngineConcurrencyTest {
    /** The threads' run; with the serial runs before it the test takes about a minute. */
    private static final long SECONDS = Long.getLong("soma.concurrency.seconds", 60);
    private static final int THREADS = Integer.getInteger("soma.concurrency.threads", 16);
    /** Distinct calls per backend: enough variety, few enough that their serial runs stay cheap. */
    private static final int CALLS_PER_BACKEND = Integer.getInteger("soma.concurrency.calls", 120);
    private static final double BIG_SHARE = 0.06;

    /** A call with its serial results on one engine. */
    private record Case(Engine engine, EngineCall call, List<Tensor> expected) {
    }

    @Test
    void sixteenThreadsMatchSerialRunsBitForBit() throws Exception {
        List<Engine> engines = new ArrayList<>();
        engines.add(Engine.create(BackendKind.CPU));
        Engine opencl = openClOrNull();
        if (opencl != null) {
            engines.add(opencl);
        }
        try {
            List<Case> cases = serialRuns(engines);
            Map<BackendKind, LongAdder> calls = new EnumMap<>(BackendKind.class);
            Map<EngineCall.Entry, LongAdder> byEntry = new EnumMap<>(EngineCall.Entry.class);
            for (Engine e : engines) {
                calls.put(e.backendKind(), new LongAdder());
            }
            for (EngineCall.Entry en : EngineCall.Entry.values()) {
                byEntry.put(en, new LongAdder());
            }
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            AtomicLong elements = new AtomicLong();
            long deadline = System.nanoTime() + SECONDS * 1_000_000_000L;
            List<Thread> threads = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < THREADS; i++) {
                long seed = 1000 + i;
                Thread th = new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    while (System.nanoTime() < deadline && failures.size() < 20) {
                        Case c = cases.get(r.nextInt(cases.size()));
                        try {
                            String diff = compare(c.expected(), c.call().run(c.engine()));
                            if (diff != null) {
                                failures.add(c.engine().backendKind() + " " + c.call() + ": " + diff);
                            }
                        } catch (RuntimeException | Error e) {
                            failures.add(c.engine().backendKind() + " " + c.call() + ": threw " + e);
                        }
                        calls.get(c.engine().backendKind()).increment();
                        byEntry.get(c.call().entry()).increment();
                        elements.addAndGet(c.call().x().elementCount());
                    }
                }, "concurrency-" + i);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long total = calls.values().stream().mapToLong(LongAdder::sum).sum();
            StringBuilder by = new StringBuilder();
            calls.forEach((k, v) -> by.append(String.format(Locale.ROOT, " %s %d,", k.name().toLowerCase(Locale.ROOT), v.sum())));
            System.out.printf(Locale.ROOT, "concurrency: %d calls (%s %d elements) by %d threads in %.1f s over %d distinct"
                            + " calls; by entry point %s%n", total, by.toString().trim(), elements.get(), THREADS, seconds,
                    cases.size(), byEntry);
            if (!failures.isEmpty()) {
                fail(failures.size() + " calls differed from their serial runs or threw, e.g.:\n"
                        + String.join("\n", failures.stream().limit(20).toList()));
            }
            for (Engine e : engines) {
                assertTrue(calls.get(e.backendKind()).sum() > 0, e.backendKind() + " made no calls");
                assertNothingLeft(e);
            }
        } finally {
            engines.forEach(Engine::close);
        }
    }

    /** The serial results of every call, computed one at a time before any thread starts. */
    private static List<Case> serialRuns(List<Engine> engines) {
        List<Case> cases = new ArrayList<>();
        for (Engine e : engines) {
            boolean f64 = supportsF64(e);
            SplittableRandom r = new SplittableRandom(42 + e.backendKind().ordinal());
            for (int i = 0; i < CALLS_PER_BACKEND; i++) {
                EngineCall call = EngineCall.random(r, f64, BIG_SHARE);
                cases.add(new Case(e, call, call.run(e)));
            }
        }
        return cases;
    }

    private static String compare(List<Tensor> expected, List<Tensor> actual) {
        if (expected.size() != actual.size()) {
            return "expected " + expected.size() + " outputs, got " + actual.size();
        }
        for (int i = 0; i < expected.size(); i++) {
            String d = Bits.firstDifference(expected.get(i), actual.get(i));
            if (d != null) {
                return "output " + i + ": " + d;
            }
        }
        return null;
    }

    static boolean supportsF64(Engine e) {
        return !(e.backend() instanceof DeviceBackend d) || d.runtime().supports(DType.F64);
    }

    static void assertNothingLeft(Engine e) {
        assertEquals(0, e.liveDeviceTensors(), e.backendKind() + ": device tensors left open");
        if (e.backend() instanceof DeviceBackend d) {
            DeviceAllocator a = d.runtime().allocator();
            assertEquals(0, a.liveBuffers(), () -> e.backendKind() + " leaked " + a.describeLive());
            assertEquals(0, a.liveBytes(), e.backendKind() + ": device bytes still counted");
            assertEquals(0, a.livePinned(), e.backendKind() + ": pinned memory leaked");
        }
    }

    /**
     * The OpenCL engine, or null (with the reason printed) when this machine has no OpenCL device;
     * fails instead when OpenCL is required (CI sets SOMA_REQUIRE_OPENCL=1).
     */
    static Engine openClOrNull() {
        Availability a = Backends.provider(BackendKind.OPENCL).probe();
        if (a.isAvailable()) {
            return Engine.create(BackendKind.OPENCL);
        }
        if (openClRequired()) {
            fail("OpenCL is required here (soma.requireOpenCL / SOMA_REQUIRE_OPENCL) but unavailable: " + a.reason());
        }
        System.out.println("no OpenCL device, running the CPU engine only: " + a.reason());
        return null;
    }

    static boolean openClRequired() {
        String env = System.getenv("SOMA_REQUIRE_OPENCL");
        return Boolean.getBoolean("soma.requireOpenCL")
                || (env != null && !env.isBlank() && !env.trim().toLowerCase(Locale.ROOT).matches("0|false|no"));
    }
}
