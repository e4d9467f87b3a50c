// Softmax and log-softmax for long contiguous rows (inner == 1): one block per row.
//  - "block": the row fits in shared memory (len * sizeof(T) <= the host's limit); it is read from
//    global memory once and kept in dynamic shared memory. Each thread only ever touches its own
//    elements (j = tid + k * blockDim), so the cache needs no barriers; reductions do.
//  - "online": rows beyond shared memory; one pass folds a running (max, sum) per thread, merged by
//    warp shuffles and across warps, then a second pass writes the output.
// Sums accumulate in double for float32 too: a row may hold millions of elements.
#pragma once

namespace soma {

template <typename T>
__device__ __forceinline__ void softmax_block_forward(const T* x, T* y, long long rows, long long len,
                                                      int log, int safe) {
    SOMA_DYNAMIC_SHARED(soma_smem_raw);
    T* cache = reinterpret_cast<T*>(soma_smem_raw);
    __shared__ T max_scratch[32];
    __shared__ double sum_scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * len;
        T* yr = y + row * len;
        T m = -pos_inf<T>();
        for (long long j = threadIdx.x; j < len; j += blockDim.x) {
            const T v = xr[j];
            cache[j] = v;
            m = max_fold(m, v);
        }
        m = block_max(m, max_scratch);
        if (!row_ok(m)) {
            const T fill = row_fill(m, safe, log);
            for (long long j = threadIdx.x; j < len; j += blockDim.x) yr[j] = fill;
            continue;
        }
        double s = 0.0;
        for (long long j = threadIdx.x; j < len; j += blockDim.x) s += (double)exp_of(cache[j] - m);
        s = block_sum(s, sum_scratch);
        for (long long j = threadIdx.x; j < len; j += blockDim.x) yr[j] = row_out(cache[j], m, s, log);
    }
}

template <typename T>
__device__ __forceinline__ void softmax_block_backward(const T* x, const T* dy, T* dx, long long rows,
                                                       long long len, int log, int safe) {
    SOMA_DYNAMIC_SHARED(soma_smem_raw);
    T* cache = reinterpret_cast<T*>(soma_smem_raw);
    __shared__ T max_scratch[32];
    __shared__ double sum_scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * len;
        const T* gr = dy + row * len;
        T* dr = dx + row * len;
        T m = -pos_inf<T>();
        for (long long j = threadIdx.x; j < len; j += blockDim.x) {
            const T v = xr[j];
            cache[j] = v;
            m = max_fold(m, v);
        }
        m = block_max(m, max_scratch);
        if (!row_ok(m)) {
            const T fill = row_fill(m, safe, 0);
            for (long long j = threadIdx.x; j < len; j += blockDim.x) dr[j] = fill;
            continue;
        }
        double s = 0.0;
        for (long long j = threadIdx.x; j < len; j += blockDim.x) s += (double)exp_of(cache[j] - m);
        s = block_sum(s, sum_scratch);
        double r = 0.0;
        for (long long j = threadIdx.x; j < len; j += blockDim.x) {
            const T yv = (T)((double)exp_of(cache[j] - m) / s);
            cache[j] = yv;  // the softmax replaces x: only this thread reads it again
            r += grad_term<T, double>(yv, gr[j], log);
        }
        r = block_sum(r, sum_scratch);
        for (long long j = threadIdx.x; j < len; j += blockDim.x) dr[j] = grad_out(cache[j], gr[j], r, log);
    }
}

template <typename T>
__device__ __forceinline__ void softmax_online_forward(const T* x, T* y, long long rows, long long len,
                                                       int log, int safe) {
    __shared__ Online<T, double> scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * len;
        T* yr = y + row * len;
        Online<T, double> st = online_empty<T, double>();
        for (long long j = threadIdx.x; j < len; j += blockDim.x) online_fold(st, xr[j]);
        st = block_online(st, scratch);
        if (!row_ok(st.m)) {
            const T fill = row_fill(st.m, safe, log);
            for (long long j = threadIdx.x; j < len; j += blockDim.x) yr[j] = fill;
            continue;
        }
        for (long long j = threadIdx.x; j < len; j += blockDim.x) yr[j] = row_out(xr[j], st.m, st.s, log);
    }
}

template <typename T>
__device__ __forceinline__ void softmax_online_backward(const T* x, const T* dy, T* dx, long long rows,
                                                        long long len, int log, int safe) {
    __shared__ Online<T, double> scratch[32];
    __shared__ double sum_scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * len;
        const T* gr = dy + row * len;
        T* dr = dx + row * len;
        Online<T, double> st = online_empty<T, double>();
        for (long long j = threadIdx.x; j < len; j += blockDim.x) online_fold(st, xr[j]);
        st = block_online(st, scratch);
        if (!row_ok(st.m)) {
            const T fill = row_fill(st.m, safe, 0);
            for (long long j = threadIdx.x; j < len; j += blockDim.x) dr[j] = fill;
            continue;
        }
        double r = 0.0;
        for (long long j = threadIdx.x; j < len; j += blockDim.x) {
            const T yv = (T)((double)exp_of(xr[j] - st.m) / st.s);
            r += grad_term<T, double>(yv, gr[j], log);
        }
        r = block_sum(r, sum_scratch);
        for (long long j = threadIdx.x; j < len; j += blockDim.x) {
            const T yv = (T)((double)exp_of(xr[j] - st.m) / st.s);
            dr[j] = grad_out(yv, gr[j], r, log);
        }
    }
}

}  // namespace soma

extern "C" __global__ void soma_softmax_block_f32(const float* x, float* y, long long rows, long long len, int log, int safe) { soma::softmax_block_forward(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_block_f64(const double* x, double* y, long long rows, long long len, int log, int safe) { soma::softmax_block_forward(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_block_bwd_f32(const float* x, const float* dy, float* dx, long long rows, long long len, int log, int safe) { soma::softmax_block_backward(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_block_bwd_f64(const double* x, const double* dy, double* dx, long long rows, long long len, int log, int safe) { soma::softmax_block_backward(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_online_f32(const float* x, float* y, long long rows, long long len, int log, int safe) { soma::softmax_online_forward(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_online_f64(const double* x, double* y, long long rows, long long len, int log, int safe) { soma::softmax_online_forward(x, y, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_online_bwd_f32(const float* x, const float* dy, float* dx, long long rows, long long len, int log, int safe) { soma::softmax_online_backward(x, dy, dx, rows, len, log, safe); }
extern "C" __global__ void soma_softmax_online_bwd_f64(const double* x, const double* dy, double* dx, long long rows, long long len, int log, int safe) { soma::softmax_online_backward(x, dy, dx, rows, len, log, safe); }
