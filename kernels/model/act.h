/* Gated activations of the decode step's feed-forward, four lanes at a time on every architecture.
 *
 * SiLU takes one exp per feed-forward row and layer: 1536 x 30 = 46k per token for SmolLM2, which
 * with libm's scalar expf was ~3% of a token on one thread. */
#ifndef EDGEAI_MODEL_ACT_H
#define EDGEAI_MODEL_ACT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* g[i] = silu(g[i]) * u[i] = (g[i] / (1 + e^-g[i])) * u[i] for i < n, in place; each operation
 * rounded as written, e^x from vexp.h (relative error < 3e-7). Identical bits on every
 * architecture, for any n or alignment.
 *
 * Args:
 *   g: n gate values, overwritten with the result.
 *   u: n up-projection values.
 *   n: count (>= 0). */
void ea_silu_mul(float *g, const float *u, int64_t n);

/* ea_silu_mul through the code of one ISA (EA_ISA_REF: the portable code; EA_ISA_AVX2,
 * EA_ISA_AVX512VNNI: kernels/x86/silu_mul-f32-*.c, same bits), for tests and benchmarks. ea_silu_mul
 * runs the best of them the CPU and EDGEAI_ISA allow. isa is an ea_isa (edgeai_kernels.h).
 * Returns EA_OK, or EA_ERR_NOKERNEL when this build or CPU has no such code. */
int ea_silu_mul_isa(int isa, float *g, const float *u, int64_t n);

#ifdef __cplusplus
}
#endif

#endif
