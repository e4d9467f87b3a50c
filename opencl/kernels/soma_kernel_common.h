/*
 * soma_kernel_common.h: what every Soma OpenCL kernel file shares: the per-element math, the
 * accumulator type and the local-memory reductions. Included once per .cl file.
 */
#ifndef SOMA_KERNEL_COMMON_H
#define SOMA_KERNEL_COMMON_H

#include "soma_math.h"

#define SOMA_CAT2(a, b) a##b
#define SOMA_CAT(a, b) SOMA_CAT2(a, b)

/*
 * Reductions over float32 data (softmax sums, PReLU's dw) accumulate in double when the device
 * has it: the result then stays within 1e-6 of a float64 reference at any row length. Without
 * fp64 they accumulate in float through local-memory trees (error grows with log n, not n).
 */
#ifdef SOMA_FP64
typedef double soma_acc_f32;
#else
typedef float soma_acc_f32;
#endif

/* max that propagates NaN: a NaN anywhere makes the result NaN (softmax's NaN-row rule). */
#define SOMA_MAXNAN(a, b) (((a) > (b) || isnan(a)) ? (a) : (b))

#endif
