/* ea_gemm_q5_1_q8_1__neondot: ARMv8.2 dotprod (sdot); the body is gemm-q5_1-q8_1.h. */
#if !defined(__aarch64__) || !defined(__ARM_FEATURE_DOTPROD)
#error "needs dotprod"
#endif
#define EA_FN ea_gemm_q5_1_q8_1__neondot
#include "gemm-q5_1-q8_1.h"
