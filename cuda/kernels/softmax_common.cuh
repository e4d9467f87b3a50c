// Row rules shared by every softmax kernel (see shared/semantics.md, "Softmax rows"):
//  - a row is shifted by its maximum m, so large values never overflow;
//  - NaN anywhere, or +inf anywhere, makes the whole row NaN: both "poison" m to NaN;
//  - -inf elements contribute nothing; a row of only -inf keeps m = -inf and is NaN, or in safe
//    mode (a fully masked attention row) softmax 0, log-softmax -inf and zero gradients;
//  - sums accumulate in A (double for the long-row kernels) and combine as trees.
#pragma once

namespace soma {

// Folds one element into a running maximum: NaN and +inf poison it, -inf leaves it unchanged.
template <typename T> __device__ __forceinline__ T max_fold(T m, T x) {
    if (x != x || x == pos_inf<T>()) {
        return quiet_nan<T>();
    }
    return m != m ? m : (x > m ? x : m);
}

// Combines two partial maxima; a poisoned one wins.
template <typename T> __device__ __forceinline__ T max_merge(T a, T b) {
    if (a != a || b != b) {
        return quiet_nan<T>();
    }
    return a > b ? a : b;
}

template <typename T> __device__ __forceinline__ T warp_max(T m) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        m = max_merge(m, __shfl_xor_sync(0xffffffffu, m, o));
    }
    return m;
}

template <typename T> __device__ __forceinline__ T block_max(T m, T* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    m = warp_max(m);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = m;
    }
    __syncthreads();
    T t = lane < warps ? scratch[lane] : -pos_inf<T>();
    return warp_max(t);
}

// A running (max, sum of exp(x - max)) pair for one pass over a row (the "online" softmax).
template <typename T, typename A> struct Online {
    T m;
    A s;
};

template <typename T, typename A> __device__ __forceinline__ Online<T, A> online_empty() {
    Online<T, A> r;
    r.m = -pos_inf<T>();
    r.s = A(0);
    return r;
}

template <typename T, typename A> __device__ __forceinline__ void online_fold(Online<T, A>& st, T x) {
    if (x != x || x == pos_inf<T>()) {
        st.m = quiet_nan<T>();
    } else if (x != -pos_inf<T>() && st.m == st.m) {
        if (x > st.m) {
            // exp(-inf) = 0 when this is the first finite element.
            st.s = st.s * (A)exp_of(st.m - x) + A(1);
            st.m = x;
        } else {
            st.s += (A)exp_of(x - st.m);
        }
    }
}

template <typename T, typename A>
__device__ __forceinline__ Online<T, A> online_merge(Online<T, A> a, Online<T, A> b) {
    if (a.m != a.m || b.m != b.m) {
        a.m = quiet_nan<T>();
        return a;
    }
    if (a.m == -pos_inf<T>()) {
        return b;
    }
    if (b.m == -pos_inf<T>()) {
        return a;
    }
    const T m = a.m > b.m ? a.m : b.m;
    Online<T, A> r;
    r.m = m;
    r.s = a.s * (A)exp_of(a.m - m) + b.s * (A)exp_of(b.m - m);
    return r;
}

template <typename T, typename A> __device__ __forceinline__ Online<T, A> warp_online(Online<T, A> st) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        Online<T, A> other;
        other.m = __shfl_xor_sync(0xffffffffu, st.m, o);
        other.s = __shfl_xor_sync(0xffffffffu, st.s, o);
        st = online_merge(st, other);
    }
    return st;
}

template <typename T, typename A>
__device__ __forceinline__ Online<T, A> block_online(Online<T, A> st, Online<T, A>* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    st = warp_online(st);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = st;
    }
    __syncthreads();
    Online<T, A> t = lane < warps ? scratch[lane] : online_empty<T, A>();
    return warp_online(t);
}

// True when the row has a finite maximum, i.e. it is neither poisoned nor all -inf.
template <typename T> __device__ __forceinline__ bool row_ok(T m) {
    return m == m && m != -pos_inf<T>();
}

// What every element of a row without a finite maximum becomes: NaN; in safe mode an all -inf row
// (a fully masked attention row) gives softmax 0, log-softmax -inf (the log of those zeros), and
// zeros for both backwards (callers pass log = 0 there). Same rule as the scalar reference.
template <typename T> __device__ __forceinline__ T row_fill(T m, int safe, int log) {
    if (m == m && safe) {
        return log ? -pos_inf<T>() : T(0);
    }
    return quiet_nan<T>();
}

// The forward output of one element once the row's m and s are known (m finite).
template <typename T, typename A> __device__ __forceinline__ T row_out(T x, T m, A s, int log) {
    return log ? (x - m) - (T)log_of(s) : (T)((A)exp_of(x - m) / s);
}

// One element's contribution to the backward reduction: sum(dy) for log-softmax, sum(y * dy) for softmax.
template <typename T, typename A> __device__ __forceinline__ A grad_term(T y, T g, int log) {
    return log ? (A)g : (A)y * (A)g;
}

// dx from the softmax output y, dy and the row reduction r.
template <typename T, typename A> __device__ __forceinline__ T grad_out(T y, T g, A r, int log) {
    return log ? (T)((A)g - (A)y * r) : (T)((A)y * ((A)g - r));
}

}  // namespace soma
