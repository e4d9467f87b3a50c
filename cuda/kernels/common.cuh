// Helpers every kernel family shares: 64-bit grid-stride indices, 16-byte vector types, the
// per-element math under one overloaded name per dtype, and warp/block reductions.
#pragma once
#include <stdint.h>

// The dynamic shared memory of a block, as bytes. A macro so the host emulation used by
// cuda/test/host can give each emulated block its own buffer.
#ifndef SOMA_DYNAMIC_SHARED
#define SOMA_DYNAMIC_SHARED(name) extern __shared__ __align__(16) unsigned char name[]
#endif

namespace soma {

// Grid-stride loops use 64-bit indices: tensors may exceed 2^31 elements.
__device__ __forceinline__ long long global_thread() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long grid_threads() {
    return (long long)gridDim.x * blockDim.x;
}

// 16-byte vectors: four floats or two doubles move in one load instruction.
template <typename T> struct Vec16;
template <> struct Vec16<float> { typedef float4 type; static const int lanes = 4; };
template <> struct Vec16<double> { typedef double2 type; static const int lanes = 2; };

template <typename F> __device__ __forceinline__ float4 map_vec(float4 v, F f) {
    return make_float4(f(v.x), f(v.y), f(v.z), f(v.w));
}
template <typename F> __device__ __forceinline__ double2 map_vec(double2 v, F f) {
    return make_double2(f(v.x), f(v.y));
}
template <typename F> __device__ __forceinline__ float4 zip_vec(float4 a, float4 b, F f) {
    return make_float4(f(a.x, b.x), f(a.y, b.y), f(a.z, b.z), f(a.w, b.w));
}
template <typename F> __device__ __forceinline__ double2 zip_vec(double2 a, double2 b, F f) {
    return make_double2(f(a.x, b.x), f(a.y, b.y));
}

__device__ __forceinline__ bool aligned16(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// The shared header's per-element functions under one name per dtype, so templates can call them.
__device__ __forceinline__ float op_fwd(int op, float x, float a, float b, float t) {
    return soma_fwd_f(op, x, a, b, t);
}
__device__ __forceinline__ double op_fwd(int op, double x, double a, double b, double t) {
    return soma_fwd_d(op, x, a, b, t);
}
__device__ __forceinline__ float op_bwd(int op, float x, float dy, float a, float b, float t) {
    return soma_bwd_f(op, x, dy, a, b, t);
}
__device__ __forceinline__ double op_bwd(int op, double x, double dy, double a, double b, double t) {
    return soma_bwd_d(op, x, dy, a, b, t);
}

// Accurate exp and log per dtype (never the fast-math intrinsics).
__device__ __forceinline__ float exp_of(float x) { return expf(x); }
__device__ __forceinline__ double exp_of(double x) { return exp(x); }
__device__ __forceinline__ float log_of(float x) { return logf(x); }
__device__ __forceinline__ double log_of(double x) { return log(x); }

template <typename T> __device__ __forceinline__ T quiet_nan();
template <> __device__ __forceinline__ float quiet_nan<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double quiet_nan<double>() { return __longlong_as_double(0x7ff8000000000000LL); }
template <typename T> __device__ __forceinline__ T pos_inf();
template <> __device__ __forceinline__ float pos_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double pos_inf<double>() { return __longlong_as_double(0x7ff0000000000000LL); }

// Tree sums across a warp: every lane ends with the total, added in the same order on every run.
template <typename A> __device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

// Sum over the block: warp trees, then one warp over the per-warp totals. Every thread gets the
// total. `scratch` holds 32 values; the leading barrier lets callers reuse it back to back.
template <typename A> __device__ __forceinline__ A block_sum(A v, A* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    A t = lane < warps ? scratch[lane] : A(0);
    return warp_sum(t);
}

}  // namespace soma
