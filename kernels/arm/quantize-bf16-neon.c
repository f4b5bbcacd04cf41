/* ea_quantize_bf16__neon: ARMv8.0 NEON (widening multiplies, no dotprod); the body is quantize-bf16.h. */
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "needs AArch64 Advanced SIMD"
#endif
#define EA_FN ea_quantize_bf16__neon
#include "quantize-bf16.h"
