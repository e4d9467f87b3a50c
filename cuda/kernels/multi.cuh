// Many small tensors in one launch (the optimizer and per-layer case, like PyTorch's _foreach ops):
// the tensors are slices of one input and one output allocation, cut into blocks of at most a few
// thousand elements; a table lists each block as three 64-bit integers (input offset, output
// offset, length) in elements. Block-stride over table entries, thread-stride within an entry.
// Elementwise ops only; the op code is a kernel argument (uniform, so no divergence).
#pragma once

namespace soma {

template <typename T>
__device__ __forceinline__ void multi_forward(const T* x, T* y, const long long* table, long long blocks, int op,
                                              T a, T b, T t) {
    for (long long e = blockIdx.x; e < blocks; e += gridDim.x) {
        const long long xo = table[3 * e], yo = table[3 * e + 1], len = table[3 * e + 2];
        for (long long i = threadIdx.x; i < len; i += blockDim.x) {
            y[yo + i] = op_fwd(op, x[xo + i], a, b, t);
        }
    }
}

template <typename T>
__device__ __forceinline__ void multi_backward(const T* x, const T* dy, T* dx, const long long* table,
                                               long long blocks, int op, T a, T b, T t) {
    for (long long e = blockIdx.x; e < blocks; e += gridDim.x) {
        const long long xo = table[3 * e], yo = table[3 * e + 1], len = table[3 * e + 2];
        for (long long i = threadIdx.x; i < len; i += blockDim.x) {
            dx[yo + i] = op_bwd(op, x[xo + i], dy[xo + i], a, b, t);
        }
    }
}

}  // namespace soma

// (x, y, table, blocks, op, alpha, beta, threshold) and (x, dy, dx, table, blocks, op, ...).
extern "C" __global__ void soma_multi_fwd_f32(const float* x, float* y, const long long* table, long long blocks,
                                              int op, float alpha, float beta, float threshold) {
    soma::multi_forward<float>(x, y, table, blocks, op, alpha, beta, threshold);
}
extern "C" __global__ void soma_multi_bwd_f32(const float* x, const float* dy, float* dx, const long long* table,
                                              long long blocks, int op, float alpha, float beta, float threshold) {
    soma::multi_backward<float>(x, dy, dx, table, blocks, op, alpha, beta, threshold);
}
extern "C" __global__ void soma_multi_fwd_f64(const double* x, double* y, const long long* table, long long blocks,
                                              int op, double alpha, double beta, double threshold) {
    soma::multi_forward<double>(x, y, table, blocks, op, alpha, beta, threshold);
}
extern "C" __global__ void soma_multi_bwd_f64(const double* x, const double* dy, double* dx, const long long* table,
                                              long long blocks, int op, double alpha, double beta, double threshold) {
    soma::multi_backward<double>(x, dy, dx, table, blocks, op, alpha, beta, threshold);
}
