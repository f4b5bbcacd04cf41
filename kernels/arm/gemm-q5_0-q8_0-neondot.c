/* ea_gemm_q5_0_q8_0__neondot: ARMv8.2 dotprod (sdot); the body is gemm-q5_0-q8_0.h. */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_DOTPROD)
#error "needs dotprod"
#endif
#define EA_FN ea_gemm_q5_0_q8_0__neondot
#include "gemm-q5_0-q8_0.h"
