/* Softmax and log-softmax along any axis, forward and backward, float32 and float64. */
#include "soma_kernel_common.h"

#define T float
#define ACC soma_acc_f32
#define SFX f32
#include "softmax_impl.clh"
#undef T
#undef ACC
#undef SFX

#ifdef SOMA_FP64
#define T double
#define ACC double
#define SFX f64
#include "softmax_impl.clh"
#undef T
#undef ACC
#undef SFX
#endif
