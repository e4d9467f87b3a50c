package dev.soma.backend.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * Loads JCuda's driver binding and initialises the CUDA driver, once per JVM. Loading fails with a
 * {@link LinkageError} when libcuda.so.1 (the NVIDIA driver) is absent, and a JVM never retries a
 * failed class initialisation, so the outcome is remembered and every later caller gets the same
 * reason instead of an Error.
 */
final class CudaDriver {
    /** Outcome of loading: {@code reason} is empty when the driver is usable. */
    record State(boolean loaded, String reason, int driverVersion, int deviceCount) {
    }

    private CudaDriver() {
    }

    private static final class Holder {
        static final State STATE = load();
    }

    /** Loads and initialises the driver the first time; never throws. */
    static State state() {
        return Holder.STATE;
    }

    private static State load() {
        try {
            JCudaDriver.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            return new State(false, linkFailureReason(e), 0, 0);
        } catch (RuntimeException e) {
            return new State(false, "JCuda's driver binding failed to load (" + e.getMessage() + ")", 0, 0);
        }
        try {
            CudaCalls.check("cuInit", () -> JCudaDriver.cuInit(0));
            int[] version = new int[1];
            CudaCalls.check("cuDriverGetVersion", () -> JCudaDriver.cuDriverGetVersion(version));
            int[] count = new int[1];
            CudaCalls.check("cuDeviceGetCount", () -> JCudaDriver.cuDeviceGetCount(count));
            if (count[0] == 0) {
                return new State(true, "no CUDA device (the NVIDIA driver reports none)", version[0], 0);
            }
            return new State(true, "", version[0], count[0]);
        } catch (CudaCallException e) {
            String why = switch (e.errorName()) {
                case "CUDA_ERROR_NO_DEVICE" -> "no CUDA device (the NVIDIA driver reports none)";
                case "CUDA_ERROR_INSUFFICIENT_DRIVER" -> "the NVIDIA driver is too old for CUDA 12 (update it)";
                case "CUDA_ERROR_STUB_LIBRARY" -> "libcuda.so.1 is the CUDA toolkit's stub, not a driver (install the NVIDIA driver)";
                default -> "the CUDA driver failed to initialise (" + e.getMessage() + ")";
            };
            return new State(false, why, 0, 0);
        } catch (LinkageError e) {
            return new State(false, linkFailureReason(e), 0, 0);
        }
    }

    /** Turns JCuda's long native-loading report into one line a user can act on. */
    static String linkFailureReason(Throwable e) {
        String all = describeChain(e);
        if (all.contains("libcuda.so")) {
            return "no NVIDIA driver (libcuda.so.1 not found)";
        }
        if (all.contains("nvcuda.dll")) {
            return "no NVIDIA driver (nvcuda.dll not found)";
        }
        String first = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        return "JCuda's native library did not load (" + first.trim() + ")";
    }

    private static String describeChain(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t).append('\n');
            for (Throwable s : t.getSuppressed()) {
                b.append(s).append('\n');
            }
        }
        return b.toString();
    }

    static int attribute(CUdevice device, int attribute, String what) {
        int[] v = new int[1];
        CudaCalls.check("cuDeviceGetAttribute(" + what + ")", () -> JCudaDriver.cuDeviceGetAttribute(v, attribute, device));
        return v[0];
    }

    static CUdevice device(int index) {
        CUdevice d = new CUdevice();
        CudaCalls.check("cuDeviceGet(" + index + ")", () -> JCudaDriver.cuDeviceGet(d, index));
        return d;
    }

    static String name(CUdevice d) {
        byte[] buf = new byte[256];
        CudaCalls.check("cuDeviceGetName", () -> JCudaDriver.cuDeviceGetName(buf, buf.length, d));
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8).trim();
    }

    static long totalMemory(CUdevice d) {
        long[] v = new long[1];
        CudaCalls.check("cuDeviceTotalMem", () -> JCudaDriver.cuDeviceTotalMem(v, d));
        return v[0];
    }

    static CudaDeviceLimits limits(CUdevice d) {
        return new CudaDeviceLimits(
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count"),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, "threads per SM"),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, "threads per block"),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "shared memory per block"));
    }

    static String computeCapability(CUdevice d) {
        return attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "cc major") + "."
                + attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "cc minor");
    }

    /** "12.6" from the driver's 12060. */
    static String versionString(int v) {
        return (v / 1000) + "." + ((v % 1000) / 10);
    }
}
