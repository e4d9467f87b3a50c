// Softmax and log-softmax for short contiguous rows (inner == 1, len <= 32 * K): one warp per row,
// the row held in registers (K elements per lane, element lane + 32k), reductions by warp shuffles.
// One read of x and one write of y per element. K is a template parameter so the row stays in
// registers; the host picks the smallest K that covers the row.
#pragma once

namespace soma {

template <typename T, int K>
__device__ __forceinline__ void softmax_warp_forward(const T* x, T* y, long long rows, int len, int log, int safe) {
    const int lane = threadIdx.x & 31;
    const long long warps_per_block = blockDim.x >> 5;
    for (long long row = blockIdx.x * warps_per_block + (threadIdx.x >> 5); row < rows;
         row += (long long)gridDim.x * warps_per_block) {
        const T* xr = x + row * len;
        T* yr = y + row * len;
        T v[K];
        T m = -pos_inf<T>();
#pragma unroll
        for (int k = 0; k < K; k++) {
            const int j = lane + 32 * k;
            v[k] = j < len ? xr[j] : -pos_inf<T>();
            m = max_fold(m, v[k]);
        }
        m = warp_max(m);
        if (!row_ok(m)) {
            const T fill = row_fill(m, safe, log);
#pragma unroll
            for (int k = 0; k < K; k++) {
                if (lane + 32 * k < len) yr[lane + 32 * k] = fill;
            }
            continue;
        }
        // The sum in double even for float32: log-softmax's largest element is -log(s) with s just
        // above 1, and a float s (one ulp = 1.2e-7) would cost that result its relative accuracy.
        double s = 0.0;
#pragma unroll
        for (int k = 0; k < K; k++) {
            const T e = exp_of(v[k] - m);  // padding is -inf: contributes 0
            s += (double)e;
            if (!log) v[k] = e;
        }
        s = warp_sum(s);
        const T ls = (T)log_of(s);
        const T st = (T)s;
#pragma unroll
        for (int k = 0; k < K; k++) {
            const int j = lane + 32 * k;
            if (j < len) yr[j] = log ? (v[k] - m) - ls : v[k] / st;
        }
    }
}

template <typename T, int K>
__device__ __forceinline__ void softmax_warp_backward(const T* x, const T* dy, T* dx, long long rows, int len,
                                                      int log, int safe) {
    const int lane = threadIdx.x & 31;
    const long long warps_per_block = blockDim.x >> 5;
    for (long long row = blockIdx.x * warps_per_block + (threadIdx.x >> 5); row < rows;
         row += (long long)gridDim.x * warps_per_block) {
        const T* xr = x + row * len;
        const T* gr = dy + row * len;
        T* dr = dx + row * len;
        T v[K];
        T g[K];
        T m = -pos_inf<T>();
#pragma unroll
        for (int k = 0; k < K; k++) {
            const int j = lane + 32 * k;
            v[k] = j < len ? xr[j] : -pos_inf<T>();
            g[k] = j < len ? gr[j] : T(0);
            m = max_fold(m, v[k]);
        }
        m = warp_max(m);
        if (!row_ok(m)) {
            const T fill = row_fill(m, safe, 0);
#pragma unroll
            for (int k = 0; k < K; k++) {
                if (lane + 32 * k < len) dr[lane + 32 * k] = fill;
            }
            continue;
        }
        T s = T(0);
#pragma unroll
        for (int k = 0; k < K; k++) {
            v[k] = exp_of(v[k] - m);
            s += v[k];
        }
        s = warp_sum(s);
        T r = T(0);
#pragma unroll
        for (int k = 0; k < K; k++) {
            v[k] = v[k] / s;  // y, the softmax
            r += grad_term<T, T>(v[k], g[k], log);
        }
        r = warp_sum(r);
#pragma unroll
        for (int k = 0; k < K; k++) {
            const int j = lane + 32 * k;
            if (j < len) dr[j] = grad_out<T, T>(v[k], g[k], r, log);
        }
    }
}

}  // namespace soma

// soma_softmax_warp_{f32,f64}_k<K> (forward) and soma_softmax_warp_bwd_{f32,f64}_k<K>: rows of
// len <= 32K floats (K <= 32) or doubles (K <= 16). `log` selects log-softmax, `safe` the masked-row rule.
extern "C" __global__ void soma_softmax_warp_f32_k1(const float* x, float* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<float, 1>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f32_k1(const float* x, const float* dy, float* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<float, 1>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f64_k1(const double* x, double* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<double, 1>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f64_k1(const double* x, const double* dy, double* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<double, 1>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f32_k2(const float* x, float* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<float, 2>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f32_k2(const float* x, const float* dy, float* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<float, 2>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f64_k2(const double* x, double* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<double, 2>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f64_k2(const double* x, const double* dy, double* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<double, 2>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f32_k4(const float* x, float* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<float, 4>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f32_k4(const float* x, const float* dy, float* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<float, 4>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f64_k4(const double* x, double* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<double, 4>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f64_k4(const double* x, const double* dy, double* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<double, 4>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f32_k8(const float* x, float* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<float, 8>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f32_k8(const float* x, const float* dy, float* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<float, 8>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f64_k8(const double* x, double* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<double, 8>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f64_k8(const double* x, const double* dy, double* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<double, 8>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f32_k16(const float* x, float* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<float, 16>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f32_k16(const float* x, const float* dy, float* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<float, 16>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f64_k16(const double* x, double* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<double, 16>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f64_k16(const double* x, const double* dy, double* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<double, 16>(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_f32_k32(const float* x, float* y, long long rows, int len, int log, int safe) { soma::softmax_warp_forward<float, 32>(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_warp_bwd_f32_k32(const float* x, const float* dy, float* dx, long long rows, int len, int log, int safe) { soma::softmax_warp_backward<float, 32>(x, dy, dx, rows, len, log, safe); }
