// Runs Soma's CUDA kernels on the CPU through cuda_host_shim.h and checks them: elementwise kernels
// against the shared per-element functions (bit for bit: the kernels add only plumbing), PReLU and
// every softmax kernel against float64 references with shared/semantics.md's row rules. Exit 0 when
// all pass. Built and run by run.sh (the CudaHostEmulationTest JUnit test calls it).
#include "cuda_host_shim.h"

#include "soma.cu"

#include <cstdio>
#include <limits>
#include <random>
#include <string>

static int failures = 0;
static int checks = 0;

static const double NaN = std::numeric_limits<double>::quiet_NaN();
static const double INF = std::numeric_limits<double>::infinity();

// shared/semantics.md rule 5 as dev.soma.fallback.Accuracy measures it: relative to
// max(|ref|, scale) above 1e-5, absolute below; NaN matches NaN, infinities exactly. `scale` is the
// size of the terms a result is the difference of (softmax backward, log-softmax), else 0.
template <typename T> static bool close_to(double ref, T got, double tol, double scale) {
    double g = (double)got;
    if (std::isnan(ref) || std::isnan(g)) return std::isnan(ref) && std::isnan(g);
    double expect = (double)(T)ref;
    if (std::isinf(expect) || std::isinf(g)) return expect == g;
    double mag = std::max(std::fabs(ref), std::fabs(scale));
    double err = mag > 1e-5 ? std::fabs(g - ref) / mag : std::fabs(g - ref);
    return err <= tol;
}

// float32 within 1e-6 (rule 5), float64 within 1e-10 (Accuracy.F64_TOLERANCE); 0 asks for identity.
template <typename T> static double tolerance() { return sizeof(T) == 4 ? 1e-6 : 1e-10; }

template <typename T>
static void expect_all(const std::string& what, const std::vector<double>& ref, const std::vector<T>& got, double tol,
                       const std::vector<double>* scale = nullptr) {
    checks++;
    for (size_t i = 0; i < ref.size(); i++) {
        if (!close_to<T>(ref[i], got[i], tol, scale ? (*scale)[i] : 0.0)) {
            if (failures++ < 20) {
                std::printf("FAIL %s: element %zu expected %.17g got %.17g\n", what.c_str(), i, ref[i], (double)got[i]);
            }
            return;
        }
    }
}

static const double EXTREMES[] = {NaN, INF, -INF, 0.0, -0.0, 1e-45, -1e-45, 88.7, -88.7, 709.8, -709.8,
                                  1e30, -1e30, 3.4e38, -3.4e38, 20.0, -3.0, 3.0, 6.0};

template <typename T> static std::vector<T> sample(size_t n, unsigned seed, double scale, bool extremes) {
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<double> u(-scale, scale);
    std::vector<T> v(n);
    for (size_t i = 0; i < n; i++) {
        v[i] = (T)(extremes && n >= 40 && i < sizeof(EXTREMES) / sizeof(double) ? EXTREMES[i] : u(g));
    }
    return v;
}

// ---- elementwise: kernels against the per-element functions, aligned and misaligned, tails ----
template <typename T>
static void check_elementwise(const char* name, void (*fwd)(const T*, T*, long long, T, T, T),
                              void (*bwd)(const T*, const T*, T*, long long, T, T, T), int op) {
    for (long long n : {1LL, 3LL, 7LL, 8LL, 33LL, 1025LL}) {
        for (int shift : {0, 1}) {  // shift 1 element: not 16-byte aligned, the scalar path
            std::vector<T> x = sample<T>(n + 1, (unsigned)n, 12, true), dy = sample<T>(n + 1, 7, 2, false);
            std::vector<T> y(n + 1, (T)-7777), dx(n + 1, (T)-7777);
            T a = (T)0.3, b = (T)1, t = (T)20;
            emu_launch(fwd, 2, 64, 0, x.data() + shift, y.data() + shift, n, a, b, t);
            emu_launch(bwd, 3, 32, 0, x.data() + shift, dy.data() + shift, dx.data() + shift, n, a, b, t);
            std::vector<double> ry(n), rdx(n);
            std::vector<T> gy(n), gdx(n);
            for (long long i = 0; i < n; i++) {
                ry[i] = (double)soma::op_fwd(op, x[i + shift], a, b, t);
                rdx[i] = (double)soma::op_bwd(op, x[i + shift], dy[i + shift], a, b, t);
                gy[i] = y[i + shift];
                gdx[i] = dx[i + shift];
            }
            std::string w = std::string(name) + (sizeof(T) == 4 ? " f32" : " f64") + " n=" + std::to_string(n) + " shift=" + std::to_string(shift);
            expect_all(w + " fwd", ry, gy, 0.0);
            expect_all(w + " bwd", rdx, gdx, 0.0);
            if (shift == 1 && (y[0] != (T)-7777 || dx[0] != (T)-7777)) {
                failures++;
                std::printf("FAIL %s: wrote before the start\n", w.c_str());
            }
        }
    }
}

// ---- PReLU against float64 ----
template <typename T>
static void check_prelu(void (*fwd)(const T*, const T*, T*, long long, long long, long long),
                        void (*dxk)(const T*, const T*, const T*, T*, long long, long long, long long),
                        void (*part)(const T*, const T*, double*, long long, long long, long long, long long),
                        void (*fin)(const double*, T*, long long, long long)) {
    // zero: the first weight is 0, whose slope at x = -inf (in the extremes) is 0, not 0 * inf = NaN.
    struct Shape { long long outer, channels, inner; bool one, zero; };
    for (Shape s : {Shape{1, 1, 1025, true, true}, Shape{4, 3, 1, false, true}, Shape{2, 5, 63, false, true},
                    Shape{3, 4, 700, true, false}, Shape{2, 3, 20000, false, false}}) {
        long long n = s.outer * s.channels * s.inner;
        long long wn = s.one ? 1 : s.channels;
        long long C = s.one ? 1 : s.channels, inner = s.one ? n : s.inner, outer = s.one ? 1 : s.outer;
        std::vector<T> x = sample<T>(n, (unsigned)n, 4, true), dy = sample<T>(n, 3, 1, false), w = sample<T>(wn, 9, 1, false);
        if (s.zero) {
            w[0] = 0;
        }
        std::vector<T> y(n, (T)-7777), dx(n, (T)-7777), dw(wn, (T)-7777);
        long long chunks = std::max(1LL, std::min(4LL, (outer * inner + 4999) / 5000));  // small chunks: several per channel
        std::vector<double> partial(C * chunks, -7777.0);
        emu_launch(fwd, 3, 64, 0, x.data(), w.data(), y.data(), n, C, inner);
        emu_launch(dxk, 2, 64, 0, x.data(), w.data(), dy.data(), dx.data(), n, C, inner);
        emu_launch(part, 2, 64, 0, x.data(), dy.data(), partial.data(), outer, C, inner, chunks);
        emu_launch(fin, 1, 32, 0, (const double*)partial.data(), dw.data(), C, chunks);
        std::vector<double> ry(n), rdx(n), rdw(wn, 0.0), sdw(wn, 0.0);
        for (long long i = 0; i < n; i++) {
            long long c = (i / inner) % C;
            double xv = x[i], g = dy[i], wc = w[c];
            ry[i] = xv > 0 ? xv : (wc == 0 && !std::isnan(xv) ? 0.0 : wc * xv);
            rdx[i] = std::isnan(xv) ? NaN : (xv > 0 ? g : wc * g);
            if (!(xv > 0)) {
                rdw[c] += xv * g;
                sdw[c] += std::fabs(xv * g);
            }
        }
        std::string what = std::string("prelu") + (sizeof(T) == 4 ? " f32" : " f64") + " n=" + std::to_string(n) + (s.one ? " w1" : " wC");
        expect_all(what + " fwd", ry, y, tolerance<T>());
        expect_all(what + " dx", rdx, dx, tolerance<T>());
        expect_all(what + " dw", rdw, dw, tolerance<T>(), &sdw);
    }
}

// ---- softmax against float64 with the row rules ----
static void softmax_reference(const std::vector<double>& x, const std::vector<double>& dy, long long outer,
                              long long len, long long inner, bool log, bool safe, std::vector<double>& y,
                              std::vector<double>& dx, std::vector<double>& yscale, std::vector<double>& dxscale) {
    y.assign(x.size(), 0);
    dx.assign(x.size(), 0);
    yscale.assign(x.size(), 0);
    dxscale.assign(x.size(), 0);
    for (long long o = 0; o < outer; o++) {
        for (long long i = 0; i < inner; i++) {
            auto at = [&](long long k) { return (o * len + k) * inner + i; };
            double m = -INF;
            bool poison = false;
            for (long long k = 0; k < len; k++) {
                double v = x[at(k)];
                if (std::isnan(v) || v == INF) poison = true;
                else m = std::max(m, v);
            }
            if (poison || m == -INF) {
                bool masked = !poison && safe;
                for (long long k = 0; k < len; k++) {
                    y[at(k)] = masked ? (log ? -INF : 0.0) : NaN;
                    dx[at(k)] = masked ? 0.0 : NaN;
                }
                continue;
            }
            double s = 0, maxdy = 0, sumabs = 0;
            for (long long k = 0; k < len; k++) {
                s += std::exp(x[at(k)] - m);
                maxdy = std::max(maxdy, std::fabs(dy[at(k)]));
                sumabs += std::fabs(dy[at(k)]);
            }
            double r = 0;
            for (long long k = 0; k < len; k++) {
                double p = std::exp(x[at(k)] - m) / s;
                y[at(k)] = log ? (x[at(k)] - m) - std::log(s) : p;
                yscale[at(k)] = log ? std::fabs(x[at(k)] - m) + std::log(s) : 0.0;
                r += log ? dy[at(k)] : p * dy[at(k)];
            }
            for (long long k = 0; k < len; k++) {
                double p = std::exp(x[at(k)] - m) / s;
                dx[at(k)] = log ? dy[at(k)] - p * r : p * (dy[at(k)] - r);
                // The scales of dev.soma.fallback.Accuracy#errorScaled.
                dxscale[at(k)] = log ? std::fabs(dy[at(k)]) + p * sumabs : p * maxdy;
            }
        }
    }
}

template <typename T> struct SoftmaxKernels {
    void (*warp[6])(const T*, T*, long long, int, int, int);
    void (*warp_bwd[6])(const T*, const T*, T*, long long, int, int, int);
    void (*block)(const T*, T*, long long, long long, int, int);
    void (*block_bwd)(const T*, const T*, T*, long long, long long, int, int);
    void (*online)(const T*, T*, long long, long long, int, int);
    void (*online_bwd)(const T*, const T*, T*, long long, long long, int, int);
    void (*strided)(const T*, T*, long long, long long, long long, int, int);
    void (*strided_bwd)(const T*, const T*, T*, long long, long long, long long, int, int);
};

// Rows that exercise the rules: random, NaN, +inf, all -inf, one finite among -inf, -inf at the ends.
template <typename T> static std::vector<T> softmax_rows(long long rows, long long len, long long inner, unsigned seed) {
    std::vector<T> x = sample<T>(rows * len * inner, seed, 20, false);
    auto set_row = [&](long long r, auto f) {
        long long o = r / inner, i = r % inner;
        for (long long k = 0; k < len; k++) x[(o * len + k) * inner + i] = (T)f(k);
    };
    long long nrows = rows * inner;
    if (nrows > 1) set_row(1, [&](long long k) { return k == len / 2 ? NaN : 1.0; });
    if (nrows > 2) set_row(2, [&](long long k) { return k == len - 1 ? INF : 0.5; });
    if (nrows > 3) set_row(3, [&](long long) { return -INF; });
    if (nrows > 4) set_row(4, [&](long long k) { return k == len / 3 ? 4.0 : -INF; });
    if (nrows > 5) set_row(5, [&](long long k) { return (k == 0 || k == len - 1) ? -INF : 1e4 + (double)(k % 7); });
    return x;
}

template <typename T> static void check_softmax(const SoftmaxKernels<T>& K) {
    const char* dt = sizeof(T) == 4 ? "f32" : "f64";
    int warp_max = sizeof(T) == 4 ? 1024 : 512;
    for (long long len : {1LL, 5LL, 31LL, 33LL, 100LL, 512LL, 1024LL, 1500LL, 5000LL}) {
        for (long long inner : {1LL, 3LL}) {
            long long rows = len >= 1500 ? 7 : 9;
            if (inner > 1 && len > 1500) continue;
            std::vector<T> x = softmax_rows<T>(rows, len, inner, (unsigned)(len * 3 + inner));
            std::vector<T> dy = sample<T>(x.size(), 5, 1, false);
            std::vector<double> xd(x.begin(), x.end()), dyd(dy.begin(), dy.end());
            for (int log = 0; log <= 1; log++) {
                for (int safe = 0; safe <= 1; safe++) {
                    std::vector<double> ry, rdx, sy, sdx;
                    softmax_reference(xd, dyd, rows, len, inner, log, safe, ry, rdx, sy, sdx);
                    for (int variant = 0; variant < 4; variant++) {
                        if (inner > 1 && variant != 3) continue;
                        if (variant == 0 && len > warp_max) continue;
                        if (variant == 1 && len * (long long)sizeof(T) > 47 * 1024) continue;
                        std::vector<T> y(x.size(), (T)-7777), dx(x.size(), (T)-7777);
                        const char* vn[] = {"warp", "block", "online", "strided"};
                        unsigned blocks = 2;
                        if (variant == 0) {
                            int k = 1;
                            while (32 * k < len) k *= 2;
                            int idx = 0;
                            while ((1 << idx) < k) idx++;
                            emu_launch(K.warp[idx], blocks, 64, 0, x.data(), y.data(), rows, (int)len, log, safe);
                            emu_launch(K.warp_bwd[idx], blocks, 64, 0, x.data(), dy.data(), dx.data(), rows, (int)len, log, safe);
                        } else if (variant == 1) {
                            unsigned th = len > 1000 ? 256 : 64;
                            emu_launch(K.block, blocks, th, (size_t)len * sizeof(T), x.data(), y.data(), rows, len, log, safe);
                            emu_launch(K.block_bwd, blocks, th, (size_t)len * sizeof(T), x.data(), dy.data(), dx.data(), rows, len, log, safe);
                        } else if (variant == 2) {
                            unsigned th = len > 1000 ? 256 : 96;
                            emu_launch(K.online, blocks, th, 0, x.data(), y.data(), rows, len, log, safe);
                            emu_launch(K.online_bwd, blocks, th, 0, x.data(), dy.data(), dx.data(), rows, len, log, safe);
                        } else {
                            emu_launch(K.strided, 2, 32, 0, x.data(), y.data(), rows, len, inner, log, safe);
                            emu_launch(K.strided_bwd, 2, 32, 0, x.data(), dy.data(), dx.data(), rows, len, inner, log, safe);
                        }
                        std::string w = std::string(log ? "log_softmax " : "softmax ") + vn[variant] + " " + dt +
                                        " len=" + std::to_string(len) + " inner=" + std::to_string(inner) + (safe ? " safe" : "");
                        expect_all(w + " fwd", ry, y, tolerance<T>(), &sy);
                        expect_all(w + " bwd", rdx, dx, tolerance<T>(), &sdx);
                    }
                }
            }
        }
    }
}

int main() {
#define EW(NAME, OPC)                                                                                   \
    check_elementwise<float>(#NAME, soma_fwd_f32_##NAME, soma_bwd_f32_##NAME, OPC);                      \
    check_elementwise<double>(#NAME, soma_fwd_f64_##NAME, soma_bwd_f64_##NAME, OPC);
    EW(sigmoid, SOMA_OP_SIGMOID) EW(tanh, SOMA_OP_TANH) EW(relu, SOMA_OP_RELU) EW(leaky_relu, SOMA_OP_LEAKY_RELU)
    EW(elu, SOMA_OP_ELU) EW(celu, SOMA_OP_CELU) EW(selu, SOMA_OP_SELU) EW(gelu, SOMA_OP_GELU)
    EW(gelu_tanh, SOMA_OP_GELU_TANH) EW(silu, SOMA_OP_SILU) EW(softplus, SOMA_OP_SOFTPLUS) EW(mish, SOMA_OP_MISH)
    EW(relu6, SOMA_OP_RELU6) EW(hardsigmoid, SOMA_OP_HARDSIGMOID) EW(hardswish, SOMA_OP_HARDSWISH)
#undef EW
    check_prelu<float>(soma_prelu_fwd_f32, soma_prelu_bwd_dx_f32, soma_prelu_dw_partial_f32, soma_prelu_dw_final_f32);
    check_prelu<double>(soma_prelu_fwd_f64, soma_prelu_bwd_dx_f64, soma_prelu_dw_partial_f64, soma_prelu_dw_final_f64);
    SoftmaxKernels<float> kf{{soma_softmax_warp_f32_k1, soma_softmax_warp_f32_k2, soma_softmax_warp_f32_k4, soma_softmax_warp_f32_k8,
                              soma_softmax_warp_f32_k16, soma_softmax_warp_f32_k32},
                             {soma_softmax_warp_bwd_f32_k1, soma_softmax_warp_bwd_f32_k2, soma_softmax_warp_bwd_f32_k4,
                              soma_softmax_warp_bwd_f32_k8, soma_softmax_warp_bwd_f32_k16, soma_softmax_warp_bwd_f32_k32},
                             soma_softmax_block_f32, soma_softmax_block_bwd_f32, soma_softmax_online_f32,
                             soma_softmax_online_bwd_f32, soma_softmax_strided_f32, soma_softmax_strided_bwd_f32};
    SoftmaxKernels<double> kd{{soma_softmax_warp_f64_k1, soma_softmax_warp_f64_k2, soma_softmax_warp_f64_k4, soma_softmax_warp_f64_k8,
                               soma_softmax_warp_f64_k16, nullptr},
                              {soma_softmax_warp_bwd_f64_k1, soma_softmax_warp_bwd_f64_k2, soma_softmax_warp_bwd_f64_k4,
                               soma_softmax_warp_bwd_f64_k8, soma_softmax_warp_bwd_f64_k16, nullptr},
                              soma_softmax_block_f64, soma_softmax_block_bwd_f64, soma_softmax_online_f64,
                              soma_softmax_online_bwd_f64, soma_softmax_strided_f64, soma_softmax_strided_bwd_f64};
    check_softmax(kf);
    check_softmax(kd);
    std::printf("kernel emulation: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
