// Softmax rows longer than a device chunk (the offload pipeline's multi-pass path), as in
// opencl/kernels/softmax_long.cl: pass 1 reduces each piece to (max, sum of exp(x - max)) in
// double (one block per piece: a rare path, simple over fast), the host combines the pieces, pass 2
// writes exp(x - M) / S or x - M - log S. mode 1: the row is NaN; mode 2: a fully masked row in
// safe mode (zeros; log-softmax -inf).
#pragma once

namespace soma {

template <typename T>
__device__ __forceinline__ void piece_stats(const T* x, long long n, double* stats, long long slot) {
    __shared__ double red[256];
    const int lid = threadIdx.x;
    double m = -INFINITY;
    for (long long i = lid; i < n; i += blockDim.x) {
        double v = (double)x[i];
        m = (v > m || isnan(v)) ? v : m;
    }
    red[lid] = m;
    __syncthreads();
    for (int h = blockDim.x >> 1; h > 0; h >>= 1) {
        if (lid < h) {
            double a = red[lid], b = red[lid + h];
            red[lid] = (a > b || isnan(a)) ? a : b;
        }
        __syncthreads();
    }
    m = red[0];
    __syncthreads();
    double s = 0.0;
    if (isfinite(m)) {
        for (long long i = lid; i < n; i += blockDim.x) {
            s += exp((double)x[i] - m);
        }
    }
    red[lid] = s;
    __syncthreads();
    for (int h = blockDim.x >> 1; h > 0; h >>= 1) {
        if (lid < h) {
            red[lid] += red[lid + h];
        }
        __syncthreads();
    }
    if (lid == 0) {
        stats[2 * slot] = m;
        stats[2 * slot + 1] = red[0];
    }
}

template <typename T>
__device__ __forceinline__ void piece_apply(const T* x, T* y, long long n, double m, double s, double log_s,
                                            int log_mode, int mode) {
    for (long long i = global_thread(); i < n; i += grid_threads()) {
        if (mode == 1) {
            y[i] = (T)NAN;
        } else if (mode == 2) {
            y[i] = log_mode ? (T)(-INFINITY) : (T)0;
        } else {
            double d = (double)x[i] - m;
            y[i] = log_mode ? (T)(d - log_s) : (T)(exp(d) / s);
        }
    }
}

template <typename T>
__device__ __forceinline__ void piece_dot(const T* x, const T* dy, long long n, double m, double s, int log_mode,
                                          double* dots, long long slot) {
    __shared__ double red[256];
    const int lid = threadIdx.x;
    double acc = 0.0;
    for (long long i = lid; i < n; i += blockDim.x) {
        double g = (double)dy[i];
        acc += log_mode ? g : g * (exp((double)x[i] - m) / s);
    }
    red[lid] = acc;
    __syncthreads();
    for (int h = blockDim.x >> 1; h > 0; h >>= 1) {
        if (lid < h) {
            red[lid] += red[lid + h];
        }
        __syncthreads();
    }
    if (lid == 0) {
        dots[slot] = red[0];
    }
}

template <typename T>
__device__ __forceinline__ void piece_bwd(const T* x, const T* dy, T* dx, long long n, double m, double s, double dot,
                                          int log_mode, int mode) {
    for (long long i = global_thread(); i < n; i += grid_threads()) {
        if (mode == 1) {
            dx[i] = (T)NAN;
        } else if (mode == 2) {
            dx[i] = (T)0;
        } else {
            double p = exp((double)x[i] - m) / s;
            double g = (double)dy[i];
            dx[i] = (T)(log_mode ? g - p * dot : p * (g - dot));
        }
    }
}

}  // namespace soma

// Stats: (x, n, stats, slot), launched with one block of 256 threads. Apply: (x, y, n, m, s, log_s, log_mode, mode).
extern "C" __global__ void soma_softmax_piece_stats_f32(const float* x, long long n, double* stats, long long slot) {
    soma::piece_stats<float>(x, n, stats, slot);
}
extern "C" __global__ void soma_softmax_piece_stats_f64(const double* x, long long n, double* stats, long long slot) {
    soma::piece_stats<double>(x, n, stats, slot);
}
extern "C" __global__ void soma_softmax_piece_apply_f32(const float* x, float* y, long long n, double m, double s,
                                                        double log_s, int log_mode, int mode) {
    soma::piece_apply<float>(x, y, n, m, s, log_s, log_mode, mode);
}
extern "C" __global__ void soma_softmax_piece_apply_f64(const double* x, double* y, long long n, double m, double s,
                                                        double log_s, int log_mode, int mode) {
    soma::piece_apply<double>(x, y, n, m, s, log_s, log_mode, mode);
}
// Backward: dot (x, dy, n, m, s, log_mode, dots, slot), one block of 256 threads; bwd (x, dy, dx, n, m, s, dot, log_mode, mode).
extern "C" __global__ void soma_softmax_piece_dot_f32(const float* x, const float* dy, long long n, double m, double s,
                                                      int log_mode, double* dots, long long slot) {
    soma::piece_dot<float>(x, dy, n, m, s, log_mode, dots, slot);
}
extern "C" __global__ void soma_softmax_piece_dot_f64(const double* x, const double* dy, long long n, double m, double s,
                                                      int log_mode, double* dots, long long slot) {
    soma::piece_dot<double>(x, dy, n, m, s, log_mode, dots, slot);
}
extern "C" __global__ void soma_softmax_piece_bwd_f32(const float* x, const float* dy, float* dx, long long n, double m,
                                                      double s, double dot, int log_mode, int mode) {
    soma::piece_bwd<float>(x, dy, dx, n, m, s, dot, log_mode, mode);
}
extern "C" __global__ void soma_softmax_piece_bwd_f64(const double* x, const double* dy, double* dx, long long n, double m,
                                                      double s, double dot, int log_mode, int mode) {
    soma::piece_bwd<double>(x, dy, dx, n, m, s, dot, log_mode, mode);
}
