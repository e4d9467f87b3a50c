package dev.soma.benchmark;

import dev.soma.Engine;
import dev.soma.Tensor;
import dev.soma.op.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Benchmarks a backend through the public {@link Engine} API on host tensors: what a user's call
 * costs, validation included. Used for the CPU, where this is also the kernel's own cost.
 */
final class EngineTarget implements BenchTarget {
    private final Engine engine;

    EngineTarget(Engine engine) {
        this.engine = engine;
    }

    @Override
    public String id() {
        return engine.backendKind().id();
    }

    @Override
    public String description() {
        return engine.description();
    }

    @Override
    public boolean kernelOnly() {
        return false;
    }

    @Override
    public boolean supports(DType t) {
        return true;
    }

    @Override
    public Prepared prepare(CaseData data) {
        BenchCase c = data.benchCase();
        Tensor out = Tensor.allocateNative(c.dtype(), c.shape());
        Tensor x = data.x();
        Tensor dy = data.dy();
        return new Prepared() {
            @Override
            public void run(int calls) {
                if (c.direction() == Direction.FORWARD) {
                    for (int i = 0; i < calls; i++) {
                        engine.forward(c.args(), x, out);
                    }
                } else {
                    for (int i = 0; i < calls; i++) {
                        engine.backward(c.args(), x, dy, out);
                    }
                }
            }

            @Override
            public Tensor runForValidation() {
                out.fill(Double.NaN);
                run(1);
                return out;
            }

            @Override
            public void close() {
                out.close();
            }
        };
    }

    @Override
    public Loaded copy(long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment src;
        MemorySegment dst;
        try {
            src = arena.allocate(Math.max(1, bytes), 64);
            dst = arena.allocate(Math.max(1, bytes), 64);
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close(); // the first buffer must not outlive a failure to get the second
            throw e;
        }
        src.fill((byte) 1);   // touch every page before timing
        dst.fill((byte) 0);
        return new Loaded() {
            @Override
            public void run(int calls) {
                for (int i = 0; i < calls; i++) {
                    ParallelCopy.copy(src, dst, bytes);
                }
            }

            @Override
            public void close() {
                arena.close();
            }
        };
    }

    @Override
    public void close() {
        engine.close();
    }
}
