/* RMSNorm of one row, shared by the C decode step and the prefill (bindings/llm.cpp), so both norm
 * a row to the same bits. */
#ifndef EDGEAI_MODEL_NORM_H
#define EDGEAI_MODEL_NORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* o[i] = x[i] * (1 / sqrt(mean(x^2) + eps)) * w[i] for i < n; the mean of squares is summed in
 * double (four partial sums over i % 4), the scale rounded to float once. o may be x.
 *
 * Args:
 *   o: n outputs; x: n inputs; w: n weights; n >= 1; eps: added to the mean square. */
void ea_rmsnorm(float *o, const float *x, const float *w, int64_t n, float eps);

#ifdef __cplusplus
}
#endif
#endif
