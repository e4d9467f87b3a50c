package dev.soma.benchmark;

/**
 * Something to time, prepared with its data in place: {@code run(calls)} performs the operation
 * {@code calls} times back to back and returns only when all of them have finished (GPU backends
 * synchronise once at the end, so launches queue up as they do in real use).
 */
@FunctionalInterface
public interface Workload {
    void run(int calls);
}
