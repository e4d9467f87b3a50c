// Just enough of CUDA to run Soma's kernels on the CPU, for checking their logic (indexing, tails,
// grid-stride loops, warp and block reductions, softmax row rules) on a machine without a GPU.
// Every emulated GPU thread is a std::thread; a block's threads share one std::barrier for
// __syncthreads and each warp one for shuffles; blocks run one after another, so function-level
// statics stand in for __shared__ arrays. Slow by design: small inputs only. It checks logic, not
// the GPU's arithmetic (the per-element math is the shared header's, run here as plain C++).
#pragma once
#include <algorithm>
#include <array>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) alignas(n)

struct alignas(16) float4 {
    float x, y, z, w;
};
struct alignas(16) double2 {
    double x, y;
};
inline float4 make_float4(float a, float b, float c, float d) { return float4{a, b, c, d}; }
inline double2 make_double2(double a, double b) { return double2{a, b}; }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
template <typename T> inline T min(T a, T b) { return a < b ? a : b; }

namespace emu {
struct Warp {
    std::barrier<> bar{32};
    std::array<std::array<unsigned char, 16>, 32> slot{};
};
struct Block {
    std::barrier<> bar;
    std::deque<Warp> warps;
    explicit Block(unsigned threads) : bar(threads), warps(threads / 32) {}
};
inline thread_local Block* block = nullptr;
inline std::vector<unsigned char> dynamic_smem;
}  // namespace emu

#define SOMA_DYNAMIC_SHARED(name) unsigned char* name = emu::dynamic_smem.data()

inline void __syncthreads() { emu::block->bar.arrive_and_wait(); }

template <typename T> T __shfl_xor_sync(unsigned, T v, int offset) {
    static_assert(sizeof(T) <= 16, "shuffle of a large type");
    emu::Warp& w = emu::block->warps[threadIdx.x / 32];
    unsigned lane = threadIdx.x % 32;
    std::memcpy(w.slot[lane].data(), &v, sizeof(T));
    w.bar.arrive_and_wait();
    T r;
    std::memcpy(&r, w.slot[lane ^ (unsigned)offset].data(), sizeof(T));
    w.bar.arrive_and_wait();
    return r;
}

// Runs kernel<<<grid, threads, smem>>>(args...) on CPU threads, block after block.
template <typename... P, typename... A>
void emu_launch(void (*kernel)(P...), unsigned grid, unsigned threads, size_t smem, A... args) {
    emu::dynamic_smem.assign(smem + 16, 0xA5);  // poisoned, like real uninitialised shared memory
    for (unsigned b = 0; b < grid; b++) {
        emu::Block blk(threads);
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < threads; t++) {
            ts.emplace_back([&, t] {
                threadIdx.x = t;
                blockIdx.x = b;
                blockDim.x = threads;
                gridDim.x = grid;
                emu::block = &blk;
                kernel(args...);
                blk.warps[t / 32].bar.arrive_and_drop();
                blk.bar.arrive_and_drop();
            });
        }
        for (auto& th : ts) th.join();
    }
}
