/* y = x @ W^T + bias for edgeai.onnx's MatMul / Gemm op (linear.c). */
#ifndef EDGEAI_NN_LINEAR_H
#define EDGEAI_NN_LINEAR_H

#include <stdint.h>
#include "../edgeai_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y[m, n] = x[m, k] @ W[n, kp]^T + bias[n]: x's rows are scaled by the activation prescale
 * (ea_act_prescale, undone on y) and zero-padded to kp, a multiple of wtype's block size.
 * bias may be NULL. Returns EA_OK or an EA_ERR_* code. */
int ea_linear(ea_type wtype, const void *w, int64_t n, int64_t k, int64_t kp, const float *x, int64_t m,
              const float *bias, float *y, int nthreads);

#ifdef __cplusplus
}
#endif
#endif
