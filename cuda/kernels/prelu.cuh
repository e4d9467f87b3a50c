// PReLU over a tensor seen as (outer, channels, inner): y = x > 0 ? x : w[c] * x, c the channel.
// One weight for everything is the view (1, 1, n). The weight gradient dw[c] (the sum of x * dy over
// the channel's elements where x <= 0) is reduced deterministically: a fixed split of each channel
// into `chunks` pieces that depends only on the shape, block tree sums into a partial per piece,
// then a fixed-order sum of each channel's partials. The same input always gives the same bits.
#pragma once

namespace soma {

// The channel of flat element i. 64-bit division costs several times the 32-bit kind, and these
// kernels are memory-bound only while the index math stays cheap: tensors below 2^32 elements take
// the 32-bit path (the branch is uniform across the grid).
__device__ __forceinline__ long long channel_of(long long i, long long channels, long long inner, bool narrow) {
    if (narrow) {
        return (long long)(((unsigned)i / (unsigned)inner) % (unsigned)channels);
    }
    return (i / inner) % channels;
}

template <typename T>
__device__ __forceinline__ void prelu_forward(const T* x, const T* w, T* y, long long n,
                                              long long channels, long long inner) {
    const bool narrow = n <= 0xffffffffLL;
    for (long long i = global_thread(); i < n; i += grid_threads()) {
        const T v = x[i];
        const T wc = w[channel_of(i, channels, inner, narrow)];
        // NaN > 0 is false: NaN * w stays NaN. A zero slope gives 0 at x = -inf (the limit), not
        // 0 * inf = NaN, as on the other backends.
        y[i] = v > T(0) ? v : (wc == T(0) && v == v ? T(0) : wc * v);
    }
}

template <typename T>
__device__ __forceinline__ void prelu_backward_dx(const T* x, const T* w, const T* dy, T* dx, long long n,
                                                  long long channels, long long inner) {
    const bool narrow = n <= 0xffffffffLL;
    for (long long i = global_thread(); i < n; i += grid_threads()) {
        const T v = x[i];
        const T g = dy[i];
        const T wc = w[channel_of(i, channels, inner, narrow)];
        // NaN in, NaN out: the slope at NaN is undefined, so is its gradient.
        dx[i] = v != v ? v : (v > T(0) ? g : wc * g);
    }
}

// dw accumulates in double for float32 too: a channel may hold millions of elements.
// Grid-stride over (channel, chunk) pairs, one block per pair: partial[c * chunks + k] = the sum of
// x * dy (x <= 0 or NaN) over the k-th piece of channel c. Needs 32 doubles of shared memory.
template <typename T>
__device__ __forceinline__ void prelu_dw_partial(const T* x, const T* dy, double* partial, long long outer,
                                                 long long channels, long long inner, long long chunks) {
    __shared__ double scratch[32];
    const long long per_channel = outer * inner;
    const long long chunk_len = (per_channel + chunks - 1) / chunks;
    for (long long pair = blockIdx.x; pair < channels * chunks; pair += gridDim.x) {
        const long long c = pair / chunks;
        const long long k = pair % chunks;
        const long long lo = k * chunk_len;
        const long long hi = min(per_channel, lo + chunk_len);
        double acc = 0.0;
        for (long long j = lo + threadIdx.x; j < hi; j += blockDim.x) {
            const long long o = j / inner;
            const long long idx = (o * channels + c) * inner + (j - o * inner);
            const T v = x[idx];
            if (!(v > T(0))) {
                acc += (double)v * (double)dy[idx];
            }
        }
        acc = block_sum(acc, scratch);
        if (threadIdx.x == 0) {
            partial[pair] = acc;
        }
    }
}

// One thread per channel sums its partials in index order.
template <typename T>
__device__ __forceinline__ void prelu_dw_final(const double* partial, T* dw, long long channels, long long chunks) {
    for (long long c = global_thread(); c < channels; c += grid_threads()) {
        double s = 0.0;
        for (long long k = 0; k < chunks; k++) {
            s += partial[c * chunks + k];
        }
        dw[c] = (T)s;
    }
}

}  // namespace soma

extern "C" __global__ void soma_prelu_fwd_f32(const float* x, const float* w, float* y, long long n, long long channels, long long inner) { soma::prelu_forward(x, w, y, n, channels, inner); }
extern "C" __global__ void soma_prelu_fwd_f64(const double* x, const double* w, double* y, long long n, long long channels, long long inner) { soma::prelu_forward(x, w, y, n, channels, inner); }
extern "C" __global__ void soma_prelu_bwd_dx_f32(const float* x, const float* w, const float* dy, float* dx, long long n, long long channels, long long inner) { soma::prelu_backward_dx(x, w, dy, dx, n, channels, inner); }
extern "C" __global__ void soma_prelu_bwd_dx_f64(const double* x, const double* w, const double* dy, double* dx, long long n, long long channels, long long inner) { soma::prelu_backward_dx(x, w, dy, dx, n, channels, inner); }
extern "C" __global__ void soma_prelu_dw_partial_f32(const float* x, const float* dy, double* partial, long long outer, long long channels, long long inner, long long chunks) { soma::prelu_dw_partial(x, dy, partial, outer, channels, inner, chunks); }
extern "C" __global__ void soma_prelu_dw_partial_f64(const double* x, const double* dy, double* partial, long long outer, long long channels, long long inner, long long chunks) { soma::prelu_dw_partial(x, dy, partial, outer, channels, inner, chunks); }
extern "C" __global__ void soma_prelu_dw_final_f32(const double* partial, float* dw, long long channels, long long chunks) { soma::prelu_dw_final(partial, dw, channels, chunks); }
extern "C" __global__ void soma_prelu_dw_final_f64(const double* partial, double* dw, long long channels, long long chunks) { soma::prelu_dw_final(partial, dw, channels, chunks); }
