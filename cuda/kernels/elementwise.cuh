// Elementwise forward and backward of every op with scalar parameters only, float32 and float64.
// One kernel per op, dtype and direction, so the op's switch in soma_math.h folds away at compile
// time. Grid-stride loops over 64-bit indices; 16-byte vector loads (float4/double2) when every
// pointer is 16-byte aligned, then a scalar tail.
#pragma once

namespace soma {

template <typename T, int OP>
__device__ __forceinline__ void ew_forward(const T* x, T* y, long long n, T a, T b, T t) {
    typedef typename Vec16<T>::type V;
    const int lanes = Vec16<T>::lanes;
    const long long stride = grid_threads();
    long long start = 0;
    if (aligned16(x) && aligned16(y)) {
        const long long nv = n / lanes;
        const V* xv = reinterpret_cast<const V*>(x);
        V* yv = reinterpret_cast<V*>(y);
        for (long long i = global_thread(); i < nv; i += stride) {
            yv[i] = map_vec(xv[i], [=](T v) { return op_fwd(OP, v, a, b, t); });
        }
        start = nv * lanes;
    }
    for (long long i = start + global_thread(); i < n; i += stride) {
        y[i] = op_fwd(OP, x[i], a, b, t);
    }
}

template <typename T, int OP>
__device__ __forceinline__ void ew_backward(const T* x, const T* dy, T* dx, long long n, T a, T b, T t) {
    typedef typename Vec16<T>::type V;
    const int lanes = Vec16<T>::lanes;
    const long long stride = grid_threads();
    long long start = 0;
    if (aligned16(x) && aligned16(dy) && aligned16(dx)) {
        const long long nv = n / lanes;
        const V* xv = reinterpret_cast<const V*>(x);
        const V* gv = reinterpret_cast<const V*>(dy);
        V* dv = reinterpret_cast<V*>(dx);
        for (long long i = global_thread(); i < nv; i += stride) {
            dv[i] = zip_vec(xv[i], gv[i], [=](T v, T g) { return op_bwd(OP, v, g, a, b, t); });
        }
        start = nv * lanes;
    }
    for (long long i = start + global_thread(); i < n; i += stride) {
        dx[i] = op_bwd(OP, x[i], dy[i], a, b, t);
    }
}

}  // namespace soma

// Entry points, named soma_{fwd,bwd}_{f32,f64}_<op id> after dev.soma.op.Op#id(); CudaKernelNames
// builds the same names. Forward: (x, y, n, alpha, beta, threshold); backward: (x, dy, dx, n, ...).
#define SOMA_EW_FWD(T) const T* x, T* y, long long n, T alpha, T beta, T threshold
#define SOMA_EW_BWD(T) const T* x, const T* dy, T* dx, long long n, T alpha, T beta, T threshold

extern "C" __global__ void soma_fwd_f32_sigmoid(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_SIGMOID>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_sigmoid(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_SIGMOID>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_sigmoid(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_SIGMOID>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_sigmoid(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_SIGMOID>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_tanh(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_TANH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_tanh(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_TANH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_tanh(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_TANH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_tanh(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_TANH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_relu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_RELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_relu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_RELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_relu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_RELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_relu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_RELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_leaky_relu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_LEAKY_RELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_leaky_relu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_LEAKY_RELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_leaky_relu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_LEAKY_RELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_leaky_relu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_LEAKY_RELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_elu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_ELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_elu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_ELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_elu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_ELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_elu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_ELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_celu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_CELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_celu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_CELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_celu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_CELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_celu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_CELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_selu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_SELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_selu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_SELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_selu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_SELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_selu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_SELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_gelu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_GELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_gelu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_GELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_gelu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_GELU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_gelu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_GELU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_gelu_tanh(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_GELU_TANH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_gelu_tanh(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_GELU_TANH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_gelu_tanh(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_GELU_TANH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_gelu_tanh(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_GELU_TANH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_silu(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_SILU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_silu(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_SILU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_silu(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_SILU>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_silu(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_SILU>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_softplus(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_SOFTPLUS>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_softplus(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_SOFTPLUS>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_softplus(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_SOFTPLUS>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_softplus(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_SOFTPLUS>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_mish(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_MISH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_mish(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_MISH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_mish(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_MISH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_mish(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_MISH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_relu6(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_RELU6>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_relu6(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_RELU6>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_relu6(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_RELU6>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_relu6(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_RELU6>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_hardsigmoid(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_HARDSIGMOID>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_hardsigmoid(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_HARDSIGMOID>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_hardsigmoid(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_HARDSIGMOID>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_hardsigmoid(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_HARDSIGMOID>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f32_hardswish(SOMA_EW_FWD(float)) { soma::ew_forward<float, SOMA_OP_HARDSWISH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f32_hardswish(SOMA_EW_BWD(float)) { soma::ew_backward<float, SOMA_OP_HARDSWISH>(x, dy, dx, n, alpha, beta, threshold); }
extern "C" __global__ void soma_fwd_f64_hardswish(SOMA_EW_FWD(double)) { soma::ew_forward<double, SOMA_OP_HARDSWISH>(x, y, n, alpha, beta, threshold); }
extern "C" __global__ void soma_bwd_f64_hardswish(SOMA_EW_BWD(double)) { soma::ew_backward<double, SOMA_OP_HARDSWISH>(x, dy, dx, n, alpha, beta, threshold); }
