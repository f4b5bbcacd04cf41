/* ea_gemm_f16_f32__neondot: ARMv8.2 dotprod (sdot); the body is gemm-f16-f32.h. */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_DOTPROD)
#error "needs dotprod"
#endif
#define EA_FN ea_gemm_f16_f32__neondot
#include "gemm-f16-f32.h"
