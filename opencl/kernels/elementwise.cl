/*
 * Elementwise forward and backward of every op in soma_math.h, float32 and float64.
 * One element per work-item, 64-bit indices: work-item g handles element base + g, so the host
 * covers any count in launches of at most 2^30 work-items. (A grid-stride loop ran 35x slower on
 * PoCL, whose work-group vectoriser cannot vectorise a loop inside the work-item.)
 * The op code is a kernel argument (uniform across the launch, so no divergence); building with
 * -DSOMA_FIXED_OP=<code> makes it a compile-time constant instead (one program per op).
 */
#include "soma_kernel_common.h"

#ifdef SOMA_FIXED_OP
#define SOMA_KOP SOMA_FIXED_OP
#else
#define SOMA_KOP op
#endif

__kernel void soma_fwd_f32(__global const float* x, __global float* y, ulong base, ulong n, int op,
                           float alpha, float beta, float threshold) {
    ulong i = base + get_global_id(0);
    if (i < n) {
        y[i] = soma_fwd_f(SOMA_KOP, x[i], alpha, beta, threshold);
    }
}

__kernel void soma_bwd_f32(__global const float* x, __global const float* dy, __global float* dx, ulong base, ulong n,
                           int op, float alpha, float beta, float threshold) {
    ulong i = base + get_global_id(0);
    if (i < n) {
        dx[i] = soma_bwd_f(SOMA_KOP, x[i], dy[i], alpha, beta, threshold);
    }
}

/* A plain copy through the same launch shape: the bandwidth ceiling the benchmarks compare to. */
__kernel void soma_copy_f32(__global const float* x, __global float* y, ulong base, ulong n) {
    ulong i = base + get_global_id(0);
    if (i < n) {
        y[i] = x[i];
    }
}

#ifdef SOMA_FP64
__kernel void soma_fwd_f64(__global const double* x, __global double* y, ulong base, ulong n, int op,
                           double alpha, double beta, double threshold) {
    ulong i = base + get_global_id(0);
    if (i < n) {
        y[i] = soma_fwd_d(SOMA_KOP, x[i], alpha, beta, threshold);
    }
}

__kernel void soma_bwd_f64(__global const double* x, __global const double* dy, __global double* dx, ulong base, ulong n,
                           int op, double alpha, double beta, double threshold) {
    ulong i = base + get_global_id(0);
    if (i < n) {
        dx[i] = soma_bwd_d(SOMA_KOP, x[i], dy[i], alpha, beta, threshold);
    }
}
#endif
