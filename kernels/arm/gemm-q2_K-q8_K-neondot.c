/* ea_gemm_q2_K_q8_K__neondot: ARMv8.2 dotprod (sdot); the body is gemm-q2_K-q8_K.h. */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_DOTPROD)
#error "needs dotprod"
#endif
#define EA_FN ea_gemm_q2_K_q8_K__neondot
#include "gemm-q2_K-q8_K.h"
