/* ea_gemm_q5_1_q8_1__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is gemm-q5_1-q8_1.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_gemm_q5_1_q8_1__neon
#include "gemm-q5_1-q8_1.h"
