/*
 * soma_cl_check: builds every Soma OpenCL program and runs every kernel at small sizes, checking
 * the results against the same math evaluated on the host in double (soma_math.h as plain C).
 * Meant to run under oclgrind (opencl/oclgrind-check.sh), where a JVM would be slow, but works on
 * any OpenCL device. Modes:
 *   soma_cl_check check <opencl-dir>     every kernel, small sizes, every softmax variant; exit 1 on a mismatch
 *   soma_cl_check accuracy <opencl-dir>  float32 formulas (built with -DSOMA_F32_NO_F64) against the
 *                                        float64 kernel on a dense sweep: the figures behind soma_f32_*_via_f64
 * Environment: SOMA_CL_DEVICE (substring of the device name; default the first device);
 * SOMA_CL_BUILD_OPTIONS (extra compiler options); SOMA_CL_F32_ONLY=1 builds with -DSOMA_NO_FP64,
 * the code a device without cl_khr_fp64 runs: float accumulators, float formulas throughout (held
 * to 2e-3, the documented worst case of those formulas), and no float64 kernels.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soma_math.h" /* plain C: the host-side double reference */

static cl_context ctx;
static cl_command_queue queue;
static cl_device_id dev;
static int failures;
static int f32_only; /* SOMA_CL_F32_ONLY: no fp64 anywhere */
static double f32_tol = 1e-6;

#define CHECK(call)                                                                       \
    do {                                                                                  \
        cl_int err_ = (call);                                                             \
        if (err_ != CL_SUCCESS) {                                                         \
            fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, err_);  \
            exit(2);                                                                      \
        }                                                                                 \
    } while (0)

static char* read_file(const char* path) {
    FILE* f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) {
        exit(2);
    }
    s[n] = 0;
    fclose(f);
    return s;
}

static cl_program build(const char* dir, const char* file, const char* extra) {
    char path[4096], opts[8192];
    snprintf(path, sizeof path, "%s/kernels/%s", dir, file);
    char* src = read_file(path);
    cl_int err;
    cl_program p = clCreateProgramWithSource(ctx, 1, (const char**)&src, NULL, &err);
    CHECK(err);
    const char* env_opts = getenv("SOMA_CL_BUILD_OPTIONS"); /* e.g. -cl-opt-disable under oclgrind */
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 -I %s/include -I %s/kernels %s %s %s", dir, dir, extra,
             env_opts ? env_opts : "", f32_only ? "-DSOMA_NO_FP64" : "");
    err = clBuildProgram(p, 1, &dev, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t n;
        clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
        char* log = malloc(n + 1);
        clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL);
        log[n] = 0;
        fprintf(stderr, "build of %s failed (%d):\n%s\n", file, err, log);
        exit(2);
    }
    free(src);
    return p;
}

static cl_mem buf(size_t bytes, const void* host) {
    cl_int err;
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &err);
    CHECK(err);
    if (host && bytes) {
        CHECK(clEnqueueWriteBuffer(queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    }
    return m;
}

/*
 * Buffers are released only at exit: Oclgrind 21.10's --uninitialized shadow memory is keyed by
 * buffer slot and keeps a released buffer's size, so a larger buffer created afterwards reads as
 * partly uninitialised (a false report). Holding them also keeps the check honest about leaks:
 * everything is released, once, by release_all().
 */
static cl_mem held[4096];
static int nheld;

static void release_later(cl_mem m) {
    if (nheld == (int)(sizeof held / sizeof held[0])) {
        fprintf(stderr, "too many buffers held\n");
        exit(2);
    }
    held[nheld++] = m;
}

static void release_all(void) {
    for (int i = 0; i < nheld; i++) {
        CHECK(clReleaseMemObject(held[i]));
    }
    nheld = 0;
}

static void get(cl_mem m, void* host, size_t bytes) {
    if (bytes) {
        CHECK(clEnqueueReadBuffer(queue, m, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    }
}

static void launch(cl_kernel k, size_t global, size_t local) {
    CHECK(clEnqueueNDRangeKernel(queue, k, 1, NULL, &global, &local, 0, NULL, NULL));
}

#define ARG(k, i, v) CHECK(clSetKernelArg((k), (i), sizeof(v), &(v)))
#define LOCAL(k, i, bytes) CHECK(clSetKernelArg((k), (i), (bytes), NULL))

/* Relative where |ref| > 1e-5, absolute below; equal NaNs and equal infinities agree. */
static double err_of(double got, double ref) {
    if (isnan(ref) || isnan(got)) {
        return isnan(ref) && isnan(got) ? 0 : INFINITY;
    }
    if (isinf(ref) || isinf(got)) {
        return got == ref ? 0 : INFINITY;
    }
    double d = fabs(got - ref);
    return fabs(ref) > 1e-5 ? d / fabs(ref) : d;
}

static void expect(const char* what, long i, double got, double ref, double tol) {
    double e = err_of(got, ref);
    if (!(e <= tol)) {
        if (failures < 20) {
            fprintf(stderr, "MISMATCH %s [%ld]: got %.9g want %.9g (err %.3g)\n", what, i, got, ref, e);
        }
        failures++;
    }
}

static const double specials[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e-40, -1e-40, 88.7, -88.7, 100, -100,
                                  3, -3, 6, 20, 1e30, -1e30, 0.5, -0.75, 1e-7};
#define NSPECIAL (sizeof specials / sizeof specials[0])

static double input(long i, unsigned* seed) {
    if (i < (long)NSPECIAL) {
        return specials[i];
    }
    *seed = *seed * 1664525u + 1013904223u;
    return ((*seed >> 8) / 16777216.0 - 0.5) * 24.0;
}

/* ---- check mode ----------------------------------------------------------------------------- */

/* only_op < 0: every op (the op code is a kernel argument); else that op alone (its program was
 * built with -DSOMA_FIXED_OP=only_op, as the Java runtime builds them). */
static void check_elementwise(cl_program p, int f64, size_t local, int only_op) {
    const char* fwd = f64 ? "soma_fwd_f64" : "soma_fwd_f32";
    const char* bwd = f64 ? "soma_bwd_f64" : "soma_bwd_f32";
    cl_int err;
    cl_kernel kf = clCreateKernel(p, fwd, &err);
    CHECK(err);
    cl_kernel kb = clCreateKernel(p, bwd, &err);
    CHECK(err);
    const long n = 37;
    size_t es = f64 ? 8 : 4;
    for (int op = 0; op < SOMA_OP_SOFTMAX; op++) {
        if (op == SOMA_OP_PRELU || (only_op >= 0 && op != only_op)) {
            continue;
        }
        double alpha = op == SOMA_OP_CELU || op == SOMA_OP_ELU ? 1.0 : 0.01, beta = 1.0, thr = 20.0;
        unsigned seed = 7u + (unsigned)op;
        void* hx = malloc(n * es);
        void* hdy = malloc(n * es);
        void* hy = malloc(n * es);
        for (long i = 0; i < n; i++) {
            double v = input(i, &seed), g = 0.25 + (i % 5) * 0.5;
            if (f64) {
                ((double*)hx)[i] = v;
                ((double*)hdy)[i] = g;
            } else {
                ((float*)hx)[i] = (float)v;
                ((float*)hdy)[i] = (float)g;
            }
        }
        cl_mem bx = buf(n * es, hx), bdy = buf(n * es, hdy), by = buf(n * es, NULL);
        cl_ulong un = (cl_ulong)n;
        float af = (float)alpha, bf = (float)beta, tf = (float)thr;
        ARG(kf, 0, bx);
        ARG(kf, 1, by);
        ARG(kf, 3, un);
        ARG(kf, 4, op);
        ARG(kb, 0, bx);
        ARG(kb, 1, bdy);
        ARG(kb, 2, by);
        ARG(kb, 4, un);
        ARG(kb, 5, op);
        if (f64) {
            ARG(kf, 5, alpha);
            ARG(kf, 6, beta);
            ARG(kf, 7, thr);
            ARG(kb, 6, alpha);
            ARG(kb, 7, beta);
            ARG(kb, 8, thr);
        } else {
            ARG(kf, 5, af);
            ARG(kf, 6, bf);
            ARG(kf, 7, tf);
            ARG(kb, 6, af);
            ARG(kb, 7, bf);
            ARG(kb, 8, tf);
        }
        for (int dir = 0; dir < 2; dir++) {
            /* in launches of `local` work-items from base 0, local, ...: the last one runs past n */
            cl_kernel k = dir ? kb : kf;
            for (cl_ulong base = 0; base < un; base += local) {
                ARG(k, dir ? 3 : 2, base);
                launch(k, local, local);
            }
            get(by, hy, n * es);
            for (long i = 0; i < n; i++) {
                double x = f64 ? ((double*)hx)[i] : ((float*)hx)[i];
                double g = f64 ? ((double*)hdy)[i] : ((float*)hdy)[i];
                double ref = dir ? soma_bwd_d(op, x, g, alpha, beta, thr) : soma_fwd_d(op, x, alpha, beta, thr);
                double got = f64 ? ((double*)hy)[i] : ((float*)hy)[i];
                if (!f64 && fabs(ref) > 3.4e38 && !isinf(ref)) {
                    ref = ref > 0 ? INFINITY : -INFINITY;
                }
                char what[64];
                snprintf(what, sizeof what, "%s op %d", dir ? bwd : fwd, op);
                expect(what, i, got, ref, f64 ? 1e-12 : f32_tol);
            }
        }
        release_later(bx);
        release_later(bdy);
        release_later(by);
        free(hx);
        free(hdy);
        free(hy);
    }
    cl_kernel kc = NULL;
    if (!f64) {
        kc = clCreateKernel(p, "soma_copy_f32", &err);
        CHECK(err);
        float hx[19], hy[19];
        for (int i = 0; i < 19; i++) {
            hx[i] = (float)i;
        }
        cl_mem bx = buf(sizeof hx, hx), by = buf(sizeof hy, NULL);
        cl_ulong un = 19;
        ARG(kc, 0, bx);
        ARG(kc, 1, by);
        ARG(kc, 3, un);
        for (cl_ulong base = 0; base < un; base += local) {
            ARG(kc, 2, base);
            launch(kc, local, local);
        }
        get(by, hy, sizeof hy);
        for (int i = 0; i < 19; i++) {
            expect("soma_copy_f32", i, hy[i], hx[i], 0);
        }
        release_later(bx);
        release_later(by);
        clReleaseKernel(kc);
    }
    clReleaseKernel(kf);
    clReleaseKernel(kb);
}

static double host_get(const void* a, int f64, long i) {
    return f64 ? ((const double*)a)[i] : ((const float*)a)[i];
}

static void host_set(void* a, int f64, long i, double v) {
    if (f64) {
        ((double*)a)[i] = v;
    } else {
        ((float*)a)[i] = (float)v;
    }
}

static void check_prelu(cl_program p, int f64, size_t local) {
    const char* sfx = f64 ? "f64" : "f32";
    size_t es = f64 ? 8 : 4, as = f64 || !f32_only ? 8 : 4; /* the f32 accumulator is double with fp64 */
    char name[64];
    cl_int err;
    const long outer = 2, C = 3, inner = 5, n = outer * C * inner;
    for (int wc = 1; wc <= C; wc += C - 1) {
        cl_ulong chans = (cl_ulong)(wc == 1 ? 1 : C), inn = (cl_ulong)(wc == 1 ? n : inner);
        cl_ulong out = (cl_ulong)(wc == 1 ? 1 : outer), un = (cl_ulong)n, chunks = 2;
        void* hx = malloc(n * es);
        void* hdy = malloc(n * es);
        void* hw = malloc(C * es);
        void* hy = malloc(n * es);
        void* hdw = malloc(C * es);
        unsigned seed = 3;
        for (long i = 0; i < n; i++) {
            host_set(hx, f64, i, input(i + 3, &seed));
            host_set(hdy, f64, i, 0.5 + (i % 3));
        }
        for (long c = 0; c < C; c++) {
            host_set(hw, f64, c, 0.1 * (c + 1));
        }
        cl_mem bx = buf(n * es, hx), bdy = buf(n * es, hdy), bw = buf(wc * es, hw), by = buf(n * es, NULL);
        cl_mem bdw = buf(wc * es, NULL), bpart = buf(chans * chunks * as, NULL);
        snprintf(name, sizeof name, "prelu_fwd_%s", sfx);
        cl_kernel k = clCreateKernel(p, name, &err);
        CHECK(err);
        cl_ulong zero = 0;
        ARG(k, 0, bx);
        ARG(k, 1, bw);
        ARG(k, 2, by);
        ARG(k, 3, zero);
        ARG(k, 4, un);
        ARG(k, 5, chans);
        ARG(k, 6, inn);
        launch(k, local * ((un + local - 1) / local), local);
        get(by, hy, n * es);
        for (long i = 0; i < n; i++) {
            double x = host_get(hx, f64, i), w = host_get(hw, f64, wc == 1 ? 0 : (i / inner) % C);
            expect(name, i, host_get(hy, f64, i), x > 0 ? x : w * x, 1e-7);
        }
        clFinish(queue);
        clReleaseKernel(k);
        snprintf(name, sizeof name, "prelu_bwd_dx_%s", sfx);
        k = clCreateKernel(p, name, &err);
        CHECK(err);
        ARG(k, 0, bx);
        ARG(k, 1, bw);
        ARG(k, 2, bdy);
        ARG(k, 3, by);
        ARG(k, 4, zero);
        ARG(k, 5, un);
        ARG(k, 6, chans);
        ARG(k, 7, inn);
        launch(k, local * ((un + local - 1) / local), local);
        get(by, hy, n * es);
        for (long i = 0; i < n; i++) {
            double x = host_get(hx, f64, i), w = host_get(hw, f64, wc == 1 ? 0 : (i / inner) % C);
            double ref = isnan(x) ? x : (x > 0 ? 1 : w) * host_get(hdy, f64, i);
            expect(name, i, host_get(hy, f64, i), ref, 1e-7);
        }
        clFinish(queue);
        clReleaseKernel(k);
        snprintf(name, sizeof name, "prelu_dw_partial_%s", sfx);
        k = clCreateKernel(p, name, &err);
        CHECK(err);
        ARG(k, 0, bx);
        ARG(k, 1, bdy);
        ARG(k, 2, bpart);
        ARG(k, 3, out);
        ARG(k, 4, chans);
        ARG(k, 5, inn);
        ARG(k, 6, chunks);
        LOCAL(k, 7, local * as);
        launch(k, local * chans * chunks, local);
        clFinish(queue);
        clReleaseKernel(k);
        snprintf(name, sizeof name, "prelu_dw_final_%s", sfx);
        k = clCreateKernel(p, name, &err);
        CHECK(err);
        ARG(k, 0, bpart);
        ARG(k, 1, bdw);
        ARG(k, 2, chunks);
        LOCAL(k, 3, local * as);
        launch(k, local * chans, local);
        get(bdw, hdw, wc * es);
        for (long c = 0; c < wc; c++) {
            double s = 0;
            for (long i = 0; i < n; i++) {
                if (wc == 1 || (i / inner) % C == c) {
                    double x = host_get(hx, f64, i);
                    s += x > 0 ? 0 : x * host_get(hdy, f64, i);
                }
            }
            expect(name, c, host_get(hdw, f64, c), s, f64 ? 1e-6 : f32_tol);
        }
        clFinish(queue);
        clReleaseKernel(k);
        release_later(bx);
        release_later(bdy);
        release_later(bw);
        release_later(by);
        release_later(bdw);
        release_later(bpart);
        free(hx);
        free(hdy);
        free(hw);
        free(hy);
        free(hdw);
    }
}

/* Host softmax of one row in double (the reference for the check). */
static void ref_softmax_row(const double* x, const double* dy, double* out, long len, int log_mode, int safe,
                            int backward) {
    double m = -INFINITY;
    for (long k = 0; k < len; k++) {
        m = (x[k] > m || isnan(x[k])) ? x[k] : m;
        if (isnan(m)) {
            break;
        }
    }
    if (safe && m == -INFINITY) {
        for (long k = 0; k < len; k++) {
            out[k] = log_mode && !backward ? -INFINITY : 0;
        }
        return;
    }
    double s = 0;
    for (long k = 0; k < len; k++) {
        s += exp(x[k] - m);
    }
    double dot = 0;
    for (long k = 0; k < len; k++) {
        dot += log_mode ? dy[k] : exp(x[k] - m) / s * dy[k];
    }
    for (long k = 0; k < len; k++) {
        double p = exp(x[k] - m) / s;
        if (!backward) {
            out[k] = log_mode ? x[k] - m - log(s) : p;
        } else {
            out[k] = log_mode ? dy[k] - p * dot : p * (dy[k] - dot);
        }
    }
}

static void check_softmax(cl_program p, int f64, size_t local) {
    const char* sfx = f64 ? "f64" : "f32";
    size_t es = f64 ? 8 : 4, as = f64 || !f32_only ? 8 : 4;
    char name[64];
    cl_int err;
    /* (outer, len, inner) shapes: inner > 1 rows, a row longer than the group, a NaN row, +inf, all -inf. */
    const long shapes[][3] = {{3, 5, 1}, {2, 4, 3}, {1, 45, 1}, {4, 1, 2}};
    for (unsigned sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        long outer = shapes[sh][0], len = shapes[sh][1], inner = shapes[sh][2], n = outer * len * inner;
        void* hx = malloc(n * es);
        void* hdy = malloc(n * es);
        void* hy = malloc(n * es);
        unsigned seed = 11 + sh;
        for (long i = 0; i < n; i++) {
            host_set(hx, f64, i, input(i + (long)NSPECIAL, &seed));
            host_set(hdy, f64, i, 0.3 * (i % 7) - 1);
        }
        if (sh == 0) { /* row 0: a NaN, row 1: +inf, row 2: all -inf */
            host_set(hx, f64, 2, NAN);
            host_set(hx, f64, 5 + 1, INFINITY);
            for (long k = 0; k < len; k++) {
                host_set(hx, f64, 10 + k, -INFINITY);
            }
        }
        cl_ulong uo = (cl_ulong)outer, ul = (cl_ulong)len, ui = (cl_ulong)inner;
        cl_mem bx = buf(n * es, hx), bdy = buf(n * es, hdy), by = buf(n * es, NULL);
        cl_ulong chunks = 3, chunk_len = (ul + chunks - 1) / chunks;
        cl_ulong rows = uo * ui;
        cl_mem bpm = buf(rows * chunks * as, NULL), bps = buf(rows * chunks * as, NULL);
        cl_mem bpd = buf(rows * chunks * as, NULL);
        for (int mode = 0; mode < 8; mode++) {
            int log_mode = mode & 1, safe = (mode >> 1) & 1, backward = (mode >> 2) & 1;
            for (int variant = 0; variant < 3; variant++) {
                const char* vname = variant == 0 ? "strided" : (variant == 1 ? "group" : "split");
                if (variant < 2) {
                    snprintf(name, sizeof name, "softmax_%s_%s_%s", vname, backward ? "bwd" : "fwd", sfx);
                    cl_kernel k = clCreateKernel(p, name, &err);
                    CHECK(err);
                    int a = 0;
                    ARG(k, a++, bx);
                    if (backward) {
                        ARG(k, a++, bdy);
                    }
                    ARG(k, a++, by);
                    if (variant == 0) {
                        cl_ulong first = 0;
                        ARG(k, a++, first);
                    }
                    ARG(k, a++, uo);
                    ARG(k, a++, ul);
                    ARG(k, a++, ui);
                    ARG(k, a++, log_mode);
                    ARG(k, a++, safe);
                    if (variant == 1) {
                        LOCAL(k, a++, local * as);
                        launch(k, local * 2, local);
                    } else {
                        launch(k, local * ((rows + local - 1) / local), local);
                    }
                    clFinish(queue);
                    clReleaseKernel(k);
                } else {
                    snprintf(name, sizeof name, "softmax_split_stats_%s", sfx);
                    cl_kernel k = clCreateKernel(p, name, &err);
                    CHECK(err);
                    ARG(k, 0, bx);
                    ARG(k, 1, bpm);
                    ARG(k, 2, bps);
                    ARG(k, 3, uo);
                    ARG(k, 4, ul);
                    ARG(k, 5, ui);
                    ARG(k, 6, chunks);
                    ARG(k, 7, chunk_len);
                    LOCAL(k, 8, local * as);
                    launch(k, local * rows * chunks, local);
                    clFinish(queue);
                    clReleaseKernel(k);
                    if (!backward) {
                        snprintf(name, sizeof name, "softmax_split_fwd_%s", sfx);
                        k = clCreateKernel(p, name, &err);
                        CHECK(err);
                        int a = 0;
                        ARG(k, a++, bx);
                        ARG(k, a++, by);
                        ARG(k, a++, bpm);
                        ARG(k, a++, bps);
                        ARG(k, a++, uo);
                        ARG(k, a++, ul);
                        ARG(k, a++, ui);
                        ARG(k, a++, chunks);
                        ARG(k, a++, chunk_len);
                        ARG(k, a++, log_mode);
                        ARG(k, a++, safe);
                        LOCAL(k, a++, local * as);
                        launch(k, local * rows * chunks, local);
                        clFinish(queue);
                        clReleaseKernel(k);
                    } else {
                        snprintf(name, sizeof name, "softmax_split_dot_%s", sfx);
                        k = clCreateKernel(p, name, &err);
                        CHECK(err);
                        int a = 0;
                        ARG(k, a++, bx);
                        ARG(k, a++, bdy);
                        ARG(k, a++, bpm);
                        ARG(k, a++, bps);
                        ARG(k, a++, bpd);
                        ARG(k, a++, uo);
                        ARG(k, a++, ul);
                        ARG(k, a++, ui);
                        ARG(k, a++, chunks);
                        ARG(k, a++, chunk_len);
                        ARG(k, a++, log_mode);
                        LOCAL(k, a++, local * as);
                        launch(k, local * rows * chunks, local);
                        clFinish(queue);
                        clReleaseKernel(k);
                        snprintf(name, sizeof name, "softmax_split_bwd_%s", sfx);
                        k = clCreateKernel(p, name, &err);
                        CHECK(err);
                        a = 0;
                        ARG(k, a++, bx);
                        ARG(k, a++, bdy);
                        ARG(k, a++, by);
                        ARG(k, a++, bpm);
                        ARG(k, a++, bps);
                        ARG(k, a++, bpd);
                        ARG(k, a++, uo);
                        ARG(k, a++, ul);
                        ARG(k, a++, ui);
                        ARG(k, a++, chunks);
                        ARG(k, a++, chunk_len);
                        ARG(k, a++, log_mode);
                        ARG(k, a++, safe);
                        LOCAL(k, a++, local * as);
                        launch(k, local * rows * chunks, local);
                        clFinish(queue);
                        clReleaseKernel(k);
                    }
                }
                get(by, hy, n * es);
                double* rx = malloc(len * sizeof(double));
                double* rdy = malloc(len * sizeof(double));
                double* rout = malloc(len * sizeof(double));
                for (long o = 0; o < outer; o++) {
                    for (long i = 0; i < inner; i++) {
                        for (long k2 = 0; k2 < len; k2++) {
                            rx[k2] = host_get(hx, f64, (o * len + k2) * inner + i);
                            rdy[k2] = host_get(hdy, f64, (o * len + k2) * inner + i);
                        }
                        ref_softmax_row(rx, rdy, rout, len, log_mode, safe, backward);
                        for (long k2 = 0; k2 < len; k2++) {
                            char what[96];
                            snprintf(what, sizeof what, "softmax %s log=%d safe=%d bwd=%d %s shape#%u", vname,
                                     log_mode, safe, backward, sfx, sh);
                            long idx = (o * len + k2) * inner + i;
                            expect(what, idx, host_get(hy, f64, idx), rout[k2], f64 ? 1e-12 : f32_tol);
                        }
                    }
                }
                free(rx);
                free(rdy);
                free(rout);
            }
        }
        release_later(bx);
        release_later(bdy);
        release_later(by);
        release_later(bpm);
        release_later(bps);
        release_later(bpd);
        free(hx);
        free(hdy);
        free(hy);
    }
}

/* ---- accuracy mode ------------------------------------------------------------------------ */

static void accuracy(const char* dir) {
    const char* f32_opts = getenv("SOMA_F32_SHIPPED") ? "" : "-DSOMA_F32_NO_F64";
    cl_program pf = build(dir, "elementwise.cl", f32_opts);
    cl_program pd = build(dir, "elementwise.cl", "");
    const long n = 1 << 22;
    float* xf = malloc(n * 4);
    float* yf = malloc(n * 4);
    float* dyf = malloc(n * 4);
    double* xd = malloc(n * 8);
    double* dyd = malloc(n * 8);
    double* yd = malloc(n * 8);
    unsigned seed = 1;
    for (long i = 0; i < n; i++) {
        /* half a dense sweep of [-30, 30], half log-spaced magnitudes up to 1e4 */
        double v;
        if (i < n / 2) {
            v = -30.0 + 60.0 * (double)i / (n / 2);
        } else {
            seed = seed * 1664525u + 1013904223u;
            double mag = pow(10.0, ((seed >> 8) / 16777216.0) * 12.0 - 8.0);
            v = (i & 1) ? mag : -mag;
        }
        xf[i] = (float)v;
        xd[i] = xf[i];
        dyf[i] = 1.0f;
        dyd[i] = 1.0;
    }
    cl_int err;
    cl_mem bxf = buf(n * 4, xf), byf = buf(n * 4, NULL), bdyf = buf(n * 4, dyf);
    cl_mem bxd = buf(n * 8, xd), byd = buf(n * 8, NULL), bdyd = buf(n * 8, dyd);
    release_later(bxf);
    release_later(byf);
    release_later(bdyf);
    release_later(bxd);
    release_later(byd);
    release_later(bdyd);
    printf("%-12s %14s %14s   (float formulas vs the float64 kernel; max error, worst x)\n", "op", "fwd", "bwd");
    for (int op = 0; op < SOMA_OP_SOFTMAX; op++) {
        if (op == SOMA_OP_PRELU) {
            continue;
        }
        double alphas[] = {op == SOMA_OP_LEAKY_RELU ? 0.01 : 1.0, 0.3};
        for (int ai = 0; ai < 2; ai++) {
            if (ai == 1 && op != SOMA_OP_CELU && op != SOMA_OP_ELU && op != SOMA_OP_SOFTPLUS) {
                continue;
            }
            double alpha = alphas[ai], beta = op == SOMA_OP_SOFTPLUS ? alphas[ai] : 1.0, thr = 20.0;
            float af = (float)alpha, bf = (float)beta, tf = (float)thr;
            double worst[2] = {0, 0}, at[2] = {0, 0};
            for (int dir = 0; dir < 2; dir++) {
                cl_kernel kf = clCreateKernel(pf, dir ? "soma_bwd_f32" : "soma_fwd_f32", &err);
                CHECK(err);
                cl_kernel kd = clCreateKernel(pd, dir ? "soma_bwd_f64" : "soma_fwd_f64", &err);
                CHECK(err);
                cl_ulong un = (cl_ulong)n, zero = 0;
                int a = 0;
                ARG(kf, a++, bxf);
                if (dir) {
                    ARG(kf, a++, bdyf);
                }
                ARG(kf, a++, byf);
                ARG(kf, a++, zero);
                ARG(kf, a++, un);
                ARG(kf, a++, op);
                ARG(kf, a++, af);
                ARG(kf, a++, bf);
                ARG(kf, a++, tf);
                a = 0;
                ARG(kd, a++, bxd);
                if (dir) {
                    ARG(kd, a++, bdyd);
                }
                ARG(kd, a++, byd);
                ARG(kd, a++, zero);
                ARG(kd, a++, un);
                ARG(kd, a++, op);
                ARG(kd, a++, alpha);
                ARG(kd, a++, beta);
                ARG(kd, a++, thr);
                launch(kf, (size_t)n, 64);
                launch(kd, (size_t)n, 64);
                get(byf, yf, n * 4);
                get(byd, yd, n * 8);
                for (long i = 0; i < n; i++) {
                    double ref = yd[i];
                    if (fabs(ref) > 3.4028234663852886e38 && !isinf(ref)) {
                        ref = ref > 0 ? INFINITY : -INFINITY;
                    }
                    double e = err_of(yf[i], ref);
                    if (e > worst[dir]) {
                        worst[dir] = e;
                        at[dir] = xd[i];
                    }
                }
                clReleaseKernel(kf);
                clReleaseKernel(kd);
            }
            printf("op %2d a=%-4g %9.3g@%-9.4g %9.3g@%-9.4g\n", op, alpha, worst[0], at[0], worst[1], at[1]);
        }
    }
}

/* multi.cl: two tensors (13 and 17 elements) at different input and output offsets in one launch,
 * one work-group per table entry; elements outside the table's output ranges keep their poison. */
static void check_multi(cl_program p, int f64, size_t local) {
    cl_int err;
    cl_kernel kf = clCreateKernel(p, f64 ? "soma_multi_fwd_f64" : "soma_multi_fwd_f32", &err);
    CHECK(err);
    cl_kernel kb = clCreateKernel(p, f64 ? "soma_multi_bwd_f64" : "soma_multi_bwd_f32", &err);
    CHECK(err);
    const long n = 64;
    size_t es = f64 ? 8 : 4;
    cl_ulong table[6] = {0, 5, 13, 20, 40, 17}; /* (x offset, y offset, length) per entry */
    const double poison = -7.25;
    for (int op = 0; op < SOMA_OP_SOFTMAX; op++) {
        if (op == SOMA_OP_PRELU) {
            continue;
        }
        double alpha = op == SOMA_OP_CELU || op == SOMA_OP_ELU ? 1.0 : 0.01, beta = 1.0, thr = 20.0;
        float af = (float)alpha, bf = (float)beta, tf = (float)thr;
        unsigned seed = 11u + (unsigned)op;
        void* hx = malloc(n * es);
        void* hdy = malloc(n * es);
        void* hy = malloc(n * es);
        for (long i = 0; i < n; i++) {
            double v = input(i, &seed), g = 0.5 + (i % 3) * 0.25;
            if (f64) {
                ((double*)hx)[i] = v;
                ((double*)hdy)[i] = g;
                ((double*)hy)[i] = poison;
            } else {
                ((float*)hx)[i] = (float)v;
                ((float*)hdy)[i] = (float)g;
                ((float*)hy)[i] = (float)poison;
            }
        }
        for (int dir = 0; dir < 2; dir++) {
            cl_mem bx = buf(n * es, hx), bdy = buf(n * es, hdy), by = buf(n * es, hy), bt = buf(sizeof table, table);
            cl_kernel k = dir ? kb : kf;
            int a = 0;
            ARG(k, a++, bx);
            if (dir) {
                ARG(k, a++, bdy);
            }
            ARG(k, a++, by);
            ARG(k, a++, bt);
            cl_ulong base = 0, blocks = 2;
            ARG(k, a++, base);
            ARG(k, a++, blocks);
            ARG(k, a++, op);
            if (f64) {
                ARG(k, a++, alpha);
                ARG(k, a++, beta);
                ARG(k, a++, thr);
            } else {
                ARG(k, a++, af);
                ARG(k, a++, bf);
                ARG(k, a++, tf);
            }
            launch(k, 2 * local, local);
            void* out = malloc(n * es);
            get(by, out, n * es);
            for (long i = 0; i < n; i++) {
                double got = f64 ? ((double*)out)[i] : ((float*)out)[i];
                double ref = poison;
                for (int e = 0; e < 2; e++) {
                    long yo = (long)table[3 * e + 1], xo = (long)table[3 * e], len = (long)table[3 * e + 2];
                    if (i >= yo && i < yo + len) {
                        long j = xo + (i - yo);
                        double x = f64 ? ((double*)hx)[j] : ((float*)hx)[j];
                        double g = f64 ? ((double*)hdy)[j] : ((float*)hdy)[j];
                        ref = dir ? soma_bwd_d(op, x, g, alpha, beta, thr) : soma_fwd_d(op, x, alpha, beta, thr);
                        if (!f64 && fabs(ref) > 3.4e38 && !isinf(ref)) {
                            ref = ref > 0 ? INFINITY : -INFINITY;
                        }
                    }
                }
                char what[64];
                snprintf(what, sizeof what, "multi %s op %d", dir ? "bwd" : "fwd", op);
                expect(what, i, got, ref, f64 ? 1e-12 : f32_tol);
            }
            free(out);
            release_later(bx);
            release_later(bdy);
            release_later(by);
            release_later(bt);
        }
        free(hx);
        free(hdy);
        free(hy);
    }
    clReleaseKernel(kf);
    clReleaseKernel(kb);
}

/* softmax_long.cl: one row of 50 split into pieces of 16, 16, 18; stats per piece, host combine,
 * apply per piece; against the row's softmax and log-softmax computed on the host in double. */
static void check_softmax_long(cl_program p, int f64, size_t local) {
    cl_int err;
    cl_kernel ks = clCreateKernel(p, f64 ? "softmax_piece_stats_f64" : "softmax_piece_stats_f32", &err);
    CHECK(err);
    cl_kernel ka = clCreateKernel(p, f64 ? "softmax_piece_apply_f64" : "softmax_piece_apply_f32", &err);
    CHECK(err);
    const long len = 50;
    const long starts[3] = {0, 16, 32}, lens[3] = {16, 16, 18};
    size_t es = f64 ? 8 : 4;
    unsigned seed = 5u;
    double xs[50];
    void* hx = malloc(len * es);
    for (long i = 0; i < len; i++) {
        xs[i] = ((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0 * 20.0 - 10.0;
        if (f64) {
            ((double*)hx)[i] = xs[i];
        } else {
            ((float*)hx)[i] = (float)xs[i];
            xs[i] = (float)xs[i];
        }
    }
    double st[6];
    cl_mem bst = buf(sizeof st, NULL);
    for (cl_ulong piece = 0; piece < 3; piece++) {
        cl_mem bx = buf(lens[piece] * es, (char*)hx + starts[piece] * es);
        cl_ulong n = (cl_ulong)lens[piece];
        ARG(ks, 0, bx);
        ARG(ks, 1, n);
        ARG(ks, 2, bst);
        ARG(ks, 3, piece);
        LOCAL(ks, 4, local * sizeof(double));
        launch(ks, local, local);
        release_later(bx);
    }
    get(bst, st, sizeof st);
    double m = -INFINITY, sum = 0, hm = -INFINITY, hs = 0;
    for (int q = 0; q < 3; q++) {
        m = st[2 * q] > m ? st[2 * q] : m;
    }
    for (int q = 0; q < 3; q++) {
        sum += st[2 * q + 1] * exp(st[2 * q] - m);
    }
    for (long i = 0; i < len; i++) {
        hm = xs[i] > hm ? xs[i] : hm;
    }
    for (long i = 0; i < len; i++) {
        hs += exp(xs[i] - hm);
    }
    expect("softmax_long max", 0, m, hm, 0);
    expect("softmax_long sum", 0, sum, hs, 1e-14);
    double log_s = log(sum);
    for (int log_mode = 0; log_mode < 2; log_mode++) {
        for (int piece = 0; piece < 3; piece++) {
            cl_mem bx = buf(lens[piece] * es, (char*)hx + starts[piece] * es), by = buf(lens[piece] * es, NULL);
            cl_ulong base = 0, n = (cl_ulong)lens[piece];
            int mode = 0;
            ARG(ka, 0, bx);
            ARG(ka, 1, by);
            ARG(ka, 3, n);
            ARG(ka, 4, m);
            ARG(ka, 5, sum);
            ARG(ka, 6, log_s);
            ARG(ka, 7, log_mode);
            ARG(ka, 8, mode);
            for (base = 0; base < n; base += local) {
                ARG(ka, 2, base);
                launch(ka, local, local);
            }
            void* out = malloc(lens[piece] * es);
            get(by, out, lens[piece] * es);
            for (long i = 0; i < lens[piece]; i++) {
                double x = xs[starts[piece] + i];
                double ref = log_mode ? x - hm - log(hs) : exp(x - hm) / hs;
                double got = f64 ? ((double*)out)[i] : ((float*)out)[i];
                expect(log_mode ? "softmax_long log apply" : "softmax_long apply", starts[piece] + i, got, ref,
                       f64 ? 1e-12 : 1e-6);
            }
            free(out);
            release_later(bx);
            release_later(by);
        }
    }
    /* backward: dot per piece (sum of dy * p, or of dy), then dx = p (dy - dot) or dy - p dot */
    cl_kernel kd = clCreateKernel(p, f64 ? "softmax_piece_dot_f64" : "softmax_piece_dot_f32", &err);
    CHECK(err);
    cl_kernel kb = clCreateKernel(p, f64 ? "softmax_piece_bwd_f64" : "softmax_piece_bwd_f32", &err);
    CHECK(err);
    double gs[50];
    void* hg = malloc(len * es);
    for (long i = 0; i < len; i++) {
        gs[i] = 0.25 + (i % 7) * 0.125;
        if (f64) {
            ((double*)hg)[i] = gs[i];
        } else {
            ((float*)hg)[i] = (float)gs[i];
        }
    }
    for (int log_mode = 0; log_mode < 2; log_mode++) {
        double dots[3], hdot = 0, dot = 0;
        cl_mem bdots = buf(sizeof dots, NULL);
        for (cl_ulong piece = 0; piece < 3; piece++) {
            cl_mem bx = buf(lens[piece] * es, (char*)hx + starts[piece] * es);
            cl_mem bg = buf(lens[piece] * es, (char*)hg + starts[piece] * es);
            cl_ulong n = (cl_ulong)lens[piece];
            ARG(kd, 0, bx);
            ARG(kd, 1, bg);
            ARG(kd, 2, n);
            ARG(kd, 3, m);
            ARG(kd, 4, sum);
            ARG(kd, 5, log_mode);
            ARG(kd, 6, bdots);
            ARG(kd, 7, piece);
            LOCAL(kd, 8, local * sizeof(double));
            launch(kd, local, local);
            release_later(bx);
            release_later(bg);
        }
        get(bdots, dots, sizeof dots);
        release_later(bdots);
        for (int q = 0; q < 3; q++) {
            dot += dots[q];
        }
        for (long i = 0; i < len; i++) {
            hdot += log_mode ? gs[i] : gs[i] * exp(xs[i] - hm) / hs;
        }
        expect(log_mode ? "softmax_long log dot" : "softmax_long dot", 0, dot, hdot, 1e-13);
        for (int piece = 0; piece < 3; piece++) {
            cl_mem bx = buf(lens[piece] * es, (char*)hx + starts[piece] * es);
            cl_mem bg = buf(lens[piece] * es, (char*)hg + starts[piece] * es);
            cl_mem bo = buf(lens[piece] * es, NULL);
            cl_ulong base, n = (cl_ulong)lens[piece];
            int mode = 0;
            ARG(kb, 0, bx);
            ARG(kb, 1, bg);
            ARG(kb, 2, bo);
            ARG(kb, 4, n);
            ARG(kb, 5, m);
            ARG(kb, 6, sum);
            ARG(kb, 7, dot);
            ARG(kb, 8, log_mode);
            ARG(kb, 9, mode);
            for (base = 0; base < n; base += local) {
                ARG(kb, 3, base);
                launch(kb, local, local);
            }
            void* out = malloc(lens[piece] * es);
            get(bo, out, lens[piece] * es);
            for (long i = 0; i < lens[piece]; i++) {
                long j = starts[piece] + i;
                double pj = exp(xs[j] - hm) / hs;
                double ref = log_mode ? gs[j] - pj * hdot : pj * (gs[j] - hdot);
                double got = f64 ? ((double*)out)[i] : ((float*)out)[i];
                expect(log_mode ? "softmax_long log bwd" : "softmax_long bwd", j, got, ref, f64 ? 1e-12 : 1e-6);
            }
            free(out);
            release_later(bx);
            release_later(bg);
            release_later(bo);
        }
    }
    free(hg);
    clReleaseKernel(kd);
    clReleaseKernel(kb);
    release_later(bst);
    free(hx);
    clReleaseKernel(ks);
    clReleaseKernel(ka);
}

int main(int argc, char** argv) {
    f32_only = getenv("SOMA_CL_F32_ONLY") != NULL && strcmp(getenv("SOMA_CL_F32_ONLY"), "0") != 0;
    if (f32_only) {
        f32_tol = 2e-3;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: soma_cl_check check|accuracy <opencl-dir>\n");
        return 2;
    }
    cl_platform_id plats[8];
    cl_uint np = 0;
    CHECK(clGetPlatformIDs(8, plats, &np));
    const char* want = getenv("SOMA_CL_DEVICE");
    int found = 0;
    for (cl_uint pi = 0; pi < np && !found; pi++) {
        cl_device_id devs[8];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, 8, devs, &nd) != CL_SUCCESS) {
            continue;
        }
        for (cl_uint di = 0; di < nd && !found; di++) {
            char nm[256];
            CHECK(clGetDeviceInfo(devs[di], CL_DEVICE_NAME, sizeof nm, nm, NULL));
            if (!want || strstr(nm, want)) {
                dev = devs[di];
                found = 1;
                fprintf(stderr, "device: %s\n", nm);
            }
        }
    }
    if (!found) {
        fprintf(stderr, "no OpenCL device%s%s\n", want ? " matching " : "", want ? want : "");
        return 2;
    }
    cl_int err;
    ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK(err);
    queue = clCreateCommandQueue(ctx, dev, 0, &err);
    CHECK(err);
    if (strcmp(argv[1], "accuracy") == 0) {
        accuracy(argv[2]);
    } else {
        size_t local = 8;
        cl_program pe = build(argv[2], "elementwise.cl", "");
        cl_program pp = build(argv[2], "prelu.cl", "");
        cl_program ps = build(argv[2], "softmax.cl", "");
        cl_program pm = build(argv[2], "multi.cl", "");
        cl_program pl = build(argv[2], "softmax_long.cl", "");
        for (int f64 = 0; f64 < (f32_only ? 1 : 2); f64++) {
            check_elementwise(pe, f64, local, -1);
            check_prelu(pp, f64, local);
            check_softmax(ps, f64, local);
            check_multi(pm, f64, local);
            if (!f32_only) {
                check_softmax_long(pl, f64, local); /* needs fp64: the statistics are doubles */
            }
        }
        for (int op = 0; op < SOMA_OP_SOFTMAX; op++) {
            if (op != SOMA_OP_PRELU) {
                char def[64];
                snprintf(def, sizeof def, "-DSOMA_FIXED_OP=%d", op);
                cl_program pf = build(argv[2], "elementwise.cl", def);
                check_elementwise(pf, 0, local, op);
                if (!f32_only) {
                    check_elementwise(pf, 1, local, op);
                }
                clReleaseProgram(pf);
            }
        }
        release_all();
        clReleaseProgram(pe);
        clReleaseProgram(pp);
        clReleaseProgram(ps);
        clReleaseProgram(pm);
        clReleaseProgram(pl);
        printf(failures ? "soma_cl_check: %d mismatches\n" : "soma_cl_check: all kernels agree with the host reference\n",
               failures);
    }
    release_all();
    clReleaseCommandQueue(queue);
    clReleaseContext(ctx);
    return failures ? 1 : 0;
}
