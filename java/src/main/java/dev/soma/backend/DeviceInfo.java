package dev.soma.backend;

/**
 * One device a backend can run on, as listed by {@code soma devices}.
 *
 * @param index        the device's index within its backend (what {@code --device} selects)
 * @param name         the driver's name for it
 * @param gpu          true for a GPU or other accelerator; {@code auto} only picks these
 * @param memoryBytes  global memory, or -1 when unknown
 * @param computeUnits cores, SMs or compute units
 * @param vectorWidth  preferred float32 vector width in elements (SIMD lanes on a CPU)
 * @param notes        anything a user must know ("no fp64: float64 runs on the CPU"), or ""
 */
public record DeviceInfo(int index, String name, boolean gpu, long memoryBytes, int computeUnits,
                         int vectorWidth, String notes) {
}
