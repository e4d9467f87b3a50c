package dev.soma.benchmark;

import dev.soma.Tensor;
import dev.soma.op.DType;

/**
 * One backend as the benchmark sees it: it can load a case's data where its kernels read it, run the
 * op for validation and for timing, and copy the same number of bytes for the roofline.
 */
public interface BenchTarget extends AutoCloseable {

    /** "cpu", "opencl", "cuda": the CSV's backend column. */
    String id();

    /** The backend and device in words. */
    String description();

    /** True when timed calls find their data already in device memory (no host transfers timed). */
    boolean kernelOnly();

    /** Whether this device computes the dtype (float64 needs cl_khr_fp64 on OpenCL). */
    boolean supports(DType t);

    /** Loads the case's inputs and allocates its output; the caller closes the result. */
    Prepared prepare(CaseData data);

    /**
     * A copy of {@code bytes} bytes between two buffers of this backend (device to device on a GPU,
     * a parallel memory copy on the CPU): the bandwidth ceiling of an elementwise op moving
     * {@code 2 * bytes}.
     *
     * @throws UnsupportedOperationException when the backend cannot copy on the device
     */
    Loaded copy(long bytes);

    @Override
    void close();

    /** Data in place and ready to time; {@link #run(int)} is the timed workload. */
    interface Loaded extends Workload, AutoCloseable {
        @Override
        void close();
    }

    /** A case ready to run: a timed workload that can also be validated. */
    interface Prepared extends Loaded {

        /**
         * Fills the output with NaN (a poison every unwritten element keeps), runs once and returns
         * the output in host memory, for {@link Validation}. The tensor is owned by this object.
         */
        Tensor runForValidation();
    }
}
