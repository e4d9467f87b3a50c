package dev.soma.benchmark;

/**
 * One validated, timed case on one backend: the CSV row, plus how it was validated and timed.
 *
 * @param backend        "cpu", "opencl", "cuda" (or "pytorch-cpu" for peer rows)
 * @param benchCase      what ran
 * @param medianSeconds  median time of one call over the timed repeats
 * @param copyGbPerSecond the backend's copy bandwidth for the same traffic, measured in the same run
 * @param maxError       the largest error against the float64 reference (Soma's accuracy metric)
 * @param tolerance      the largest error allowed for this dtype
 * @param kernelOnly     true when data stayed on the device (GPU backends): no host transfers timed
 * @param callsPerSample calls timed together in one sample (many for small sizes, to beat timer noise)
 */
public record BenchResult(String backend, BenchCase benchCase, double medianSeconds, double copyGbPerSecond,
                          double maxError, double tolerance, boolean kernelOnly, int callsPerSample) {

    public long elements() {
        return benchCase.elements();
    }

    /** Billions of elements per second. */
    public double gelemPerSecond() {
        return benchCase.elements() / medianSeconds / 1e9;
    }

    /** Achieved bandwidth, counting each input read once and the output written once. */
    public double gbPerSecond() {
        return benchCase.trafficBytes() / medianSeconds / 1e9;
    }

    /** The op's bandwidth as a fraction of a plain copy moving the same bytes (1.0: at the roofline). */
    public double fractionOfCopy() {
        return gbPerSecond() / copyGbPerSecond;
    }
}
