/* ea_gemm_q5_0_q8_0__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is gemm-q5_0-q8_0.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_gemm_q5_0_q8_0__neon
#include "gemm-q5_0-q8_0.h"
