/*
 * Many small tensors in one launch (the optimizer and per-layer case): the tensors are slices of
 * one input buffer and one output buffer, cut into blocks of at most a few thousand elements, and
 * a table lists each block as three ulongs (input offset, output offset, length), in elements.
 * Work-group g takes block base + g; its work-items stride over the block. Elementwise ops only:
 * the op code is uniform across the launch, and no element depends on another.
 */
#include "soma_kernel_common.h"

__kernel void soma_multi_fwd_f32(__global const float* x, __global float* y, __global const ulong* table,
                                 ulong base, ulong blocks, int op, float alpha, float beta, float threshold) {
    ulong b = base + get_group_id(0);
    if (b >= blocks) {
        return;
    }
    ulong xo = table[3 * b];
    ulong yo = table[3 * b + 1];
    ulong len = table[3 * b + 2];
    for (ulong i = get_local_id(0); i < len; i += get_local_size(0)) {
        y[yo + i] = soma_fwd_f(op, x[xo + i], alpha, beta, threshold);
    }
}

/* Backward: dy sits at the input offsets, like x; dx at the output offsets. */
__kernel void soma_multi_bwd_f32(__global const float* x, __global const float* dy, __global float* dx,
                                 __global const ulong* table, ulong base, ulong blocks, int op, float alpha,
                                 float beta, float threshold) {
    ulong b = base + get_group_id(0);
    if (b >= blocks) {
        return;
    }
    ulong xo = table[3 * b];
    ulong yo = table[3 * b + 1];
    ulong len = table[3 * b + 2];
    for (ulong i = get_local_id(0); i < len; i += get_local_size(0)) {
        dx[yo + i] = soma_bwd_f(op, x[xo + i], dy[xo + i], alpha, beta, threshold);
    }
}

#ifdef SOMA_FP64
__kernel void soma_multi_fwd_f64(__global const double* x, __global double* y, __global const ulong* table,
                                 ulong base, ulong blocks, int op, double alpha, double beta, double threshold) {
    ulong b = base + get_group_id(0);
    if (b >= blocks) {
        return;
    }
    ulong xo = table[3 * b];
    ulong yo = table[3 * b + 1];
    ulong len = table[3 * b + 2];
    for (ulong i = get_local_id(0); i < len; i += get_local_size(0)) {
        y[yo + i] = soma_fwd_d(op, x[xo + i], alpha, beta, threshold);
    }
}

__kernel void soma_multi_bwd_f64(__global const double* x, __global const double* dy, __global double* dx,
                                 __global const ulong* table, ulong base, ulong blocks, int op, double alpha,
                                 double beta, double threshold) {
    ulong b = base + get_group_id(0);
    if (b >= blocks) {
        return;
    }
    ulong xo = table[3 * b];
    ulong yo = table[3 * b + 1];
    ulong len = table[3 * b + 2];
    for (ulong i = get_local_id(0); i < len; i += get_local_size(0)) {
        dx[yo + i] = soma_bwd_d(op, x[xo + i], dy[xo + i], alpha, beta, threshold);
    }
}
#endif
