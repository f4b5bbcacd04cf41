/* ea_dequantize_bf16__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is dequantize-bf16.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_dequantize_bf16__neon
#include "dequantize-bf16.h"
