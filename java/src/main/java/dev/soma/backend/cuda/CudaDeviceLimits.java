package dev.soma.backend.cuda;

/**
 * The device attributes launch configurations are sized from (read once with cuDeviceGetAttribute).
 *
 * @param multiprocessors             SM count
 * @param maxThreadsPerMultiprocessor resident threads per SM
 * @param maxThreadsPerBlock          the block size limit
 * @param sharedMemoryPerBlock        bytes of shared memory a block gets without opting in
 */
public record CudaDeviceLimits(int multiprocessors, int maxThreadsPerMultiprocessor, int maxThreadsPerBlock,
                               long sharedMemoryPerBlock) {

    public CudaDeviceLimits {
        if (multiprocessors < 1 || maxThreadsPerMultiprocessor < 32 || maxThreadsPerBlock < 32
                || sharedMemoryPerBlock < 1024) {
            throw new IllegalArgumentException("implausible device limits: " + multiprocessors + " SMs, "
                    + maxThreadsPerMultiprocessor + " threads/SM, " + maxThreadsPerBlock + " threads/block, "
                    + sharedMemoryPerBlock + " bytes shared/block");
        }
    }
}
