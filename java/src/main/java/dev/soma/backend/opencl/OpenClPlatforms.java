package dev.soma.backend.opencl;

import dev.soma.backend.DeviceInfo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Finds the OpenCL platforms and devices on this machine, once. Loading JOCL's native library and
 * the system's libOpenCL happens here; when either is missing the failure (a {@link LinkageError}
 * such as {@link UnsatisfiedLinkError}) is caught and turned into a reason a user can act on,
 * never thrown at the caller.
 */
final class OpenClPlatforms {
    /** What a user must install when there is no OpenCL library or driver. */
    static final String INSTALL_HINT = "install ocl-icd-libopencl1 (and a driver such as pocl-opencl-icd)";

    /** One device with the handles needed to open it. */
    record Found(DeviceInfo info, cl_platform_id platform, cl_device_id device, String platformName,
                 boolean fp64, long maxAllocBytes) {
    }

    /** The devices, or why there are none. */
    record Discovery(List<Found> devices, String reason) {
    }

    private static volatile Discovery cached;

    private OpenClPlatforms() {
    }

    /** The devices here (cached after the first call); never throws. */
    static Discovery discover() {
        Discovery d = cached;
        if (d == null) {
            synchronized (OpenClPlatforms.class) {
                d = cached;
                if (d == null) {
                    d = probe();
                    cached = d;
                }
            }
        }
        return d;
    }

    private static Discovery probe() {
        try {
            CL.setExceptionsEnabled(true);
        } catch (LinkageError e) {
            return new Discovery(List.of(), "the OpenCL library could not be loaded (" + e.getMessage() + "); "
                    + INSTALL_HINT);
        }
        try {
            int[] count = new int[1];
            try {
                CL.clGetPlatformIDs(0, null, count);
            } catch (CLException e) {
                return new Discovery(List.of(), "no OpenCL platform found (" + CL.stringFor_errorCode(e.getStatus())
                        + "); " + INSTALL_HINT);
            }
            if (count[0] == 0) {
                return new Discovery(List.of(), "no OpenCL platform found; " + INSTALL_HINT);
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            CL.clGetPlatformIDs(platforms.length, platforms, null);
            List<Found> found = new ArrayList<>();
            for (cl_platform_id p : platforms) {
                String platformName = platformString(p, CL.CL_PLATFORM_NAME);
                for (cl_device_id d : devicesOf(p)) {
                    found.add(describe(found.size(), p, platformName, d));
                }
            }
            if (found.isEmpty()) {
                return new Discovery(List.of(), "OpenCL platforms exist but have no devices; " + INSTALL_HINT);
            }
            return new Discovery(List.copyOf(found), "");
        } catch (LinkageError | RuntimeException e) {
            return new Discovery(List.of(), "OpenCL could not be queried (" + e + "); " + INSTALL_HINT);
        }
    }

    private static List<cl_device_id> devicesOf(cl_platform_id p) {
        int[] n = new int[1];
        try {
            CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, 0, null, n);
        } catch (CLException e) {
            if (e.getStatus() == CL.CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            throw e;
        }
        cl_device_id[] ds = new cl_device_id[n[0]];
        CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, ds.length, ds, null);
        return List.of(ds);
    }

    private static Found describe(int index, cl_platform_id p, String platformName, cl_device_id d) {
        String name = deviceString(d, CL.CL_DEVICE_NAME);
        long type = deviceLong(d, CL.CL_DEVICE_TYPE);
        boolean gpu = (type & (CL.CL_DEVICE_TYPE_GPU | CL.CL_DEVICE_TYPE_ACCELERATOR)) != 0;
        long mem = deviceLong(d, CL.CL_DEVICE_GLOBAL_MEM_SIZE);
        int cus = deviceInt(d, CL.CL_DEVICE_MAX_COMPUTE_UNITS);
        int vec = deviceInt(d, CL.CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT);
        long maxAlloc = deviceLong(d, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE);
        boolean fp64 = (" " + deviceString(d, CL.CL_DEVICE_EXTENSIONS) + " ").contains(" cl_khr_fp64 ");
        StringBuilder notes = new StringBuilder(platformName).append(gpu ? ", OpenCL GPU" : ", OpenCL CPU device");
        if (!fp64) {
            notes.append("; no cl_khr_fp64: float64 is not supported here (use --backend cpu for float64)");
        }
        DeviceInfo info = new DeviceInfo(index, name, gpu, mem, cus, vec, notes.toString());
        return new Found(info, p, d, platformName, fp64, maxAlloc);
    }

    /**
     * The device a {@code --device} value names: null or blank for the first GPU (the first device when
     * there is no GPU), an index, or a case-insensitive substring of the device or platform name.
     *
     * @throws IllegalArgumentException naming the devices when nothing matches
     */
    static Found select(List<Found> devices, String device) {
        if (device == null || device.isBlank()) {
            return devices.stream().filter(f -> f.info().gpu()).findFirst().orElse(devices.get(0));
        }
        String key = device.trim();
        if (key.chars().allMatch(Character::isDigit)) {
            int i;
            try {
                i = Integer.parseInt(key);
            } catch (NumberFormatException e) {
                i = -1;
            }
            if (i >= 0 && i < devices.size()) {
                return devices.get(i);
            }
            throw new IllegalArgumentException("OpenCL device index " + key + " does not exist; devices: " + list(devices));
        }
        String k = key.toLowerCase(Locale.ROOT);
        for (Found f : devices) {
            if (f.info().name().toLowerCase(Locale.ROOT).contains(k) || f.platformName().toLowerCase(Locale.ROOT).contains(k)) {
                return f;
            }
        }
        throw new IllegalArgumentException("no OpenCL device matches '" + key + "'; devices: " + list(devices));
    }

    static String list(List<Found> devices) {
        StringBuilder b = new StringBuilder();
        for (Found f : devices) {
            b.append(b.isEmpty() ? "" : ", ").append(f.info().index()).append(": ").append(f.info().name());
        }
        return b.toString();
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        CL.clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        CL.clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    /** A size_t query (work-group sizes): 8 bytes on every 64-bit host. */
    static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        CL.clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        CL.clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }
}
