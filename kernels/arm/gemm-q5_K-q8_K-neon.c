/* ea_gemm_q5_K_q8_K__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is gemm-q5_K-q8_K.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_gemm_q5_K_q8_K__neon
#include "gemm-q5_K-q8_K.h"
