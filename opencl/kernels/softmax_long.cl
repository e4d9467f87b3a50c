/*
 * Softmax rows longer than a device chunk (the offload pipeline's multi-pass path): the host
 * streams a row through the device twice. Pass 1: softmax_piece_stats reduces each piece to its
 * (max, sum of exp(x - max)) in double; the host combines the pieces' pairs into the row's max M
 * and sum S. Pass 2: softmax_piece_apply writes exp(x - M) / S (log: x - M - log S) per piece.
 * Special rows are decided on the host from M (mode 1: the row is NaN; mode 2: a fully masked
 * row in safe mode: zeros, log-softmax -inf). Backward adds a pass between them: softmax_piece_dot
 * sums dy * p (log-softmax: dy) per piece, and softmax_piece_bwd writes p (dy - dot) (log-softmax:
 * dy - p dot; masked safe rows: zeros). Needs cl_khr_fp64 (the statistics are doubles).
 */
#include "soma_kernel_common.h"

#ifdef SOMA_FP64

inline double soma_long_max(__local double* red, double v) {
    uint lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = get_local_size(0) >> 1; h > 0; h >>= 1) {
        if (lid < h) {
            red[lid] = SOMA_MAXNAN(red[lid], red[lid + h]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    double out = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return out;
}

inline double soma_long_sum(__local double* red, double v) {
    uint lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = get_local_size(0) >> 1; h > 0; h >>= 1) {
        if (lid < h) {
            red[lid] += red[lid + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    double out = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return out;
}

#define SOMA_LONG_KERNELS(T, SFX)                                                                         \
__kernel void softmax_piece_stats_##SFX(__global const T* x, ulong n, __global double* stats, ulong slot,  \
                                        __local double* red) {                                             \
    uint lid = get_local_id(0);                                                                           \
    uint ls = get_local_size(0);                                                                          \
    double m = -INFINITY;                                                                                 \
    for (ulong i = lid; i < n; i += ls) {                                                                 \
        m = SOMA_MAXNAN(m, (double)x[i]);                                                                 \
    }                                                                                                     \
    m = soma_long_max(red, m);                                                                            \
    double s = 0.0;                                                                                       \
    if (isfinite(m)) {                                                                                    \
        for (ulong i = lid; i < n; i += ls) {                                                             \
            s += exp((double)x[i] - m);                                                                   \
        }                                                                                                 \
    }                                                                                                     \
    s = soma_long_sum(red, s);                                                                            \
    if (lid == 0) {                                                                                       \
        stats[2 * slot] = m;                                                                              \
        stats[2 * slot + 1] = s;                                                                          \
    }                                                                                                     \
}                                                                                                         \
__kernel void softmax_piece_apply_##SFX(__global const T* x, __global T* y, ulong base, ulong n, double m, \
                                        double s, double log_s, int log_mode, int mode) {                  \
    ulong i = base + get_global_id(0);                                                                    \
    if (i >= n) {                                                                                         \
        return;                                                                                           \
    }                                                                                                     \
    if (mode == 1) {                                                                                      \
        y[i] = (T)NAN;                                                                                    \
    } else if (mode == 2) {                                                                               \
        y[i] = log_mode ? (T)(-INFINITY) : (T)0;                                                          \
    } else {                                                                                              \
        double d = (double)x[i] - m;                                                                      \
        y[i] = log_mode ? (T)(d - log_s) : (T)(exp(d) / s);                                               \
    }                                                                                                     \
}

/* Backward, pass 2: per piece, the sum of dy * p (softmax) or of dy (log-softmax), p = exp(x - m) / s. */
#define SOMA_LONG_BWD_KERNELS(T, SFX)                                                                     \
__kernel void softmax_piece_dot_##SFX(__global const T* x, __global const T* dy, ulong n, double m,        \
                                      double s, int log_mode, __global double* dots, ulong slot,           \
                                      __local double* red) {                                               \
    uint lid = get_local_id(0);                                                                           \
    uint ls = get_local_size(0);                                                                          \
    double acc = 0.0;                                                                                     \
    for (ulong i = lid; i < n; i += ls) {                                                                 \
        double g = (double)dy[i];                                                                         \
        acc += log_mode ? g : g * (exp((double)x[i] - m) / s);                                            \
    }                                                                                                     \
    acc = soma_long_sum(red, acc);                                                                        \
    if (lid == 0) {                                                                                       \
        dots[slot] = acc;                                                                                 \
    }                                                                                                     \
}                                                                                                         \
__kernel void softmax_piece_bwd_##SFX(__global const T* x, __global const T* dy, __global T* dx, ulong base, \
                                      ulong n, double m, double s, double dot, int log_mode, int mode) {   \
    ulong i = base + get_global_id(0);                                                                    \
    if (i >= n) {                                                                                         \
        return;                                                                                           \
    }                                                                                                     \
    if (mode == 1) {                                                                                      \
        dx[i] = (T)NAN;                                                                                   \
    } else if (mode == 2) {                                                                               \
        dx[i] = (T)0;                                                                                     \
    } else {                                                                                              \
        double p = exp((double)x[i] - m) / s;                                                             \
        double g = (double)dy[i];                                                                         \
        dx[i] = (T)(log_mode ? g - p * dot : p * (g - dot));                                              \
    }                                                                                                     \
}

SOMA_LONG_KERNELS(float, f32)
SOMA_LONG_BWD_KERNELS(float, f32)
SOMA_LONG_BWD_KERNELS(double, f64)
SOMA_LONG_KERNELS(double, f64)

#endif
