// The one translation unit nvcc compiles into soma.fatbin: every kernel family is included here so
// that a single module holds every kernel the Java side looks up by name (cuModuleGetFunction).
// Each family lives in its own header; the per-element math comes from opencl/include/soma_math.h,
// shared with the OpenCL kernels so that the PoCL tests check the math these kernels run.
// CUDA always has double precision: ask the shared header for its float64 functions too.
#ifndef SOMA_FP64
#define SOMA_FP64 1
#endif
#include "soma_math.h"
#include "common.cuh"
#include "elementwise.cuh"
#include "prelu.cuh"
#include "softmax_common.cuh"
#include "softmax_warp.cuh"
#include "softmax_block.cuh"
#include "softmax_strided.cuh"
#include "multi.cuh"
#include "softmax_long.cuh"
