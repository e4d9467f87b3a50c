// Softmax and log-softmax along an inner axis (inner > 1): the row (o, i) is
// x[(o * len + k) * inner + i], k < len. One thread per row; neighbouring threads take neighbouring
// i, so every step k reads a contiguous run across the warp. One online pass folds the running
// (max, sum), a second writes (forward) or reduces dy (backward) before the write.
#pragma once

namespace soma {

template <typename T>
__device__ __forceinline__ void softmax_strided_forward(const T* x, T* y, long long outer, long long len,
                                                        long long inner, int log, int safe) {
    for (long long col = global_thread(); col < outer * inner; col += grid_threads()) {
        const long long o = col / inner;
        const long long base = o * len * inner + (col - o * inner);
        Online<T, double> st = online_empty<T, double>();
        for (long long k = 0; k < len; k++) online_fold(st, x[base + k * inner]);
        if (!row_ok(st.m)) {
            const T fill = row_fill(st.m, safe, log);
            for (long long k = 0; k < len; k++) y[base + k * inner] = fill;
            continue;
        }
        for (long long k = 0; k < len; k++) y[base + k * inner] = row_out(x[base + k * inner], st.m, st.s, log);
    }
}

template <typename T>
__device__ __forceinline__ void softmax_strided_backward(const T* x, const T* dy, T* dx, long long outer,
                                                         long long len, long long inner, int log, int safe) {
    for (long long col = global_thread(); col < outer * inner; col += grid_threads()) {
        const long long o = col / inner;
        const long long base = o * len * inner + (col - o * inner);
        Online<T, double> st = online_empty<T, double>();
        for (long long k = 0; k < len; k++) online_fold(st, x[base + k * inner]);
        if (!row_ok(st.m)) {
            const T fill = row_fill(st.m, safe, 0);
            for (long long k = 0; k < len; k++) dx[base + k * inner] = fill;
            continue;
        }
        double r = 0.0;
        for (long long k = 0; k < len; k++) {
            const long long idx = base + k * inner;
            const T yv = (T)((double)exp_of(x[idx] - st.m) / st.s);
            r += grad_term<T, double>(yv, dy[idx], log);
        }
        for (long long k = 0; k < len; k++) {
            const long long idx = base + k * inner;
            const T yv = (T)((double)exp_of(x[idx] - st.m) / st.s);
            dx[idx] = grad_out(yv, dy[idx], r, log);
        }
    }
}

}  // namespace soma

extern "C" __global__ void soma_softmax_strided_f32(const float* x, float* y, long long outer, long long len, long long inner, int log, int safe) { soma::softmax_strided_forward(x, y, outer, len, inner, log, safe); }
extern "C" __global__ void soma_softmax_strided_f64(const double* x, double* y, long long outer, long long len, long long inner, int log, int safe) { soma::softmax_strided_forward(x, y, outer, len, inner, log, safe); }
extern "C" __global__ void soma_softmax_strided_bwd_f32(const float* x, const float* dy, float* dx, long long outer, long long len, long long inner, int log, int safe) { soma::softmax_strided_backward(x, dy, dx, outer, len, inner, log, safe); }
extern "C" __global__ void soma_softmax_strided_bwd_f64(const double* x, const double* dy, double* dx, long long outer, long long len, long long inner, int log, int safe) { soma::softmax_strided_backward(x, dy, dx, outer, len, inner, log, safe); }
